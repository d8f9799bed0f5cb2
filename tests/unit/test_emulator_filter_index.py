"""The membership shortcut of OData filters and the group index (docs/performance.md): every filter must select
exactly what lark's general evaluator selects, whichever path parses it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import EmulatorConfig, FilterError, HubSettings
from emulator._hub import Connection, Hub
from emulator._odata import Subject, compile_general, parse_filter
from emulator._rest import RestApi
from emulator._upstream import Upstream
from shared.protocol import action_to_rest_calls, group_name

GROUPS = ["0~Lw~", "0~Lw~cm0", "a", "b", "it's", "o''k", "groups", " sp ace ", "ünï", "or", "in"]
group_names = st.one_of(st.sampled_from(GROUPS), st.text(max_size=8))
subjects = st.lists(
    st.builds(
        Subject,
        connection_id=st.sampled_from(["c1", "c2", "c3"]),
        user_id=st.one_of(st.none(), st.sampled_from(["u", "v"])),
        groups=st.frozensets(group_names, max_size=4),
    ),
    min_size=1,
    max_size=6,
)


def quoted(group: str) -> str:
    return "'" + group.replace("'", "''") + "'"


spaces = st.sampled_from([" ", "  ", "\t", "\n", " \u00a0"])


@st.composite
def membership_chains(draw: Any) -> str:
    """``'g1' in groups or 'g2' in groups ...`` as the extension writes it, with varied spacing."""
    terms = [
        f"{draw(st.sampled_from(['', ' ']))}{quoted(draw(group_names))}{draw(spaces)}in{draw(spaces)}groups"
        for _ in range(draw(st.integers(1, 4)))
    ]
    return "".join((f"{draw(spaces)}or{draw(spaces)}" if i else "") + term for i, term in enumerate(terms)) + draw(
        st.sampled_from(["", " "])
    )


# near-misses of the shortcut's shape: each either parses the same way through lark or is refused by both
fragments = st.sampled_from(
    [
        "'a'",
        "'it''s'",
        "'",
        "''",
        " in groups",
        "in groups",
        " in groupsor",
        " or ",
        "or",
        " OR ",
        " and ",
        " not ",
        "(",
        ")",
        " ",
        "\t",
        "groups",
        " eq ",
        "userId",
        "'b' in groups",
        "'a' in (",
        ",",
        "null",
    ]
)
near_misses = st.lists(fragments, min_size=1, max_size=8).map("".join)


def assert_same_selection(text: str, population: list[Subject]) -> None:
    if not text.strip():
        assert parse_filter(text) is None  # an empty filter is no filter (docs/protocol.md#output-actions)
        return
    try:
        reference = compile_general(text)
    except FilterError:
        reference = None
    try:
        parsed = parse_filter(text)
    except FilterError:
        assert reference is None, f"{text!r}: refused by the shortcut path only"
        return
    assert parsed is not None
    assert reference is not None, f"{text!r}: accepted by the shortcut path only"
    assert [parsed.matches(s) for s in population] == [reference(s) for s in population], text
    if parsed.any_of_groups is not None:
        assert [not parsed.any_of_groups.isdisjoint(s.groups) for s in population] == [
            reference(s) for s in population
        ], text


@settings(max_examples=150, deadline=None, derandomize=True)
@given(membership_chains(), subjects)
def test_membership_chains_take_the_shortcut_and_agree_with_lark(text, population):
    parsed = parse_filter(text)
    assert parsed is not None and parsed.any_of_groups is not None, text
    assert_same_selection(text, population)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.one_of(near_misses, membership_chains().map(lambda t: t.replace(" in ", " IN "))), subjects)
def test_other_texts_select_the_same_through_either_path(text, population):
    assert_same_selection(text, population)


def test_the_extensions_own_filters():
    # addSocketToRoom: the socket's own group (docs/protocol.md#output-actions); sendToRooms, several rooms: or-chain
    (add,) = action_to_rest_calls({"actionName": "addSocketToRoom", "namespace": "/ns", "socketId": "s'1", "room": "r"})
    assert isinstance(add.body, dict)
    parsed = parse_filter(add.body["filter"])
    assert parsed is not None and parsed.any_of_groups == {group_name("/ns", "s'1")}
    (send,) = action_to_rest_calls(
        {"actionName": "sendToRooms", "namespace": "/", "eventName": "e", "rooms": ["a", "b"], "exceptRooms": []}
    )
    parsed = parse_filter(send.filter)
    assert parsed is not None and parsed.any_of_groups == {group_name("/", "a"), group_name("/", "b")}
    (excluding,) = action_to_rest_calls(
        {"actionName": "sendToRooms", "namespace": "/", "eventName": "e", "rooms": ["a", "b"], "exceptRooms": ["x"]}
    )
    parsed = parse_filter(excluding.filter)
    assert parsed is not None and parsed.any_of_groups is None  # general path


def test_parsed_filters_are_cached_and_bounded():
    parse_filter.cache_clear()
    text = "userId eq 'cached' or 'a' in groups and not ('b' in groups)"
    assert parse_filter(text) is parse_filter(text)
    for i in range(parse_filter.cache_info().maxsize + 10):  # type: ignore[operator]
        parse_filter(f"'{i}' in groups")
    info = parse_filter.cache_info()
    assert info.currsize == info.maxsize


def _hub() -> Hub:
    config = EmulatorConfig()
    upstream = Upstream(
        origin="localhost", keys=config.keys, timeout=1, validation_timeout=1, validation_ttl=1, history_size=1
    )
    return Hub(HubSettings("chat", url_template=None), config, upstream, lambda: "http://localhost:8080")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(st.frozensets(st.sampled_from(GROUPS), max_size=3), min_size=1, max_size=12),
    st.one_of(membership_chains(), near_misses),
)
def test_selection_from_the_group_index_equals_a_scan_of_every_connection(memberships, text):
    hub = _hub()
    for i, groups in enumerate(memberships):
        conn = Connection(f"c{i}", "u" if i % 2 else None, {}, {}, {})
        hub.connections[conn.connection_id] = conn
        for group in groups:
            hub.add_to_group(conn, group)
    try:
        reference = compile_general(text)
        parsed = parse_filter(text)
    except FilterError:
        return
    selected = RestApi._select(hub, parsed, None)
    expected = [c for c in hub.connections.values() if reference(c.subject())]
    assert sorted(c.connection_id for c in selected) == sorted(c.connection_id for c in expected)
    assert len({c.connection_id for c in selected}) == len(selected)  # each member once
