"""The emulator's listening socket is created with IPPROTO_TCP, so asyncio sets TCP_NODELAY on every accepted
connection (without it a reply written as headers + body waited ~40 ms for the peer's delayed ACK)."""

from __future__ import annotations

import asyncio
import socket

from emulator._server import _bind


async def test_accepted_connections_have_tcp_nodelay() -> None:
    listening = _bind("127.0.0.1", 0)
    assert listening.proto == socket.IPPROTO_TCP
    accepted: asyncio.Queue[int] = asyncio.Queue()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.put_nowait(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connect, sock=listening)
    async with server:
        _, writer = await asyncio.open_connection("127.0.0.1", listening.getsockname()[1])
        assert await asyncio.wait_for(accepted.get(), 5) != 0
        writer.close()
