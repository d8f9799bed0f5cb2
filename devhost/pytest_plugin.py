"""pytest fixtures to test Socket.IO Functions end to end: Azurite + emulator + dev host, and real clients.

Enable it in your ``conftest.py`` with ``pytest_plugins = ["devhost.pytest_plugin"]``. Then::

    async def test_join(sioless_connect):
        alice = await sioless_connect("alice")                  # negotiate + python-socketio AsyncClient
        assert await alice.call("join", ("lobby", "alice"), timeout=5) == {"ok": True, "room": "lobby"}

Fixtures:

- ``sioless_stack`` (session): a :class:`devhost.stack.Stack` for the app in ``--sioless-app-dir`` (ini
  ``sioless_app_dir``, default: the pytest rootdir) on ephemeral ports, Azurite in memory; with
  ``--sioless-instances N`` (ini ``sioless_instances``) N dev host instances behind one front.
  ``.devhost_url``, ``.emulator_url``, ``.connection_string``, ``.storage``, ``.outputs()``, ``.instance_pids()``.
- ``sioless_stack_factory`` (session): ``start(app_dir, **Stack options)`` for more stacks (another app, a
  short ``function_timeout``); each is stopped at the end of the session.
- ``sioless_negotiate`` (function): ``negotiate(user_id=None, url=None)`` -> ``{"endpoint","path","token"}``
  from the app's ``/api/chat/negotiate`` (``/api/<hub>/negotiate``, the samples' convention; pass ``url`` for
  another stack).
- ``sioless_connect`` (function, async): ``await connect(user_id=None, *, stack=None, namespace="/",
  transports=None, negotiate_path="/api/chat/negotiate")`` -> a connected ``socketio.AsyncClient``; every client is
  disconnected after the test. A refused connect raises ``socketio.exceptions.ConnectionError``.

Processes are stopped by their own PIDs; when a test fails, the stack's output is in the captured log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from .stack import Stack

log = logging.getLogger("devhost.pytest")

StackFactory = Callable[..., Stack]
Negotiate = Callable[..., dict[str, Any]]
Connect = Callable[..., Awaitable[socketio.AsyncClient]]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sioless", "sioless offline stack")
    group.addoption("--sioless-app-dir", default=None, help="folder with function_app.py (default: rootdir)")
    group.addoption("--sioless-no-azurite", action="store_true", help="do not start Azurite for sioless_stack")
    group.addoption(
        "--sioless-instances",
        type=int,
        default=None,
        help="dev host instances behind one front for sioless_stack (default 1, or ini sioless_instances)",
    )
    parser.addini("sioless_app_dir", "folder with function_app.py for sioless_stack (default: rootdir)")
    parser.addini("sioless_instances", "dev host instances for sioless_stack (default 1)")


def _dump(stack: Stack) -> None:
    for name, lines in stack.outputs().items():
        log.info("---- %s output (last 40 lines) ----\n%s", name, "\n".join(lines[-40:]))


@pytest.fixture(scope="session")
def sioless_stack_factory() -> Iterator[StackFactory]:
    stacks: list[Stack] = []

    def start(app_dir: str | Path, **options: Any) -> Stack:
        stack = Stack(app_dir=Path(app_dir).resolve(), **options)
        stacks.append(stack)
        return stack.start()

    yield start
    for stack in reversed(stacks):
        stack.stop()


@pytest.fixture(scope="session")
def sioless_stack(request: pytest.FixtureRequest, sioless_stack_factory: StackFactory) -> Stack:
    config = request.config
    app_dir = config.getoption("--sioless-app-dir") or config.getini("sioless_app_dir") or str(config.rootpath)
    azurite = None if config.getoption("--sioless-no-azurite") else (0, 0, 0)
    return sioless_stack_factory(app_dir, azurite_ports=azurite, instances=instances_option(config))


def instances_option(config: pytest.Config) -> int:
    """``--sioless-instances``, else ini ``sioless_instances``, else 1."""
    value = config.getoption("--sioless-instances") or config.getini("sioless_instances") or 1
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise pytest.UsageError(f"sioless instances must be a whole number >= 1, got {value!r}")
    return count


def negotiate(base_url: str, user_id: str | None = None, path: str = "/api/chat/negotiate") -> dict[str, Any]:
    params = {"userId": user_id} if user_id else {}
    response = httpx.get(f"{base_url}{path}", params=params, timeout=10)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def sioless_negotiate(sioless_stack: Stack) -> Negotiate:
    def run(user_id: str | None = None, url: str | None = None) -> dict[str, Any]:
        return negotiate(url or sioless_stack.devhost_url, user_id)

    return run


async def connect_client(
    base_url: str,
    user_id: str | None = None,
    *,
    namespace: str = "/",
    transports: list[str] | None = None,
    negotiate_path: str = "/api/chat/negotiate",
    timeout: float = 5.0,
) -> socketio.AsyncClient:
    """Negotiate at ``base_url`` and connect a python-socketio client the way the browser page does."""
    result = negotiate(base_url, user_id, negotiate_path)
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        f"{result['endpoint']}?access_token={result['token']}",
        socketio_path=result["path"],
        namespaces=[namespace],
        transports=transports,
        wait_timeout=timeout,
    )
    return client


@pytest.fixture
async def sioless_connect(request: pytest.FixtureRequest) -> AsyncIterator[Connect]:
    clients: list[socketio.AsyncClient] = []

    async def connect(
        user_id: str | None = None, *, stack: Stack | None = None, **options: Any
    ) -> socketio.AsyncClient:
        target = stack or request.getfixturevalue("sioless_stack")
        client = await connect_client(target.devhost_url, user_id, **options)
        clients.append(client)
        return client

    yield connect
    await asyncio.gather(*(close_client(client) for client in clients))


async def close_client(client: socketio.AsyncClient, timeout: float = 1.0) -> None:
    """Disconnect politely, then abort: a long-polling client can otherwise wait a whole ping interval."""
    try:
        await asyncio.wait_for(client.disconnect(), timeout)
    except (TimeoutError, Exception):
        await client.eio.disconnect(abort=True)
