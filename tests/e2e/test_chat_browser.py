"""Headless Chromium (playwright-core from node_modules) opens two chat pages that talk in a room.

The screenshot lands in test-artifacts/chat-two-pages.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("chat_browser.mjs")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (make setup-browser)")
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")
def test_two_browser_pages_chat_in_a_room(sioless_stack) -> None:
    artifacts = ROOT / "test-artifacts"
    run = subprocess.run(
        ["node", str(SCRIPT), sioless_stack.devhost_url, str(artifacts)],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
        env=dict(os.environ, CHROMIUM=CHROMIUM),
    )
    assert run.stdout.strip(), run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["ok"], json.dumps(result, indent=1)
    assert not [line for line in result["console"] if "pageerror" in line or ": error:" in line], result["console"]
    assert (artifacts / "chat-two-pages.png").stat().st_size > 10_000
