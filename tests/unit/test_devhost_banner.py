"""The start-up banner and the dev host's Functions listing use host.json's real route prefix ("" included)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from devhost._settings import read_route_prefix
from devhost.stack import Stack, _banner


def app_with(tmp_path: Path, host_json: dict[str, object] | None) -> Path:
    (tmp_path / "web" / "whiteboard").mkdir(parents=True)
    if host_json is not None:
        (tmp_path / "host.json").write_text(json.dumps(host_json))
    return tmp_path


@pytest.mark.parametrize(
    ("host_json", "prefix"),
    [
        (None, "api"),
        ({"version": "2.0"}, "api"),
        ({"version": "2.0", "extensions": {"http": {"routePrefix": ""}}}, ""),
        ({"version": "2.0", "extensions": {"http": {"routePrefix": "/v1/"}}}, "v1"),
    ],
)
def test_banner_urls_follow_the_route_prefix(tmp_path: Path, host_json: dict[str, object] | None, prefix: str) -> None:
    app = app_with(tmp_path, host_json)
    assert read_route_prefix(app) == prefix
    stack = Stack(app_dir=app, devhost_port=7071, azurite_ports=None)
    stack.emulator = SimpleNamespace(port=8080, pid=1234)
    banner = _banner(stack, app)
    base = "http://127.0.0.1:7071" + (f"/{prefix}" if prefix else "")
    assert f"Chat sample:   {base}/chat " in banner
    assert f"Whiteboard:    {base}/whiteboard\n" in banner
    if prefix != "api":
        assert "/api/" not in banner
