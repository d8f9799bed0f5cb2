"""Headless Chromium signs in on the chat page through the dev host's stand-in for App Service Authentication
(docs/identity.md). Screenshot: test-artifacts/chat-signed-in.png."""

from __future__ import annotations

import json

import pytest

from tests.e2e.pages import ARTIFACTS, ROOT, PageScript, needs_browser

pytestmark = pytest.mark.e2e


@needs_browser
def test_the_chat_page_signs_in_and_connects_as_the_principal(sioless_stack_factory) -> None:
    stack = sioless_stack_factory(ROOT, extra_env={"SIOLESS_DEV_AUTH": "1", "SIOLESS_DEV_USER_ID_QUERY": "0"})
    with PageScript("signin_browser.mjs", stack.devhost_url, ARTIFACTS) as page:
        result = page.finish(timeout=90)
    assert result["ok"], json.dumps(result, indent=1)
    assert not result["console"], result["console"]
