"""``python -m emulator``: run the offline Web PubSub for Socket.IO emulator (see docs/emulator.md)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from ._config import ConfigError, build_parser, config_from_args
from ._server import configure_logging, serve


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (requirements-dev.txt): its transports write and poll in C, which is most of a
    fan-out's cost (docs/performance.md); the standard loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    configure_logging(args.log_level)
    try:
        asyncio.run(serve(config, log_level=args.log_level), loop_factory=_loop_factory())
    except OSError as exc:
        print(f"emulator: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
