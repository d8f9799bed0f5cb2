"""Function names: valid for Azure, unique per (hub, namespace, event), readable when they can be."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from shared import function_name
from shared._names import NAME_PATTERN

VALID = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-]{0,127}$")


def test_plain_names_are_kept_readable() -> None:
    assert function_name("chat", "/", "join") == "chat__join"
    assert function_name("chat", "/", "connect") == "chat__connect"
    assert function_name("chat", "/admin", "kick") == "chat__admin__kick"


def test_lossy_names_get_a_hash_suffix() -> None:
    name = function_name("chat", "/", "chat message")
    assert re.fullmatch(r"chat__chat_message-[0-9a-f]{12}", name)
    # Same readable part, different events: the hash keeps them apart.
    assert function_name("chat", "/", "chat-message") != name
    assert function_name("chat", "/", "chat_message") != name
    assert function_name("chat", "/", "chat.message") != name


def test_unicode_digits_and_long_names_are_valid() -> None:
    for args in [("chat", "/", "日本語"), ("1hub", "/", "x"), ("chat", "/", "e" * 300), ("h", "/" + "n" * 200, "e")]:
        assert VALID.match(function_name(*args)), args


def test_a_line_break_is_never_kept_verbatim() -> None:
    # "$" matches before a trailing newline: "join\n" once passed as a clean segment (found by test_always_valid).
    for args in [("chat", "/", "join\n"), ("chat", "/0\n", "0")]:
        name = function_name(*args)
        assert "\n" not in name and re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_\-]{0,127}", name), (args, name)
    assert not NAME_PATTERN.match("chat__timer__tick\n")


def test_namespace_position_is_unambiguous() -> None:
    # (hub, "/a", "b") vs (hub, "/", "a__b") must differ.
    assert function_name("h", "/a", "b") != function_name("h", "/", "a__b")


_text = st.text(min_size=1, max_size=40)


@given(hub=st.sampled_from(["chat", "whiteboard", "hub_1"]), ns=_text, event=_text)
def test_always_valid(hub: str, ns: str, event: str) -> None:
    assert VALID.match(function_name(hub, "/" + ns, event))


@given(a=st.tuples(_text, _text), b=st.tuples(_text, _text))
def test_distinct_triples_get_distinct_names(a: tuple[str, str], b: tuple[str, str]) -> None:
    if a != b:
        assert function_name("chat", "/" + a[0], a[1]) != function_name("chat", "/" + b[0], b[1])
