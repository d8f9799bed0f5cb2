"""The event loop every dev host process runs on: uvloop when installed (requirements-dev.txt), else asyncio's.

The dev host mostly moves bytes (webhooks in, worker frames, REST calls out) and wakes up from threads, which
uvloop does in C: about half the per-invocation cost of the standard loop (docs/performance.md). Nothing
depends on it: without uvloop the standard loop runs the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["loop_factory"]


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """For ``asyncio.run(..., loop_factory=...)``: uvloop's loop, or ``None`` (asyncio's default)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
