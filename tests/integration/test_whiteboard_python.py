"""The whiteboard (functions/whiteboard.py) through Azurite + emulator + dev host, with python-socketio clients.

One stack for the module, with Azurite on disk so it can be stopped and started again (storage outage test).
"""

from __future__ import annotations

import asyncio
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from devhost.pytest_plugin import close_client, connect_client
from devhost.stack import Stack
from tests.fixtures.inbox import Inbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NEGOTIATE = "/api/whiteboard/negotiate"


def png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest, sioless_stack_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """One dev host, or three behind a front for the tests parametrized with ``stack`` = 3 (indirect)."""
    instances = getattr(request, "param", 1)
    yield sioless_stack_factory(ROOT, azurite_location=tmp_path_factory.mktemp("azurite"), instances=instances)


@pytest.fixture
async def clients(stack: Stack) -> Any:
    made: list[socketio.AsyncClient] = []

    async def connect() -> socketio.AsyncClient:
        client = await connect_client(stack.devhost_url, negotiate_path=NEGOTIATE)
        made.append(client)
        return client

    yield connect
    await asyncio.gather(*(close_client(c) for c in made))


def diagram(stack: Stack) -> dict[str, Any]:
    response = httpx.get(f"{stack.devhost_url}/api/diagram", timeout=10)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def new_id() -> str:
    return os.urandom(6).hex()


@pytest.mark.parametrize("stack", [1, 3], indirect=True)
async def test_shapes_flow_persist_and_are_removed(stack: Stack, clients: Any) -> None:
    alice, bob = await clients(), await clients()
    inbox = Inbox(bob)
    line_id, poly_id, stored_id = new_id(), new_id(), new_id()
    line = {"kind": "line", "color": "red", "width": 4, "data": [1, 2, 30, 40]}
    assert await alice.call("updateShape", ["alice", line_id, line], timeout=5) == {"ok": True}
    assert await inbox.wait("updateShape") == (["alice", line_id, line],)

    poly = {"kind": "polyline", "color": "#00f", "width": 2, "data": [0, 0, 5, 5]}
    await alice.call("updateShape", ["alice", poly_id, poly], timeout=5)
    assert await alice.call("patchShape", ["alice", poly_id, [6, 6, 7.5, 8]], timeout=5) == {"ok": True}
    assert await inbox.wait("patchShape") == (["alice", poly_id, [6, 6, 7.5, 8]],)
    # addShape stores without relaying (the original's semantics).
    circle = {"kind": "circle", "color": "green", "width": 1, "data": [50, 50, 10]}
    assert await alice.call("addShape", [stored_id, circle], timeout=5) == {"ok": True}

    shapes = diagram(stack)["shapes"]
    assert shapes[line_id] == line and shapes[stored_id] == circle
    assert shapes[poly_id] == poly, "patches are relayed, not stored: the stroke's final updateShape stores it"
    assert list(shapes).index(line_id) < list(shapes).index(stored_id), "diagram keeps drawing order"

    assert await alice.call("removeShape", ["alice", line_id], timeout=5) == {"ok": True}
    assert await inbox.wait("removeShape") == (["alice", line_id],)
    assert line_id not in diagram(stack)["shapes"]
    assert await alice.call("removeShape", ["alice", line_id], timeout=5) == {"error": f"unknown shape id {line_id!r}"}

    alice_inbox = Inbox(alice)
    assert await bob.call("newMessage", ["bob", "Bob", "hi"], timeout=5) == {"ok": True}
    assert await alice_inbox.wait("newMessage") == (["bob", "Bob", "hi"],)
    assert [args for args in inbox.named("updateShape") if args[0][1] == stored_id] == []
    assert inbox.named("newMessage") == [], "relays exclude the sender"


async def test_long_polyline_is_split_across_properties(stack: Stack, clients: Any) -> None:
    alice = await clients()
    shape_id = new_id()
    data = [float(i % 1000) + 0.25 for i in range(2 * 9_000)]  # ~130,000 characters of JSON: 5 properties
    shape = {"kind": "polyline", "color": "black", "width": 1, "data": data}
    assert await alice.call("updateShape", ["alice", shape_id, shape], timeout=10) == {"ok": True}
    assert diagram(stack)["shapes"][shape_id]["data"] == data


@pytest.mark.parametrize(
    ("event", "message", "error"),
    [
        (
            "updateShape",
            ["a", "id1", {"kind": "star", "color": "red", "width": 1, "data": [1, 2]}],
            "unknown shape kind",
        ),
        ("updateShape", ["a", "id1", {"kind": "rect", "color": "red", "width": 1, "data": [1, 2, 3]}], "has 4 numbers"),
        ("updateShape", ["a", "id1", {"kind": "line", "color": "red", "width": 1, "data": [1, 2, 3, "x"]}], "numbers"),
        ("updateShape", ["a", "id1", {"kind": "line", "color": "red;", "width": 1, "data": [1, 2, 3, 4]}], "color"),
        ("updateShape", ["a", "id1", {"kind": "line", "color": "red", "width": 0, "data": [1, 2, 3, 4]}], "width"),
        ("updateShape", ["a", "../x", {"kind": "line", "color": "red", "width": 1, "data": [1, 2, 3, 4]}], "shape id"),
        ("updateShape", ["a", "id1"], "expects one array [author, id, shape]"),
        ("addShape", {"id": "x"}, "expects one array"),
        (
            "updateShape",
            ["a", "id1", {"kind": "polyline", "color": "red", "width": 1, "data": [1] * 20_002}],
            "polyline too long: 10001 points (at most 10000)",
        ),
        ("patchShape", ["a", "id1", [1, 2, 3]], "x, y pairs"),
        ("removeShape", ["a", "never-drawn"], "unknown shape id"),
        ("newMessage", ["a", "n", "x" * 1001], "longer than 1000"),
    ],
)
async def test_bad_input_gets_an_error_ack_and_changes_nothing(
    stack: Stack, clients: Any, event: str, message: Any, error: str
) -> None:
    alice, bob = await clients(), await clients()
    inbox = Inbox(bob)
    before = diagram(stack)
    ack = await alice.call(event, message, timeout=10)
    assert error in ack["error"], ack
    # Nothing stored, nothing relayed; the others keep working.
    assert diagram(stack) == before
    ok_id = new_id()
    shape = {"kind": "rect", "color": "black", "width": 1, "data": [1, 1, 9, 9]}
    assert await bob.call("updateShape", ["bob", ok_id, shape], timeout=5) == {"ok": True}
    await asyncio.sleep(0.1)
    assert [name for name, _ in inbox.events if name != "updateUser"] == []


async def test_background_upload_broadcast_and_download(stack: Stack, clients: Any) -> None:
    bob = await clients()
    inbox = Inbox(bob)
    url = stack.devhost_url
    image = png()
    response = httpx.post(f"{url}/api/background/upload", content=image, headers={"content-type": "image/png"})
    assert response.status_code == 200, response.text
    background_id = response.json()["id"]
    assert await inbox.wait("updateBackground") == (background_id,)
    assert diagram(stack)["background"] == background_id
    got = httpx.get(f"{url}/api/background/{background_id}")
    assert (got.status_code, got.headers["content-type"], got.content) == (200, "image/png", image)

    # Multipart (what the original page sends) works too.
    form = httpx.post(f"{url}/api/background/upload", files={"file": ("a.png", png(2, 2), "image/png")})
    assert form.status_code == 200, form.text

    refused = [
        (httpx.post(f"{url}/api/background/upload", content=b"<svg/>", headers={"content-type": "image/svg+xml"}), 415),
        (httpx.post(f"{url}/api/background/upload", content=b"", headers={"content-type": "image/png"}), 400),
        (httpx.post(f"{url}/api/background/upload", files={"other": ("a.png", image, "image/png")}), 400),
        (
            httpx.post(
                f"{url}/api/background/upload",
                content=image + b"\0" * (5 * 1024 * 1024),
                headers={"content-type": "image/png"},
                timeout=20,
            ),
            413,
        ),
        (httpx.get(f"{url}/api/background/{'0' * 32}"), 404),
        (httpx.get(f"{url}/api/background/not-an-id"), 400),
    ]
    for response, status in refused:
        assert response.status_code == status, response.text
        assert response.json()["error"]
    assert diagram(stack)["background"] == form.json()["id"]

    alice = await clients()
    shape = {"kind": "line", "color": "red", "width": 1, "data": [1, 2, 3, 4]}
    await alice.call("updateShape", ["alice", new_id(), shape], timeout=5)
    count = len(diagram(stack)["shapes"])
    assert await alice.call("clear", ["alice"], timeout=10) == {"ok": True, "removed": count}
    assert await inbox.wait("clear") == ("alice",)
    assert diagram(stack) == {"shapes": {}, "background": None}


async def test_forty_sockets_at_once_leave_the_user_count_exact(stack: Stack, clients: Any) -> None:
    from shared import configure_storage, presence

    configure_storage(stack.storage)
    try:
        observer = await clients()
        inbox = Inbox(observer)
        baseline = presence.count("whiteboard")
        crowd = await asyncio.gather(*(connect_client(stack.devhost_url, negotiate_path=NEGOTIATE) for _ in range(40)))
        assert presence.count("whiteboard") == baseline + 40
        await inbox.wait("updateUser", lambda count, *_: count == baseline + 40, timeout=10)

        await asyncio.gather(*(close_client(c) for c in crowd))
        deadline = asyncio.get_running_loop().time() + 10
        while presence.count("whiteboard") != baseline and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
        assert presence.count("whiteboard") == baseline
        await asyncio.sleep(0.5)  # let every updateUser arrive, in whatever order
        newest = max(inbox.named("updateUser"), key=lambda args: args[1])
        assert newest[0] == baseline, "the newest count a client keeps is exact"
    finally:
        configure_storage()


async def test_storage_outage_gives_clear_errors_and_recovers(stack: Stack, clients: Any) -> None:
    alice = await clients()
    before_id = new_id()
    shape = {"kind": "ellipse", "color": "purple", "width": 8, "data": [10, 10, 60, 40]}
    assert await alice.call("updateShape", ["alice", before_id, shape], timeout=5) == {"ok": True}
    stack.stop_azurite()
    try:
        ack = await alice.call("updateShape", ["alice", new_id(), shape], timeout=15)
        assert "storage is unavailable" in ack["error"], ack
        response = httpx.get(f"{stack.devhost_url}/api/diagram", timeout=15)
        assert response.status_code == 503 and "storage is unavailable" in response.json()["error"]
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect_client(stack.devhost_url, negotiate_path=NEGOTIATE)  # presence cannot record it: 503
    finally:
        stack.start_azurite()
    after_id = new_id()
    assert await alice.call("updateShape", ["alice", after_id, shape], timeout=10) == {"ok": True}
    shapes = diagram(stack)["shapes"]
    assert before_id in shapes and after_id in shapes
    await clients()  # connects again
