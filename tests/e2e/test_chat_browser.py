"""Headless Chromium (playwright-core from node_modules) opens two chat pages that talk in a room.

The screenshot lands in test-artifacts/chat-two-pages.png.
"""

from __future__ import annotations

import json

import pytest

from tests.e2e.pages import ARTIFACTS, PageScript, needs_browser

pytestmark = pytest.mark.e2e


@needs_browser
def test_two_browser_pages_chat_in_a_room(sioless_stack) -> None:
    with PageScript("chat_browser.mjs", sioless_stack.devhost_url, ARTIFACTS) as page:
        result = page.finish(timeout=90)
    assert result["ok"], json.dumps(result, indent=1)
    assert not [line for line in result["console"] if "pageerror" in line or ": error:" in line], result["console"]
    assert (ARTIFACTS / "chat-two-pages.png").stat().st_size > 10_000
