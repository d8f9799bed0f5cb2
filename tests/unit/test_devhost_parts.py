"""Pure parts of the dev host: route templates, settings, binding expressions, the pages function's paths."""

from __future__ import annotations

import json
import time
from pathlib import Path

import azure.functions as func
import pytest

from devhost._actions import _is_loopback
from devhost._http import resolve_expression
from devhost._routes import compile_route
from devhost._settings import SettingsError, load_settings, parse_timespan
from devhost._values import _status_code


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("negotiate", "negotiate", {}),
        ("negotiate", "NEGOTIATE", {}),
        ("negotiate", "negotiate/x", None),
        ("items/{id:int}/{name?}", "items/5/x", {"id": "5", "name": "x"}),
        ("items/{id:int}/{name?}", "items/5", {"id": "5"}),
        ("items/{id:int}", "items/x", None),
        ("items/{id:alpha}", "items/abc", {"id": "abc"}),
        ("pages/{*path}", "pages/chat/chat.js", {"path": "chat/chat.js"}),
        ("users/{name=anon}", "users", {"name": "anon"}),
        ("g/{id:guid}", "g/0f9c97a2-f0bf-4706-afe8-7a14e0797b11", {"id": "0f9c97a2-f0bf-4706-afe8-7a14e0797b11"}),
    ],
)
def test_route_templates(template: str, path: str, expected: dict[str, str] | None) -> None:
    assert compile_route(template).match(path) == expected


@pytest.mark.parametrize(("text", "seconds"), [("00:00:30", 30), ("00:05:00", 300), ("1.00:00:00", 86400)])
def test_timespan(text: str, seconds: float) -> None:
    assert parse_timespan(text) == seconds


def test_bad_timespan_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="functionTimeout '30s' is not a hh:mm:ss timespan"):
        parse_timespan("30s")


def test_settings_fall_back_to_the_example_and_env_wins(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "local.settings.json.example").write_text(json.dumps({"Values": {"A": "file", "B": "file"}}))
    (tmp_path / "host.json").write_text(json.dumps({"functionTimeout": "00:00:05"}))
    settings = load_settings(tmp_path, {"B": "override"}, environ={"A": "env"})
    assert settings.values == {"A": "env", "B": "override"}
    assert settings.function_timeout == 5
    assert "local.settings.json.example" in caplog.text


def test_local_settings_win_over_the_example(tmp_path: Path) -> None:
    (tmp_path / "local.settings.json.example").write_text(json.dumps({"Values": {"A": "example"}}))
    (tmp_path / "local.settings.json").write_text(json.dumps({"Values": {"A": "local"}}))
    assert load_settings(tmp_path, environ={}).values["A"] == "local"


def test_broken_settings_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "local.settings.json").write_text("{nope")
    with pytest.raises(SettingsError, match="local.settings.json is not valid JSON"):
        load_settings(tmp_path, environ={})


def test_binding_expressions() -> None:
    req = func.HttpRequest(
        "POST",
        "http://h/api/x",
        headers={"X-User": "hdr"},
        params={"userId": "q"},
        route_params={"r": "route"},
        body=b"",
    )
    assert resolve_expression("{query.userId}", req, None) == "q"
    assert resolve_expression("{headers.x-user}", req, None) == "hdr"
    assert resolve_expression("{r}", req, None) == "route"
    assert resolve_expression("{name}", req, {"name": "body"}) == "body"
    assert resolve_expression("u-{query.missing}", req, None) == "u-"


@pytest.mark.parametrize(("value", "code"), [(401, 401), ("Unauthorized", 401), ("BadRequest", 400), ("403", 403)])
def test_status_code_names(value: object, code: int) -> None:
    assert _status_code(value) == code


def test_status_code_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="not an HTTP status"):
        _status_code("Nope")


def test_pages_never_serve_outside_web() -> None:
    from functions import pages

    assert pages._resolve("chat/index.html") is not None
    assert pages._resolve("../function_app.py") is None
    assert pages._resolve("/etc/passwd") is None
    assert pages._resolve("vendor/socket.io.min.js") is not None  # web/vendor copy or node_modules fallback


def test_defaults_serve_where_the_emulator_posts_by_default() -> None:
    from devhost.__main__ import build_parser
    from emulator import DEFAULT_URL_TEMPLATE

    args = build_parser().parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 7071)
    assert DEFAULT_URL_TEMPLATE == f"http://localhost:{args.port}/runtime/webhooks/socketio"


@pytest.mark.parametrize(
    ("connection_string", "loopback"),
    [
        ("Endpoint=http://127.0.0.1:8080;AccessKey=k;Version=1.0;", True),
        ("endpoint=http://localhost:8080;AccessKey=k;", True),
        ("AccessKey=k;Endpoint=http://[::1]:8080;Version=1.0;", True),
        ("Endpoint=https://demo.webpubsub.azure.com;AccessKey=k;Version=1.0;", False),
        ("Endpoint=http://127.example.com;AccessKey=k;", False),
        ("AccessKey=k;Version=1.0;", False),
    ],
)
def test_rest_calls_to_loopback_skip_the_environment_proxy_lookup(connection_string: str, loopback: bool) -> None:
    assert _is_loopback(connection_string) is loopback


def test_rest_calls_to_loopback_run_only_the_policies_that_shape_the_wire() -> None:
    # The lean pipeline (docs/performance.md); if the SDK builds its client differently, loopback_client falls back
    # to the full pipeline and this names what changed. The wire itself: tests/contract/test_devhost_actions.py.
    from devhost._actions import loopback_client

    client = loopback_client("Endpoint=http://127.0.0.1;Port=1;AccessKey=k;Version=1.0;", "chat", retry_total=0)
    policies = [type(getattr(p, "_policy", p)).__name__ for p in client._client._pipeline._impl_policies]
    assert policies == ["RequestIdPolicy", "HeadersPolicy", "UserAgentPolicy", "AsyncRetryPolicy", "ReusedTokens"]
    assert type(client._client._pipeline._impl_policies[-1]._policy._sdk_policy).__name__ == "JwtCredentialPolicy"


def test_a_reused_token_is_the_sdks_own_for_the_same_url_and_young_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    import jwt
    from azure.core.pipeline import PipelineContext, PipelineRequest
    from azure.core.rest import HttpRequest

    from devhost import _actions

    key = "c2lvbGVzcy1sb2NhbC1kZXYta2V5LW5vdC1hLXNlY3JldA=="
    client = _actions.loopback_client(f"Endpoint=http://127.0.0.1;Port=1;AccessKey={key};Version=1.0;", "chat")
    policy = client._client._pipeline._impl_policies[-1]._policy
    clock = [1000.0]
    monkeypatch.setattr(_actions.time, "monotonic", lambda: clock[0])
    signed: list[str] = []
    sdk_sign = policy._sdk_policy.on_request

    def sign(request: PipelineRequest[HttpRequest]) -> None:
        signed.append(request.http_request.url)
        sdk_sign(request)

    monkeypatch.setattr(policy._sdk_policy, "on_request", sign)

    def token(url: str) -> str:
        request = PipelineRequest(HttpRequest("POST", url), PipelineContext(None))
        policy.on_request(request)
        scheme, value = request.http_request.headers["Authorization"].split(" ", 1)
        assert scheme == "Bearer"
        claims = jwt.decode(value, key.encode(), algorithms=["HS256"], audience=url)  # the SDK's token for this URL
        assert claims["exp"] > time.time() + 45
        return value

    add = "http://127.0.0.1:1/api/hubs/chat/:addToGroups?api-version=2024-12-01"
    remove = add.replace("addToGroups", "removeFromGroups")
    first = token(add)
    clock[0] += 9.9
    assert token(add) == first
    token(remove)  # another URL, its own token
    clock[0] += 0.2  # 10 s after the first: signed again
    token(add)
    assert signed == [add, remove, add]
