"""The official REST client (azure-messaging-webpubsubservice, aio) drives every data-plane route against the
emulator, and the effects reach real python-socketio clients (and a node client)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
import socketio
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.messaging.webpubsubservice.aio import WebPubSubServiceClient

from shared.protocol import encode_disconnect, encode_event, group_name
from tests.fixtures.emulator_fixtures import (  # noqa: F401  (fixtures)
    CLIENT_PATH,
    NodeClient,
    emulator,
    fresh,
    node_available,
    py_client,
    sdk_token,
    until,
    upstream,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def rest(emulator) -> AsyncIterator[WebPubSubServiceClient]:  # noqa: F811
    client = WebPubSubServiceClient.from_connection_string(emulator.connection_string, hub="chat")
    async with client:
        yield client


class Inbox:
    """A connected python client that records every event it receives, per namespace."""

    def __init__(self, client: socketio.AsyncClient, namespaces: list[str]) -> None:
        self.client = client
        self.conn_id = str(client.eio.sid)
        self.sids = {ns: str(client.get_sid(ns)) for ns in namespaces}
        self.got: dict[str, list[tuple[str, tuple[Any, ...]]]] = {ns: [] for ns in namespaces}
        self.left: dict[str, asyncio.Event] = {ns: asyncio.Event() for ns in namespaces}
        for ns in namespaces:
            client.on("*", self._recorder(ns), namespace=ns)
            client.on("disconnect", self._leaver(ns), namespace=ns)

    def _recorder(self, ns: str) -> Any:
        async def record(event: str, *args: Any) -> None:
            self.got[ns].append((event, args))

        return record

    def _leaver(self, ns: str) -> Any:
        def left(*_args: Any) -> None:
            self.left[ns].set()

        return left

    def sid(self, ns: str = "/") -> str:
        return self.sids[ns]

    def events(self, ns: str = "/") -> list[str]:
        return [e for e, _ in self.got[ns]]


@asynccontextmanager
async def inboxes(
    emu: Any, count: int, *, namespaces: tuple[str, ...] = ("/",), users: list[str] | None = None
) -> AsyncIterator[list[Inbox]]:
    async with AsyncExitStack() as stack:
        boxes = []
        for i in range(count):
            token = sdk_token(emu, "chat", user_id=(users or [f"user{n}" for n in range(count)])[i])
            mode = ["websocket"] if i % 2 == 0 else ["polling"]
            client = await stack.enter_async_context(
                py_client(emu, token=token, transports=mode, namespaces=list(namespaces))
            )
            boxes.append(Inbox(client, list(namespaces)))
        yield boxes


async def settle(boxes: list[Inbox], marker: str, ns: str = "/") -> None:
    """Wait until every box saw ``marker`` (sent after the actions under test; deliveries keep their order)."""
    await until(lambda: all(marker in b.events(ns) for b in boxes), timeout=5)


def text(ns: str, event: str, *args: Any) -> str:
    return encode_event(ns, event, list(args))


async def test_send_to_all_group_connection_user_reach_clients(emulator, rest, fresh):  # noqa: F811
    async with inboxes(emulator, 4, users=["ann", "ann", "ben", "cat"]) as (a, b, c, d):
        await rest.send_to_all(text("/", "all", 1), content_type="text/plain", excluded=[d.conn_id])
        await rest.send_to_group(
            group_name("/"),
            text("/", "ns"),
            content_type="text/plain",
            filter=f"not ('{group_name('/', b.sid())}' in groups)",
        )
        await rest.send_to_connection(c.conn_id, text("/", "direct", "x"), content_type="text/plain")
        await rest.send_to_user("ann", text("/", "user"), content_type="text/plain")
        await rest.send_to_group(group_name("/", d.sid()), text("/", "socket"), content_type="text/plain")
        await rest.send_to_all(text("/", "end"), content_type="text/plain")
        await settle([a, b, c, d], "end")
    assert a.events() == ["all", "ns", "user", "end"]
    assert b.events() == ["all", "user", "end"]
    assert c.events() == ["all", "ns", "direct", "end"]
    assert d.events() == ["ns", "socket", "end"]
    assert c.got["/"][2] == ("direct", ("x",))


@pytest.mark.skipif(not node_available(), reason="node and node_modules/socket.io-client are needed")
async def test_rest_send_reaches_a_node_client(emulator, rest, fresh):  # noqa: F811
    node = await NodeClient.start(
        url=emulator.endpoint,
        path=CLIENT_PATH.format(hub="chat"),
        token=sdk_token(emulator, "chat"),
        namespace="/news",
        waitEvent="headline",
    )
    try:
        connect = await node.next("connect")
        await node.next("ready")
        await rest.send_to_group(
            group_name("/news", connect["id"]), text("/news", "headline", {"a": 1}), content_type="text/plain"
        )
        assert (await node.next("event"))["args"] == [{"a": 1}]
    finally:
        await node.close()


async def _post_json(rest: WebPubSubServiceClient, op: str, body: dict[str, Any]) -> int:
    response = await rest.send_request(
        HttpRequest("POST", f"/api/hubs/chat/{op}", params={"api-version": "2024-01-01"}, json=body)
    )
    return int(response.status_code)


async def test_groups_by_filter_and_the_protocol_filter_vector(emulator, rest, fresh):  # noqa: F811
    async with inboxes(emulator, 4, namespaces=("/ns",)) as boxes:
        rooms = {0: ["rm"], 1: ["rm2"], 2: ["rm2", "ex1"], 3: ["ex1"]}
        for i, box in enumerate(boxes):
            for room in rooms[i]:
                # what addSocketToRoom becomes (docs/protocol.md#output-actions): groups + a filter on the socket's own
                # group
                own = group_name("/ns", box.sid("/ns"))
                assert (
                    await _post_json(
                        rest, ":addToGroups", {"groups": [group_name("/ns", room)], "filter": f"'{own}' in groups"}
                    )
                    == 200
                )
        assert group_name("/ns", "rm") == "0~L25z~cm0"  # docs/protocol.md#group-names vectors
        assert await rest.group_exists("0~L25z~cm0")
        members = [c.connection_id async for c in rest.list_connections(group="0~L25z~cm0y")]
        assert sorted(members) == sorted([boxes[1].conn_id, boxes[2].conn_id])
        vector = "'0~L25z~cm0' in groups or '0~L25z~cm0y' in groups and not ('0~L25z~ZXgx' in groups)"
        await rest.send_to_all(text("/ns", "picked"), content_type="text/plain", filter=vector)
        body = {"groups": ["0~L25z~cm0"], "filter": f"connectionId eq '{boxes[0].conn_id}'"}
        assert await _post_json(rest, ":removeFromGroups", body) == 200
        await rest.send_to_all(text("/ns", "again"), content_type="text/plain", filter=vector)
        await rest.send_to_all(text("/ns", "end"), content_type="text/plain")
        await settle(boxes, "end", "/ns")
    assert [b.events("/ns") for b in boxes] == [["picked", "end"], ["picked", "again", "end"], ["end"], ["end"]]


async def test_single_connection_group_membership_and_exists_checks(emulator, rest, fresh):  # noqa: F811
    async with inboxes(emulator, 2, users=["dora", "eli"]) as (a, b):
        await rest.add_connection_to_group("plain", a.conn_id)  # PUT -> 200 (the client raises otherwise)
        assert await rest.group_exists("plain") and not await rest.group_exists("nobody-here")
        assert await rest.connection_exists(a.conn_id) and not await rest.connection_exists("nope")
        assert await rest.user_exists("dora") and not await rest.user_exists("zed")
        await rest.send_to_group("plain", text("/", "in-plain"), content_type="text/plain")
        await rest.remove_connection_from_group("plain", a.conn_id)
        assert not await rest.group_exists("plain")
        await rest.add_user_to_group("team", "eli")
        assert [c.user_id async for c in rest.list_connections(group="team")] == ["eli"]
        await rest.remove_connection_from_all_groups(b.conn_id)
        assert not await rest.group_exists("team")
        await rest.send_to_all(text("/", "end"), content_type="text/plain")
        await settle([a, b], "end")
    assert a.events() == ["in-plain", "end"] and b.events() == ["end"]


async def test_list_connections_pages(emulator, rest, fresh):  # noqa: F811
    async with inboxes(emulator, 3) as boxes:
        for box in boxes:
            await rest.add_connection_to_group("paged", box.conn_id)
        pages = [c.connection_id async for c in rest.list_connections(group="paged", maxpagesize=2)]
        assert sorted(pages) == sorted(b.conn_id for b in boxes)
        assert len([c async for c in rest.list_connections(group="paged", top=2)]) == 2


async def test_disconnect_packet_tears_down_the_socket(emulator, rest, fresh):  # noqa: F811
    async with inboxes(emulator, 2, namespaces=("/", "/ns")) as (a, b):
        a_ns_sid = a.sid("/ns")
        await rest.send_to_group(group_name("/ns", a_ns_sid), encode_disconnect("/ns"), content_type="text/plain")
        await asyncio.wait_for(a.left["/ns"].wait(), 5)
        rec = await fresh.wait(lambda r: r.event == "disconnected" and r.headers["ce-socketid"] == a_ns_sid)
        assert rec.json() == {"reason": ""}
        assert not await rest.group_exists(group_name("/ns", a_ns_sid))
        assert a.client.connected and await rest.connection_exists(a.conn_id)  # "/" and the connection stay
        # {"close": true} closes the Engine.IO connection too: every socket on it goes
        await rest.send_to_all(
            encode_disconnect("/ns", close=True), content_type="text/plain", filter=f"connectionId eq '{b.conn_id}'"
        )
        await asyncio.wait_for(b.left["/"].wait(), 5)
        await until(
            lambda: len([r for r in fresh.events("disconnected") if r.headers["ce-connectionid"] == b.conn_id]) == 2
        )
        assert not await rest.connection_exists(b.conn_id)


async def test_close_connections_routes(emulator, rest, fresh):  # noqa: F811
    async with inboxes(emulator, 4, users=["u1", "u2", "u3", "u3"]) as boxes:
        ids = [b.conn_id for b in boxes]
        await rest.close_connection(ids[0], reason="bye")
        await rest.add_connection_to_group("g", ids[1])
        await rest.close_group_connections("g", reason="group")
        await rest.close_user_connections("u3", excluded=[ids[3]], reason="user")
        for box in boxes[:3]:
            await asyncio.wait_for(box.left["/"].wait(), 5)
        assert boxes[3].client.connected
        await rest.close_all_connections(reason="all")
        await asyncio.wait_for(boxes[3].left["/"].wait(), 5)

    # wait for these four: a late `disconnected` of an earlier test's connection must not count
    def reasons_by_connection() -> dict[str, str]:
        return {r.headers["ce-connectionid"]: r.json()["reason"] for r in fresh.events("disconnected")}

    await until(lambda: set(ids) <= set(reasons_by_connection()))
    reasons = reasons_by_connection()
    assert [reasons[i] for i in ids] == ["bye", "group", "user", "all"]


async def test_generate_token_health_and_invoke(emulator, rest):  # noqa: F811
    response = await rest.send_request(
        HttpRequest("POST", "/api/hubs/chat/:generateToken", params={"api-version": "2024-01-01", "userId": "gen"})
    )
    assert response.status_code == 200
    async with py_client(emulator, token=response.json()["token"], transports=["websocket"]) as client:
        assert client.connected
        assert await rest.user_exists("gen")
    health = await rest.send_request(HttpRequest("HEAD", "/api/health", params={"api-version": "2024-01-01"}))
    assert health.status_code == 200
    invoke = await rest.send_request(
        HttpRequest(
            "POST",
            "/api/hubs/chat/:invoke",
            params={"api-version": "2023-07-01"},
            content='42["x"]',
            headers={"Content-Type": "text/plain"},
        )
    )
    assert invoke.status_code == 501 and invoke.headers["x-ms-error-code"] == "NotImplemented"
    assert set(invoke.json()) == {"code", "message"}


async def test_rest_auth_is_checked(emulator):  # noqa: F811
    wrong = WebPubSubServiceClient.from_connection_string(
        emulator.connection_string_for("d3Jvbmcta2V5LWJ1dC1sb25nLWVub3VnaC1mb3ItaHMyNTY="), hub="chat"
    )
    async with wrong:
        with pytest.raises(HttpResponseError) as info:
            await wrong.send_to_all(text("/", "x"), content_type="text/plain")
    assert info.value.status_code == 401 and "neither access key" in str(info.value)
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{emulator.base_url}/api/hubs/chat/:send?api-version=2024-01-01", content="42[]")
        assert response.status_code == 401 and response.headers["x-ms-error-code"] == "Unauthorized"
        assert "Bearer" in response.json()["message"]


async def test_user_groups_apply_to_later_connections(emulator, rest, fresh):  # noqa: F811
    await rest.add_user_to_group("later", "fay")
    assert not await rest.group_exists("later")  # nobody connected yet
    async with inboxes(emulator, 1, users=["fay"]) as (fay,):
        assert [c.connection_id async for c in rest.list_connections(group="later")] == [fay.conn_id]
        await rest.send_to_group("later", text("/", "for-fay"), content_type="text/plain")
        await rest.remove_user_from_group("later", "fay")
        assert not await rest.group_exists("later")
        await rest.send_to_all(text("/", "end"), content_type="text/plain")
        await settle([fay], "end")
    assert fay.events() == ["for-fay", "end"]
