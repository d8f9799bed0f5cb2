"""Microsoft's whiteboard client protocol against our backend, in headless Chromium.

The recipe and the differences: docs/whiteboard.md#microsofts-whiteboard-client.

The app folder is the recipe (tests/fixtures/apps/official_whiteboard: the samples under an empty route prefix,
the client's files served from the root), copied here with a local.settings.json whose ``Host.CORS`` lists one
other origin. The page (its ``static/client.js``) does on the wire what the stock client does: routes, negotiate
and re-negotiate on ``reconnect_attempt``, event names and payload shapes, no acks. The emulator is restarted
under the connected pages to drive the reconnection.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from devhost.processes import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "apps" / "official_whiteboard"
SCRIPT = Path(__file__).with_name("official_client.mjs")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def recipe_app(tmp_path: Path, allowed_origin: str) -> Path:
    app = tmp_path / "official_whiteboard"
    shutil.copytree(FIXTURE, app, ignore=shutil.ignore_patterns("__pycache__"))
    local = json.loads((ROOT / "local.settings.json.example").read_text())
    local["Host"] = {"CORS": allowed_origin, "CORSCredentials": True}
    (app / "local.settings.json").write_text(json.dumps(local, indent=2))
    return app


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (make setup-browser)")
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")
def test_the_official_clients_protocol_works_against_the_recipe(sioless_stack_factory, tmp_path) -> None:
    allowed_port, other_port = free_port(), free_port()
    app = recipe_app(tmp_path, f"http://127.0.0.1:{allowed_port}")
    stack = sioless_stack_factory(app, azurite_location=tmp_path / "azurite")

    # The routes the client uses exist at the root; the unchanged client's bare /negotiate finds no function (it
    # is never a chat token: the chat's is /chat/negotiate), and nothing is left under /api.
    with httpx.Client(base_url=stack.devhost_url, timeout=10) as client:
        for path in ("/negotiate", "/api/diagram", "/api/whiteboard/negotiate"):
            missing = client.get(path)  # the client-files function answers: no such file
            assert (missing.status_code, missing.text) == (404, f"Not found: {path[1:]}")
        negotiated = client.get("/whiteboard/negotiate").json()
        assert negotiated["path"] == "/clients/socketio/hubs/whiteboard"
        assert client.get("/chat/negotiate").json()["path"] == "/clients/socketio/hubs/chat"
        assert client.get("/diagram").json() == {"shapes": {}, "background": None}

    artifacts = ROOT / "test-artifacts"
    process = subprocess.Popen(
        ["node", str(SCRIPT), stack.devhost_url, str(allowed_port), str(other_port), str(artifacts)],
        cwd=ROOT,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    restarted = False
    output: list[str] = []
    try:
        assert process.stdout is not None and process.stdin is not None
        for line in process.stdout:
            output.append(line.strip())
            if line.strip() == "RESTART_EMULATOR":
                stack.stop_emulator()
                stack.start_emulator()
                restarted = True
                process.stdin.write("go\n")
                process.stdin.flush()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = process.stderr.read() if process.stderr else ""
    assert output and output[-1].startswith("{"), (output, stderr[-2000:])
    result = json.loads(output[-1])
    assert result["ok"], json.dumps(result, indent=1)
    assert restarted, "the script never asked for the emulator restart"
    assert not [line for line in result["console"] if "pageerror" in line], result["console"]
