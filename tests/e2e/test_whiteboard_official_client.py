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
from pathlib import Path

import httpx
import pytest

from devhost.processes import free_port
from tests.e2e.pages import ARTIFACTS, ROOT, PageScript, needs_browser, page_errors

pytestmark = pytest.mark.e2e

FIXTURE = ROOT / "tests" / "fixtures" / "apps" / "official_whiteboard"


def recipe_app(tmp_path: Path, allowed_origin: str) -> Path:
    app = tmp_path / "official_whiteboard"
    shutil.copytree(FIXTURE, app, ignore=shutil.ignore_patterns("__pycache__"))
    local = json.loads((ROOT / "local.settings.json.example").read_text())
    local["Host"] = {"CORS": allowed_origin, "CORSCredentials": True}
    (app / "local.settings.json").write_text(json.dumps(local, indent=2))
    return app


@needs_browser
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

    restarted = False
    with PageScript("official_client.mjs", stack.devhost_url, allowed_port, other_port, ARTIFACTS) as page:
        for line in page.lines():
            if line == "RESTART_EMULATOR":
                stack.stop_emulator()
                stack.start_emulator()
                restarted = True
                page.reply("go")
        result = page.finish()
    assert result["ok"], json.dumps(result, indent=1)
    assert restarted, "the script never asked for the emulator restart"
    assert not page_errors(result), result["console"]
