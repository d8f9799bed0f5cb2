"""Headless Chromium (playwright-core) on the whiteboard page, across a dev host restart.

Two pages draw and see each other's shapes; a third, opened later, loads the whole diagram; then the dev host
(only it) is stopped and started again on the same port: the emulator keeps the connections, so the pages stay
connected, new strokes flow and a fourth page loads everything; undo, redo and clear reach the other pages
(a fifth page then loads an empty board). Screenshots: test-artifacts/whiteboard-*.png.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("whiteboard_browser.mjs")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (make setup-browser)")
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")
def test_whiteboard_pages_draw_together_and_survive_a_dev_host_restart(sioless_stack_factory, tmp_path) -> None:
    stack = sioless_stack_factory(ROOT, azurite_location=tmp_path / "azurite")
    artifacts = ROOT / "test-artifacts"
    process = subprocess.Popen(
        ["node", str(SCRIPT), stack.devhost_url, str(artifacts)],
        cwd=ROOT,
        env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        output = []
        restarted = False
        for line in process.stdout:
            output.append(line.strip())
            if line.strip() == "RESTART":
                old_pid = stack._process("devhost").pid
                stack.restart_devhost()
                assert stack._process("devhost").pid != old_pid
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
    assert restarted, "the script never asked for the restart"
    assert not [line for line in result["console"] if "pageerror" in line], result["console"]
    for name in ("alice", "carol-late", "bob-after-restart", "dave"):
        assert (artifacts / f"whiteboard-{name}.png").stat().st_size > 10_000
