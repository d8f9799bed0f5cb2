"""Headless Chromium (playwright-core) on the whiteboard page, across a dev host restart.

Two pages draw and see each other's shapes; a third, opened later, loads the whole diagram; then the dev host
(only it) is stopped and started again on the same port: the emulator keeps the connections, so the pages stay
connected, new strokes flow and a fourth page loads everything; undo, redo and clear reach the other pages
(a fifth page then loads an empty board). Screenshots: test-artifacts/whiteboard-*.png.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.pages import ARTIFACTS, ROOT, PageScript, needs_browser, page_errors

pytestmark = pytest.mark.e2e


@needs_browser
def test_whiteboard_pages_draw_together_and_survive_a_dev_host_restart(sioless_stack_factory, tmp_path) -> None:
    stack = sioless_stack_factory(ROOT, azurite_location=tmp_path / "azurite")
    restarted = False
    with PageScript("whiteboard_browser.mjs", stack.devhost_url, ARTIFACTS) as page:
        for line in page.lines():
            if line == "RESTART":
                old_pid = stack._process("devhost").pid
                stack.restart_devhost()
                assert stack._process("devhost").pid != old_pid
                restarted = True
                page.reply("go")
        result = page.finish()
    assert result["ok"], json.dumps(result, indent=1)
    assert restarted, "the script never asked for the restart"
    assert not page_errors(result), result["console"]
    for name in ("alice", "carol-late", "bob-after-restart", "dave"):
        assert (ARTIFACTS / f"whiteboard-{name}.png").stat().st_size > 10_000
