"""ASGI plumbing of the emulator's own routes (the Engine.IO routes are python-engineio's ASGI app): the type
aliases, and reading a request body up to a limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLarge(ValueError):
    """The request body is longer than the route accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body exceeds {limit} bytes")
        self.limit = limit


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body (empty when the client went away), or ``BodyTooLarge`` past ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


__all__ = ["BodyTooLarge", "Message", "Receive", "Scope", "Send", "read_body"]
