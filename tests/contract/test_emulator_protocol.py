"""Wire facts the emulator is pinned to (docs/protocol.md): the signature test vector (#signatures), the header
set (#cloudevents-headers), the group vectors (#group-names), the handshake values
(#engineio-versions-and-handshake) and the REST error shape (#rest-endpoints)."""

from __future__ import annotations

import json

import httpx
import pytest

from emulator import EmulatorConfig, HubSettings, running
from emulator._upstream import Upstream
from shared.protocol import group_name, parse_group_name, signature_header, signature_matches, signature_of


def test_signature_test_vector_of_section_2_4():
    key, conn = "7aab239577fd4f24bc919802fb629f5f", "0f9c97a2f0bf4706afe87a14e0797b11"
    expected = "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561"
    assert signature_of(key, conn) == expected
    header = signature_header([key, "other-key"], conn)
    assert header.split(",")[0] == expected and signature_matches(header, key, conn)
    assert signature_matches("sha256=something, " + expected.upper().replace("SHA256", "sha256"), key, conn)


def test_upstream_headers_of_section_2_3():
    keys = ("7aab239577fd4f24bc919802fb629f5f", "second")
    upstream = Upstream(
        origin="localhost", keys=keys, timeout=1, validation_timeout=1, validation_ttl=1, history_size=1
    )
    headers = dict(
        upstream._headers(
            hub="hub",
            event_type="azure.webpubsub.sys.connect",
            event_name="connect",
            connection_id="0f9c97a2f0bf4706afe87a14e0797b11",
            namespace="/ns",
            socket_id="sock",
            user_id="u",
            content_type="application/json; charset=utf-8",
        )
    )
    assert headers["WebHook-Request-Origin"] == "localhost"  # the endpoint host, no port
    assert headers["ce-specversion"] == "1.0" and headers["ce-type"] == "azure.webpubsub.sys.connect"
    assert headers["ce-source"] == "/hubs/hub/client/0f9c97a2f0bf4706afe87a14e0797b11"
    assert headers["ce-signature"].startswith(
        "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561,sha256="
    )
    assert (
        headers["ce-connectionId"],
        headers["ce-hub"],
        headers["ce-eventName"],
        headers["ce-namespace"],
        headers["ce-socketId"],
        headers["ce-userId"],
    ) == ("0f9c97a2f0bf4706afe87a14e0797b11", "hub", "connect", "/ns", "sock", "u")
    assert headers["ce-awpsversion"] == "1.0" and headers["ce-id"] and headers["ce-time"].endswith("Z")
    no_user = upstream._headers(
        hub="h",
        event_type="t",
        event_name="e",
        connection_id="c",
        namespace="/",
        socket_id="s",
        user_id=None,
        content_type="text/plain",
    )
    assert "ce-userId" not in no_user  # sent iff the token had a sub (docs/protocol.md#connect-request-contents)


@pytest.mark.parametrize(
    ("namespace", "room", "group"),
    [
        ("/", None, "0~Lw~"),
        ("/ns", None, "0~L25z~"),
        ("/ns", "rm", "0~L25z~cm0"),
        ("/ns", "socketId", "0~L25z~c29ja2V0SWQ"),
        ("/", "socket1", "0~Lw~c29ja2V0MQ"),
        ("/ns", "rm2", "0~L25z~cm0y"),
        ("/ns", "sid", "0~L25z~c2lk"),
        ("/ns", "ex1", "0~L25z~ZXgx"),
    ],
)
def test_group_vectors_of_section_1_2(namespace, room, group):
    assert group_name(namespace, room) == group
    assert parse_group_name(group) == (namespace, room)


async def test_handshake_values_and_error_shape():
    config = EmulatorConfig(port=0, endpoint_host="127.0.0.1", hubs=(HubSettings("hub", url_template=None),))
    async with running(config) as (_app, started):
        base = f"http://127.0.0.1:{started.port}"
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{base}/clients/socketio/hubs/hub/?EIO=4&transport=polling")
            assert response.status_code == 401 and "access_token" in response.text  # actionable message
            from emulator._auth import make_client_token

            tok = make_client_token(config.primary_key, started.endpoint, "hub")
            opened = await http.get(f"{base}/clients/socketio/hubs/hub/?EIO=4&transport=polling&access_token={tok}")
            assert opened.text.startswith("0")
            handshake = json.loads(opened.text[1:])
            # docs/protocol.md#engineio-versions-and-handshake: 25000/20000/1000000, upgrades to websocket from polling;
            # sid = connection id (Q4)
            assert (handshake["pingInterval"], handshake["pingTimeout"], handshake["maxPayload"]) == (
                25000,
                20000,
                1000000,
            )
            assert handshake["upgrades"] == ["websocket"]
            assert handshake["sid"] in _app.hubs["hub"].connections
            v3 = await http.get(f"{base}/clients/socketio/hubs/hub/?EIO=3&transport=polling&access_token={tok}")
            assert v3.status_code == 400  # EIO=4 only (Q7)
            # REST errors: ErrorDetail {code, message} + x-ms-error-code (docs/protocol.md#rest-endpoints)
            error = await http.post(f"{base}/api/hubs/hub/:send")
            assert error.status_code == 401 and error.headers["x-ms-error-code"] == error.json()["code"]
