"""The direct frame writes' self-checks (emulator/_frames.py): installed where engineio is as expected, off with a
warning where it is not; uvicorn's check runs on a real protocol instance."""

from __future__ import annotations

import logging

import engineio
import pytest
import uvicorn

from emulator._frames import FrameWritingProtocol, RegisteringWebSocket, install, self_check


def test_install_replaces_the_websocket_driver_of_this_server_only() -> None:
    server = engineio.AsyncServer(async_mode="asgi")
    other = engineio.AsyncServer(async_mode="asgi")
    registry = install(server)
    assert registry == {} and registry is server.frame_writers
    assert server._async["websocket"] is RegisteringWebSocket
    assert other._async["websocket"] is not RegisteringWebSocket  # engineio's module table is untouched


def test_install_leaves_a_foreign_driver_alone_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    class Foreign:
        pass

    server = engineio.AsyncServer(async_mode="asgi")
    server._async = {**server._async, "websocket": Foreign}
    with caplog.at_level(logging.WARNING, logger="emulator.frames"):
        install(server)
    assert server._async["websocket"] is Foreign
    assert "direct frame writes are off" in caplog.text


async def test_uvicorn_self_check_passes_on_the_pinned_version() -> None:
    async def app(scope: object, receive: object, send: object) -> None:
        pass

    config = uvicorn.Config(app, ws=FrameWritingProtocol, log_config=None, lifespan="off")
    assert self_check(config) is None
    assert FrameWritingProtocol.enabled
    other = uvicorn.Config(app, ws="websockets-sansio", log_config=None, lifespan="off")
    assert self_check(other) == "uvicorn does not use FrameWritingProtocol for websockets"
