"""Headless Chromium signs in on the chat page through the dev host's stand-in for App Service Authentication
(docs/identity.md). Screenshot: test-artifacts/chat-signed-in.png."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("signin_browser.mjs")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (make setup-browser)")
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")
def test_the_chat_page_signs_in_and_connects_as_the_principal(sioless_stack_factory) -> None:
    stack = sioless_stack_factory(ROOT, extra_env={"SIOLESS_DEV_AUTH": "1", "SIOLESS_DEV_USER_ID_QUERY": "0"})
    run = subprocess.run(
        ["node", str(SCRIPT), stack.devhost_url, str(ROOT / "test-artifacts")],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin"},
    )
    assert run.stdout.strip(), run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["ok"], json.dumps(result, indent=1)
    assert not result["console"], result["console"]
