"""OData filters (docs/protocol.md#odata-filters, docs/protocol.md#output-actions): precedence, literals, functions,
errors with positions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import FilterError, compile_filter
from emulator._odata import Subject


def pick(text: str, subjects: dict[str, Subject]) -> list[str]:
    predicate = compile_filter(text)
    assert predicate is not None
    return sorted(name for name, s in subjects.items() if predicate(s))


def subj(*groups: str, conn: str = "c", user: str | None = None) -> Subject:
    return Subject(conn, user, set(groups))


def test_extension_filter_vector_uses_standard_precedence():
    # docs/protocol.md#output-actions: rooms rm, rm2 + except ex1, no parentheses -> rm OR (rm2 AND NOT ex1)
    vector = "'0~L25z~cm0' in groups or '0~L25z~cm0y' in groups and not ('0~L25z~ZXgx' in groups)"
    subjects = {
        "rm": subj("0~L25z~cm0"),
        "rm2": subj("0~L25z~cm0y"),
        "rm2+ex1": subj("0~L25z~cm0y", "0~L25z~ZXgx"),
        "rm+ex1": subj("0~L25z~cm0", "0~L25z~ZXgx"),
        "ex1": subj("0~L25z~ZXgx"),
        "none": subj(),
    }
    assert pick(vector, subjects) == ["rm", "rm+ex1", "rm2"]


def test_brief_vector_and_or_not():
    subjects = {"a": subj("a"), "b": subj("b"), "bc": subj("b", "c"), "c": subj("c"), "ac": subj("a", "c")}
    assert pick("'a' in groups or 'b' in groups and not ('c' in groups)", subjects) == ["a", "ac", "b"]
    assert pick("('a' in groups or 'b' in groups) and not ('c' in groups)", subjects) == ["a", "b"]


def test_not_binds_tighter_than_comparisons():
    # ``not 'a' in groups`` is ``(not 'a') in groups``: never true for string groups (documented precedence)
    assert pick("not 'a' in groups", {"a": subj("a"), "x": subj()}) == []
    assert pick("not ('a' in groups)", {"a": subj("a"), "x": subj()}) == ["x"]


def test_identifiers_literals_and_comparisons():
    subjects = {"ann": subj(conn="c1", user="ann"), "o'k": subj(conn="c2", user="o'k"), "anon": subj(conn="c3")}
    assert pick("connectionId eq 'c1'", subjects) == ["ann"]
    assert pick("userId eq 'o''k'", subjects) == ["o'k"]  # '' escapes a quote
    assert pick("userId eq null", subjects) == ["anon"]
    assert pick("userId ne null and connectionId ne 'c1'", subjects) == ["o'k"]
    assert pick("connectionId gt 'c1'", subjects) == ["anon", "o'k"]
    assert pick("connectionId le 'c2' and connectionId ge 'c2'", subjects) == ["o'k"]
    assert pick("userId in ('ann', 'zed')", subjects) == ["ann"]
    assert pick("userId lt 5", subjects) == []  # type mismatch selects nothing


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("tolower(userId) eq 'ann'", ["ANN"]),
        ("toupper(userId) eq 'BOB'", ["bob"]),
        ("trim(userId) eq 'pad'", [" pad "]),
        ("length(userId) eq 3", ["ANN", "bob"]),
        ("concat(userId, '!') eq 'bob!'", ["bob"]),
        ("contains(userId, 'pa')", [" pad "]),
        ("startswith(userId, 'AN')", ["ANN"]),
        ("endswith(userId, 'ob')", ["bob"]),
        ("indexof(userId, 'o') eq 1", ["bob"]),
        ("substring(userId, 1) eq 'NN'", ["ANN"]),
        ("substring(userId, 1, 2) eq 'pa'", [" pad "]),
    ],
)
def test_functions(expr, expected):
    subjects = {u: subj(user=u) for u in ("ANN", "bob", " pad ")}
    assert pick(expr, subjects) == sorted(expected)


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_empty_filter_is_no_filter(empty):
    assert compile_filter(empty) is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("'a' in groups or", "position 16"),
        ("'a' in", "position 6"),
        ("foo eq 'x'", "unknown identifier 'foo' at position 0"),
        ("'a' @ groups", "unexpected character '@' at position 4"),
        ("'unterminated", "position 0"),
        ("nosuch(userId)", "unknown function 'nosuch' at position 0"),
        ("tolower()", "takes 1 argument"),
        ("'a' in userId", "'in' needs 'groups'"),
        ("(('a' in groups)", "end of filter"),
        ("userId eq eq", "at position 10"),
    ],
)
def test_errors_name_the_position(text, fragment):
    with pytest.raises(FilterError) as info:
        compile_filter(text)
    assert fragment in str(info.value) and repr(text) in str(info.value)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            list("'ab ()=,0~L") + [" and ", " or ", " not ", " in groups", " eq ", "null", "userId", "tolower(", "'x'"]
        ),
        max_size=14,
    ).map("".join)
)
def test_any_text_either_compiles_or_raises_filter_error(text):
    try:
        predicate = compile_filter(text)
    except FilterError:
        return
    if predicate is not None:
        assert predicate(subj("a", user="u")) in (True, False)
