"""``Host.CORS`` / ``Host.CORSCredentials`` from local.settings.json, as ``func start`` applies them.

func start hands the comma-separated origins to ASP.NET Core's CORS middleware with any header and any method,
plus credentials when asked (azure-functions-core-tools ``Startup.Configure``); docs/devhost.md#cors lists what
that middleware answers. Checked with real HTTP requests against ``python -m devhost`` (a process on an
ephemeral port), and in process for the wider matrix. The fixture app gets its local.settings.json written
here (it is never committed).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from devhost import DevHost, create_app, load_settings
from devhost._cors import CorsPolicy
from devhost._settings import SettingsError
from devhost.processes import ManagedProcess, ProcessError, popen
from tests.fixtures.devhost_support import APPS, KEY

ROOT = Path(__file__).resolve().parents[2]
CONN = f"Endpoint=http://localhost;Port=8080;AccessKey={KEY};Version=1.0;"
PAGE = "http://app.example:8080"
OTHER = "http://other.example"


def app_dir(tmp_path: Path, host_section: dict[str, object] | None, host_json: dict[str, object] | None = None) -> Path:
    target = tmp_path / "app"
    shutil.copytree(APPS / "raw", target, ignore=shutil.ignore_patterns("__pycache__"))
    local: dict[str, object] = {"IsEncrypted": False, "Values": {"WebPubSubForSocketIOConnectionString": CONN}}
    if host_section is not None:
        local["Host"] = host_section
    (target / "local.settings.json").write_text(json.dumps(local))
    if host_json is not None:
        (target / "host.json").write_text(json.dumps(host_json))
    return target


@asynccontextmanager
async def client_for(directory: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings(directory, environ={})
    host = await DevHost.start(directory, settings)
    transport = httpx.ASGITransport(app=create_app(host))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:7071") as client:
            yield client
    finally:
        await host.aclose()


# --- the policy (pure) ---------------------------------------------------------------------------------------


def test_policy_parsing_follows_func() -> None:
    assert CorsPolicy.parse("") is None and CorsPolicy.parse(",,") is None  # no origin: CORS off
    policy = CorsPolicy.parse("HTTP://App.Example:8080,http://b.example")
    assert policy is not None and policy.origins == ("http://app.example:8080", "http://b.example")
    assert policy.allows("http://app.example:8080") and not policy.allows("http://app.example")
    star = CorsPolicy.parse("*")
    assert star is not None and star.any_origin and star.allows("http://anything")
    mixed = CorsPolicy.parse("*,http://a")  # '*' is a wildcard only when it is the only origin (ASP.NET Core)
    assert mixed is not None and not mixed.any_origin and not mixed.allows("http://x")
    with pytest.raises(SettingsError, match="wildcard origin with credentials"):
        CorsPolicy.parse("*", credentials=True)


# --- in process: the matrix ----------------------------------------------------------------------------------


async def test_simple_request_from_an_allowed_origin_gets_the_echoed_origin(tmp_path: Path) -> None:
    async with client_for(app_dir(tmp_path, {"CORS": f"{PAGE},{OTHER}"})) as client:
        response = await client.get("/api/text", headers={"Origin": PAGE})
        assert response.status_code == 200 and response.text
        assert response.headers["access-control-allow-origin"] == PAGE
        assert "access-control-allow-credentials" not in response.headers
        assert response.headers["vary"] == "Origin"  # several origins: the answer depends on the Origin
        refused = await client.get("/api/text", headers={"Origin": "http://evil.example"})
        assert refused.status_code == 200, "the function still runs; only the browser withholds the answer"
        assert "access-control-allow-origin" not in refused.headers
        plain = await client.get("/api/text")
        assert "access-control-allow-origin" not in plain.headers


async def test_preflight_is_answered_by_the_host_without_calling_the_function(tmp_path: Path) -> None:
    async with client_for(app_dir(tmp_path, {"CORS": PAGE, "CORSCredentials": True})) as client:
        preflight = await client.options(
            "/api/items/1",
            headers={
                "Origin": PAGE,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, x-custom",
            },
        )
        assert preflight.status_code == 204 and preflight.content == b""
        assert preflight.headers["access-control-allow-origin"] == PAGE
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert preflight.headers["access-control-allow-methods"] == "POST"
        assert preflight.headers["access-control-allow-headers"] == "content-type,x-custom"
        assert "vary" not in preflight.headers  # one origin
        refused = await client.options(
            "/api/items/1", headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"}
        )
        assert refused.status_code == 204 and "access-control-allow-origin" not in refused.headers
        simple = await client.post("/api/items/1", headers={"Origin": PAGE}, content=b"x")
        assert simple.headers["access-control-allow-origin"] == PAGE
        assert simple.headers["access-control-allow-credentials"] == "true"


async def test_wildcard_allows_every_origin_with_a_star(tmp_path: Path) -> None:
    async with client_for(app_dir(tmp_path, {"CORS": "*"})) as client:
        response = await client.get("/api/text", headers={"Origin": OTHER})
        assert response.headers["access-control-allow-origin"] == "*"
        assert "vary" not in response.headers
        missing = await client.get("/api/nothing-here", headers={"Origin": OTHER})
        assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == "*"


async def test_without_host_cors_no_cors_headers_at_all(tmp_path: Path) -> None:
    async with client_for(app_dir(tmp_path, None)) as client:
        response = await client.get("/api/text", headers={"Origin": PAGE})
        assert "access-control-allow-origin" not in response.headers
        preflight = await client.options("/api/text", headers={"Origin": PAGE, "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize(
    ("section", "message"),
    [({"CORS": ["http://a"]}, "Host.CORS must be a string"), ({"CORSCredentials": "maybe"}, "true or false")],
)
def test_malformed_host_section_is_refused(tmp_path: Path, section: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(app_dir(tmp_path, section), environ={})


# --- a real dev host process ---------------------------------------------------------------------------------


def start_devhost(directory: Path, *args: str) -> ManagedProcess:
    """``python -m devhost`` on an ephemeral port, its output collected; the caller stops it by its PID."""
    cmd = [sys.executable, "-u", "-m", "devhost", "--app-dir", str(directory), "--port", "0", *args]
    devhost = ManagedProcess("devhost", popen(cmd, ROOT, dict(os.environ)))
    devhost.pump("DEVHOST_READY")
    return devhost


def output_with(devhost: ManagedProcess, text: str, timeout: float = 10.0) -> str:
    """The process's output once it contains ``text`` (its lines arrive on a reader thread)."""
    deadline = time.monotonic() + timeout
    while not any(text in line for line in list(devhost.output)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return "\n".join(devhost.output)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[str, ManagedProcess]]:
    devhost = start_devhost(app_dir(tmp_path, {"CORS": PAGE, "CORSCredentials": "true"}, {"version": "2.0"}))
    try:
        devhost.wait_ready(30)
        yield f"http://127.0.0.1:{devhost.ready['port']}", devhost
    finally:
        devhost.stop()


def test_a_real_dev_host_answers_cors_and_logs_unmatched_requests(running: tuple[str, ManagedProcess]) -> None:
    base, devhost = running
    with httpx.Client(base_url=base, timeout=10) as client:
        preflight = client.options("/api/text", headers={"Origin": PAGE, "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == PAGE
        assert preflight.headers["access-control-allow-credentials"] == "true"
        simple = client.get("/api/text", headers={"Origin": PAGE})
        assert simple.status_code == 200 and simple.headers["access-control-allow-origin"] == PAGE
        assert client.get("/diagram").status_code == 404
    output = output_with(devhost, "No function matches")
    assert "CORS: http://app.example:8080 (with credentials)" in output
    executed = [line for line in devhost.output if "Executed HTTP request:" in line]
    assert len(executed) == 1, output
    details = json.loads(executed[0].split("Executed HTTP request: ", 1)[1])
    assert (details["method"], details["uri"], details["status"]) == ("GET", "/diagram", 404)
    assert "No function matches GET /diagram: HTTP functions are under /api/" in output


def test_a_wildcard_with_credentials_stops_the_dev_host(tmp_path: Path) -> None:
    devhost = start_devhost(app_dir(tmp_path, {"CORS": "*", "CORSCredentials": True}))
    with pytest.raises(ProcessError):
        devhost.wait_ready(30)  # returns once its output has ended: it exited without becoming ready
    assert devhost.process.returncode == 2
    output = "\n".join(devhost.output)
    assert "wildcard origin with credentials" in output and "List the origins" in output


def test_command_line_flags_win_over_local_settings(tmp_path: Path) -> None:
    devhost = start_devhost(app_dir(tmp_path, {"CORS": "*", "CORSCredentials": True}), "--cors", PAGE)
    try:
        devhost.wait_ready(30)
    finally:
        devhost.stop()
    assert any("CORS: http://app.example:8080 (with credentials)" in line for line in devhost.output), devhost.output
