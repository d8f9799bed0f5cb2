"""Pages recover by themselves (issue: reconnection restores state), in headless Chromium, default failure
policy: the dev host SIGKILLed (and restarted) while the pages send, then the emulator SIGKILLed and restarted.

Checked by tests/e2e/reconnect_browser.mjs after each: every page back, chat rooms restored, no duplicate system
messages, every message acked to one chat page shown on the other (missed ones come with the rejoin), every acked
shape stored and shown on both whiteboards; finally the user count both whiteboards show is exact again (the
presence sweep removed the crashed sockets' rows) within 60 s. Screenshots: test-artifacts/reconnect-*.png.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("reconnect_browser.mjs")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.timeout(300)
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (make setup-browser)")
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")
def test_pages_come_back_by_themselves_after_a_dev_host_and_an_emulator_crash(sioless_stack_factory, tmp_path) -> None:
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
    done = []
    try:
        assert process.stdout is not None and process.stdin is not None
        output = []
        for line in process.stdout:
            output.append(line.strip())
            if line.strip() == "KILL_DEVHOST":
                stack.stop_devhost(signal.SIGKILL)
                time.sleep(2)  # down while the pages keep sending
                stack.start_devhost()
            elif line.strip() == "KILL_EMULATOR":
                stack.stop_emulator(signal.SIGKILL)
                stack.start_emulator()
            else:
                continue
            done.append(line.strip())
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
    print(json.dumps({"phases": result["phases"], "userCountExactAfterMs": result["userCountExactAfterMs"]}, indent=1))
    assert result["ok"], json.dumps({k: v for k, v in result.items() if k != "console"}, indent=1)
    assert done == ["KILL_DEVHOST", "KILL_EMULATOR"]
    assert not [line for line in result["console"] if "pageerror" in line], result["console"]
    emulator = result["phases"]["emulator-kill"]["pages"]
    assert all(page["reconnected"] for page in emulator.values()), emulator  # the service lost every connection
    assert result["userCountExactAfterMs"] < 60_000, result["steps"]
    for phase in ("devhost-kill", "emulator-kill"):
        for name in ("carol", "dan", "alice", "bob"):
            assert (artifacts / f"reconnect-{phase}-{name}.png").stat().st_size > 5_000
