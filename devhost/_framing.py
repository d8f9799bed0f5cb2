"""Frames on the host <-> worker channel: a 4-byte big-endian length, then one serialized ``StreamingMessage``.

The real host speaks gRPC to its worker; the dev host and its worker process share a socket pair instead, so
the framing is ours while the messages are the protocol's (devhost._protos).
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from . import _protos

_HEADER = struct.Struct(">I")
# A frame holds one message, e.g. an HTTP body; the host refuses bigger requests long before this.
MAX_FRAME = 256 * 1024 * 1024


def encode_frame(message: Any) -> bytes:
    payload = message.SerializeToString()
    return _HEADER.pack(len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> Any | None:
    """The next ``StreamingMessage``, or None at end of stream (the other side is gone)."""
    try:
        header = await reader.readexactly(_HEADER.size)
        (size,) = _HEADER.unpack(header)
        if size > MAX_FRAME:
            raise ValueError(f"frame of {size} bytes exceeds {MAX_FRAME}")
        payload = await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return _protos.StreamingMessage.FromString(payload)
