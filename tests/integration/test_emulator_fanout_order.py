"""Fan-out writes one pre-built frame directly to idle websockets (emulator/_frames.py) and queues it for the rest.
These tests pin that this never reorders a connection's packets and that every transport still gets everything:
numbered REST broadcasts, sent one after another (so the emulator handled each before the next), must reach every
client in order and without gaps, and every ack must keep its place among them, while the clients' acked events
(answered 50 ms late, so acks get queued while a socket is backed up) keep engineio's writers busy, half of the
websockets back up (small kernel send buffers and a low write high-water mark; node sockets that block their event
loop), polling clients read through long-polls and new clients upgrade mid-stream. Real python-socketio and node
socket.io-clients; the emulator runs in the test's loop so the test can see that both paths were taken."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from contextlib import AsyncExitStack
from typing import Any

import pytest
import socketio
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

from emulator import HubSettings
from emulator._frames import FrameWritingProtocol, text_frame
from emulator._packets import parse_sio
from tests.fixtures.emulator_fixtures import (  # noqa: F401  (fixtures)
    CLIENT_PATH,
    REPO,
    in_process,
    node_available,
    py_client,
    until,
    upstream,
)
from tests.fixtures.emulator_upstream import RecordingUpstream

pytestmark = pytest.mark.integration

NODE_SCRIPT = REPO / "tests" / "node" / "fanout_order.mjs"
PAD = "x" * 3000  # with a 4 KiB send buffer, every event is more than the kernel takes at once


class Watch:
    """One python-socketio client: what it received, in arrival order (``n<seq>``, ``a<k>``), and its marks."""

    def __init__(self, client: socketio.AsyncClient) -> None:
        self.client = client
        self.events: list[str] = []
        client.on("news", self._news)

    @property
    def sid(self) -> str:
        return str(self.client.eio.sid)

    def _news(self, payload: dict[str, Any]) -> None:
        self.events.append(f"n{payload['seq']}")

    async def mark(self, count: int, pace: float) -> None:
        for k in range(count):
            acked = asyncio.Event()

            def on_ack(*_: Any, k: int = k, acked: asyncio.Event = acked) -> None:
                self.events.append(f"a{k}")  # called as the ACK packet is handled, in order with "news"
                acked.set()

            await self.client.emit("mark", k, callback=on_ack)
            await asyncio.wait_for(acked.wait(), 20)
            await asyncio.sleep(pace)


class AckTimes:
    """Wraps the hub's ``_send`` (the path of acks: engineio's queue) to note, per connection and mark, how many
    numbered broadcasts had completed (their REST call answered) when the ack was queued. Broadcast ``c`` may
    have been delivered before or after; every later one was delivered after the ack, so it must arrive after."""

    def __init__(self, hub: Any) -> None:
        self.completed = 0
        self.at: dict[tuple[str, int], int] = {}
        original = hub._send

        async def send(conn: Any, text: str) -> None:
            if text.startswith("3"):
                k = json.loads(text.lstrip("3").lstrip("0123456789"))[0]["echo"][0]
                self.at[(conn.connection_id, k)] = self.completed
            await original(conn, text)

        hub._send = send

    def problems(self, sid: str, events: list[str], last: int, marks: int) -> list[str]:
        found = []
        seqs = [int(e[1:]) for e in events if e[0] == "n"]
        if not seqs or seqs[-1] != last or seqs != list(range(seqs[0], last + 1)):
            found.append(f"news not consecutive up to {last}: {seqs}")
        acks = [e for e in events if e[0] != "n"]
        if acks and acks != [f"a{k}" for k in range(marks)]:
            found.append(f"acks: {acks}")
        for position, event in enumerate(events):
            if event[0] != "a":
                continue
            completed = self.at[(sid, int(event[1:]))]
            before = {int(e[1:]) for e in events[:position] if e[0] == "n"}
            if any(seq > completed for seq in before):
                found.append(f"{event} (queued after broadcast {completed - 1} completed) came after {max(before)}")
            missing = {seq for seq in range(seqs[0] if seqs else 0, completed)} - before
            if missing:
                found.append(f"{event} overtook broadcasts {sorted(missing)}")
        return found


def _back_up(emu: Any) -> int:
    """Half of the emulator's websockets get a small kernel send buffer and a low high-water mark: they pause for
    back-pressure again and again, so their engineio writers hold packets while the others are written directly."""
    writers = list(emu.app.hub("chat").eio.frame_writers.values())
    for writer in writers[::2]:
        assert isinstance(writer, FrameWritingProtocol)
        writer.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        writer.transport.set_write_buffer_limits(high=8192)
    return len(writers[::2])


async def _python_clients(stack: AsyncExitStack, emu: Any, transports: list[str] | None, count: int) -> list[Watch]:
    watches = []
    for _ in range(count):
        client = await stack.enter_async_context(py_client(emu, transports=transports, wait_timeout=10))
        watches.append(Watch(client))
    return watches


async def _node(emu: Any, **cfg: Any) -> asyncio.subprocess.Process:
    cfg = {"url": emu.endpoint, "path": CLIENT_PATH.format(hub="chat"), **cfg}
    return await asyncio.create_subprocess_exec(
        "node",
        str(NODE_SCRIPT),
        json.dumps(cfg),
        cwd=str(REPO),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=dict(os.environ),
    )


async def _node_line(process: asyncio.subprocess.Process, kind: str, timeout: float = 30) -> dict[str, Any]:
    assert process.stdout is not None
    while True:
        raw = await asyncio.wait_for(process.stdout.readline(), timeout)
        if not raw:
            raise AssertionError(f"the node clients ended before {kind!r}")
        line = json.loads(raw)
        if line.get("type") == kind:
            return line


@pytest.mark.timeout(120)
@pytest.mark.skipif(not node_available(), reason="node and node_modules/socket.io-client are needed")
async def test_broadcasts_and_acks_keep_their_order_on_every_transport_under_back_pressure(
    upstream: RecordingUpstream,  # noqa: F811
) -> None:
    messages, marks, pace = 300, 20, 0.03
    hub = HubSettings("chat", url_template=upstream.url, allow_anonymous=True)
    upstream.rule("mark", delay=0.05)  # acks come while broadcasts go on, some while the socket is backed up
    try:
        await _order_under_back_pressure(hub, messages, marks, pace)
    finally:
        upstream.reset()


async def _order_under_back_pressure(hub: HubSettings, messages: int, marks: int, pace: float) -> None:
    async with in_process(None, hubs=(hub,)) as emu, AsyncExitStack() as stack:
        node = await _node(
            emu,
            clients=24,
            transports=["websocket"],
            marks=marks,
            window=1,
            paceMs=pace * 1000,
            blockEvery=500,
            blockMs=150,
        )
        try:
            websockets = await _python_clients(stack, emu, ["websocket"], 16)
            polling = await _python_clients(stack, emu, ["polling"], 4)
            await _node_line(node, "ready")
            assert _back_up(emu) >= 20
            state = emu.app.hub("chat")
            times = AckTimes(state)
            direct_before = state.direct_frames
            assert node.stdin is not None
            node.stdin.write(b"go\n")
            await node.stdin.drain()
            rest = WebPubSubServiceClient.from_connection_string(emu.connection_string, hub="chat")
            async with rest:
                markers = [asyncio.create_task(watch.mark(marks, pace)) for watch in websockets + polling]
                upgraders: list[Watch] = []
                for seq in range(messages):
                    if seq in (60, 150):  # new clients: polling first, then the upgrade, while broadcasts go on
                        upgraders += await _python_clients(stack, emu, None, 2)
                    packet = "42" + json.dumps(["news", {"seq": seq, "pad": PAD}])
                    await rest.send_to_all(packet, content_type="text/plain")
                    times.completed = seq + 1
                await asyncio.gather(*markers)
            node.stdin.write(f"finish {messages - 1}\n".encode())
            await node.stdin.drain()
            summary = await _node_line(node, "summary", timeout=40)
            watches = websockets + polling + upgraders
            await until(lambda: all(f"n{messages - 1}" in w.events for w in watches), timeout=20)
        finally:
            if node.returncode is None:
                node.kill()
            await node.wait()

        direct = state.direct_frames - direct_before
        deliveries = messages * (16 + 4 + 24)
        # both paths were taken: frames written directly, and packets queued behind others
        assert 0 < direct < deliveries, (direct, deliveries)
        for index, watch in enumerate(watches):
            assert times.problems(watch.sid, watch.events, messages - 1, marks) == [], f"python client {index}"
        for watch in websockets + polling:
            assert "n0" in watch.events and sum(e[0] == "a" for e in watch.events) == marks
        for watch in upgraders:
            assert watch.client.transport() == "websocket"
        for index, entry in enumerate(summary["sockets"]):
            assert entry["transport"] == "websocket"
            assert "n0" in entry["events"] and sum(e[0] == "a" for e in entry["events"]) == marks, f"node {index}"
            assert times.problems(entry["sid"], entry["events"], messages - 1, marks) == [], f"node {index}"


async def test_direct_frames_reach_websockets_only_and_the_self_check_passes(upstream: RecordingUpstream) -> None:  # noqa: F811
    """Pins the library internals emulator/_frames.py relies on (uvicorn, engineio, websockets as pinned): the
    self-check passes, an upgraded websocket is registered and gets the frame directly, a polling client is not
    registered and still gets the event, and a closed websocket leaves the registry."""
    hub = HubSettings("chat", url_template=upstream.url, allow_anonymous=True)
    async with in_process(None, hubs=(hub,)) as emu, AsyncExitStack() as stack:
        assert FrameWritingProtocol.enabled
        state = emu.app.hub("chat")
        (ws,) = await _python_clients(stack, emu, ["websocket"], 1)
        (poll,) = await _python_clients(stack, emu, ["polling"], 1)
        assert set(state.eio.frame_writers) == {ws.sid}
        rest = WebPubSubServiceClient.from_connection_string(emu.connection_string, hub="chat")
        async with rest:
            await rest.send_to_all('42["news",{"seq":0}]', content_type="text/plain")
        await until(lambda: ws.events == ["n0"] and poll.events == ["n0"])
        assert state.direct_frames == 1
        await ws.client.disconnect()
        await until(lambda: not state.eio.frame_writers)


async def test_a_packet_held_or_queued_for_the_writer_is_never_overtaken(upstream: RecordingUpstream) -> None:  # noqa: F811
    """The races the load test can only hit by chance, made certain: (1) a packet put on engineio's queue whose
    writer has not run yet; (2) a packet engineio's writer holds while uvicorn's flow control has paused the
    transport (the protocol's own ``pause_writing`` callback, as the transport calls it when its buffer is over
    the high-water mark); (3) such a packet right after ``resume_writing``, before the writer has run. Each time
    a broadcast follows at once; the client must get the earlier packet first, and no frame is written directly
    while the transport is paused."""
    hub = HubSettings("chat", url_template=upstream.url, allow_anonymous=True)
    async with in_process(None, hubs=(hub,)) as emu, AsyncExitStack() as stack:
        state = emu.app.hub("chat")
        (watch,) = await _python_clients(stack, emu, ["websocket"], 1)
        conn = state.connections[watch.sid]
        writer = state.eio.frame_writers[watch.sid]
        assert isinstance(writer, FrameWritingProtocol)
        targets = [conn]

        async def broadcast(seq: int) -> None:
            text = "2" + json.dumps(["news", {"seq": seq}])
            await state.deliver(targets, text, parse_sio(text))

        def queued(seq: int) -> str:
            return "2" + json.dumps(["news", {"seq": seq}])

        # (1) queued, writer not yet run: nothing between the two suspends
        await state._send(conn, queued(0))
        await broadcast(1)
        await until(lambda: len(watch.events) == 2)
        # (2) paused for back-pressure: broadcasts wait for the writer (flow control), the first is held by it
        writer.pause_writing()
        await broadcast(2)
        await asyncio.sleep(0.05)
        await broadcast(3)
        writer.resume_writing()
        await until(lambda: len(watch.events) == 4)
        # (3) a packet held alone (the queue is empty) and the broadcast right after resume_writing, before the
        # writer has run
        writer.pause_writing()
        await state._send(conn, queued(4))
        await asyncio.sleep(0.05)
        writer.resume_writing()
        await broadcast(5)
        await until(lambda: len(watch.events) == 6)
        assert watch.events == [f"n{seq}" for seq in range(6)]
        assert state.direct_frames == 0
        # and once the writer is idle again, a frame goes directly
        await broadcast(6)
        await until(lambda: len(watch.events) == 7)
        assert state.direct_frames == 1


def test_text_frame_is_an_unmasked_final_text_frame() -> None:
    assert text_frame("4hi") == b"\x81\x034hi"
    long = text_frame("x" * 200)
    assert long[:4] == b"\x81\x7e\x00\xc8" and len(long) == 204
