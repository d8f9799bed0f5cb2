"""Pages recover by themselves (issue: reconnection restores state), in headless Chromium, default failure
policy: the dev host SIGKILLed (and restarted) while the pages send, then the emulator SIGKILLed and restarted.

Checked by tests/e2e/reconnect_browser.mjs after each: every page back, chat rooms restored, no duplicate system
messages, every message acked to one chat page shown on the other (missed ones come with the rejoin), every acked
shape stored and shown on both whiteboards; finally the user count both whiteboards show is exact again (the
presence sweep removed the crashed sockets' rows) within 60 s. Screenshots: test-artifacts/reconnect-*.png.
"""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.e2e.pages import ARTIFACTS, ROOT, PageScript, needs_browser, page_errors

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(300)
@needs_browser
def test_pages_come_back_by_themselves_after_a_dev_host_and_an_emulator_crash(sioless_stack_factory, tmp_path) -> None:
    stack = sioless_stack_factory(ROOT, azurite_location=tmp_path / "azurite")
    done = []
    with PageScript("reconnect_browser.mjs", stack.devhost_url, ARTIFACTS) as page:
        for line in page.lines():
            if line == "KILL_DEVHOST":
                stack.stop_devhost(signal.SIGKILL)
                time.sleep(2)  # down while the pages keep sending
                stack.start_devhost()
            elif line == "KILL_EMULATOR":
                stack.stop_emulator(signal.SIGKILL)
                stack.start_emulator()
            else:
                continue
            done.append(line)
            page.reply("go")
        result = page.finish()
    print(json.dumps({"phases": result["phases"], "userCountExactAfterMs": result["userCountExactAfterMs"]}, indent=1))
    assert result["ok"], json.dumps({k: v for k, v in result.items() if k != "console"}, indent=1)
    assert done == ["KILL_DEVHOST", "KILL_EMULATOR"]
    assert not page_errors(result), result["console"]
    emulator = result["phases"]["emulator-kill"]["pages"]
    assert all(page["reconnected"] for page in emulator.values()), emulator  # the service lost every connection
    assert result["userCountExactAfterMs"] < 60_000, result["steps"]
    for phase in ("devhost-kill", "emulator-kill"):
        for name in ("carol", "dan", "alice", "bob"):
            assert (ARTIFACTS / f"reconnect-{phase}-{name}.png").stat().st_size > 5_000
