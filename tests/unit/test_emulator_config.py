"""Emulator settings: defaults of the issue, flags, config file, event routing rules
(docs/protocol.md#system-event-configuration)."""

from __future__ import annotations

import json

import pytest

from emulator import DEFAULT_URL_TEMPLATE, DEV_PRIMARY_KEY, ConfigError, HubSettings
from emulator._config import build_parser, config_from_args
from emulator._packets import PacketRefused, parse_sio
from shared.protocol import ConnectionString


def parse(*argv: str):
    return config_from_args(build_parser().parse_args(list(argv)))


def test_defaults_match_the_dev_settings():
    config = parse()
    assert (config.host, config.port, config.endpoint_host) == ("127.0.0.1", 8080, "localhost")
    assert config.primary_key == DEV_PRIMARY_KEY and config.secondary_key and config.secondary_key != DEV_PRIMARY_KEY
    assert [h.name for h in config.hubs] == ["chat", "whiteboard"]
    for hub in config.hubs:
        assert hub.url_template == DEFAULT_URL_TEMPLATE == "http://localhost:7071/runtime/webhooks/socketio"
        assert hub.system_events == {"connect", "connected", "disconnected"} and hub.user_event_pattern == "*"
        assert hub.allow_anonymous is False
    assert (config.upstream_timeout, config.user_event_failure) == (30.0, "close_connection")
    assert (config.ping_interval, config.ping_timeout, config.max_payload) == (25.0, 20.0, 1_000_000)
    cs = config.connection_string(8080)
    assert cs == f"Endpoint=http://localhost;Port=8080;AccessKey={DEV_PRIMARY_KEY};Version=1.0;"
    # the string the Functions side reads parses to the endpoint clients use
    assert ConnectionString.parse(cs).endpoint == config.endpoint(8080) == "http://localhost:8080"
    with open("local.settings.json.example", encoding="utf-8") as f:
        assert json.load(f)["Values"]["WebPubSubForSocketIOConnectionString"] == cs


def test_flags_and_config_file(tmp_path):
    path = tmp_path / "emu.json"
    path.write_text(
        json.dumps(
            {
                "port": 9000,
                "upstreamTimeout": 3,
                "hubs": {
                    "game": {
                        "urlTemplate": "http://h/{hub}/{event}",
                        "systemEvents": ["connect"],
                        "userEventPattern": "move,chat*",
                        "allowAnonymous": True,
                    }
                },
            }
        )
    )
    config = parse("--config", str(path), "--port", "0", "--user-event-failure", "ignore")
    assert config.port == 0 and config.upstream_timeout == 3 and config.user_event_failure == "ignore"
    (hub,) = config.hubs
    assert hub.upstream_url("move") == "http://h/game/move" and hub.allow_anonymous
    assert hub.wants_system_event("connect") and not hub.wants_system_event("connected")
    assert hub.wants_user_event("move") and hub.wants_user_event("chatty") and not hub.wants_user_event("jump")
    flags = parse("--hub", "a", "--url-template", "", "--anonymous-hub", "b", "--system-events", "")
    assert [h.name for h in flags.hubs] == ["a", "b"] and flags.hubs[1].allow_anonymous
    assert flags.hubs[0].upstream_url("x") is None and not flags.hubs[0].wants_user_event("x")


def test_hubs_on_demand():
    assert parse().hub_settings("other") == HubSettings("other")
    assert parse("--no-hubs-on-demand").hub_settings("other") is None
    assert parse().hub_settings("1bad") is None  # not a valid hub name (docs/protocol.md#hubs-sockets-and-namespaces)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--system-events", "connect,bogus"], "bogus"),
        (["--hub", "9x"], "Hub name '9x'"),
        (["--upstream-timeout", "0"], "positive"),
        (["--max-payload", "10"], "max_payload"),
        (["--ping-interval", "0.5"], "whole number"),
    ],
)
def test_bad_settings_are_named(argv, message):
    with pytest.raises(ConfigError, match=message):
        parse(*argv)


def test_bad_config_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    with pytest.raises(ConfigError, match="Cannot read config file"):
        parse("--config", str(path))
    path.write_text(json.dumps({"hubs": {"h": {"urlTemplat": "x"}}}))
    with pytest.raises(ConfigError, match="urlTemplat"):
        parse("--config", str(path))


@pytest.mark.parametrize(
    ("text", "kind", "namespace"),
    [
        ("0", 0, "/"),
        ("0/ns,", 0, "/ns"),
        ('2["a"]', 2, "/"),
        ('2/ns,13["a"]', 2, "/ns"),
        ("1/x,", 1, "/x"),
        ('51-["a",{"_placeholder":true,"num":0}]', 5, "/"),
    ],
)
def test_socketio_packets_parse_with_python_socketio(text, kind, namespace):
    pkt = parse_sio(text)
    assert (pkt.packet_type, pkt.namespace) == (kind, namespace)


@pytest.mark.parametrize("text", ["", "x", "9", "2[", "2abc", "{}"])
def test_bad_socketio_packets_are_refused(text):
    with pytest.raises(PacketRefused):
        parse_sio(text)
