"""OData filters over connections (docs/protocol.md#odata-filters), parsed with lark.

Identifiers: ``connectionId``, ``userId``, ``groups``. Precedence: ``not`` > comparisons > ``and`` > ``or``, so
``'a' in groups or 'b' in groups and not ('c' in groups)`` is *a OR (b AND NOT c)*, as the extension's
unparenthesised filters need (docs/protocol.md#output-actions).

Every ``addSocketToRoom`` arrives as ``'<the socket's own group>' in groups`` (docs/protocol.md#output-actions),
a different text for each socket, so such membership filters (and ``or`` chains of them) are recognised without
lark: ``any_of_groups`` lets the caller take the members from its group index instead of testing every
connection. Parsed filters are kept in a bounded LRU cache.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

_GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (OR and_expr)*
?and_expr: cmp_expr (AND cmp_expr)*
?cmp_expr: unary
         | unary COMPOP unary       -> compare
         | unary IN collection      -> member
?unary: NOT unary                   -> negate
      | primary
?primary: "(" or_expr ")"
        | STRING                    -> string
        | NUMBER                    -> number
        | NULL                      -> null
        | BOOL                      -> boolean
        | NAME "(" [or_expr ("," or_expr)*] ")"  -> call
        | NAME                      -> ident
collection: NAME                    -> ident_collection
          | "(" [primary ("," primary)*] ")"  -> list_collection

OR.2: /or\b/
AND.2: /and\b/
NOT.2: /not\b/
IN.2: /in\b/
COMPOP.2: /(eq|ne|gt|ge|lt|le)\b/
NULL.2: /null\b/
BOOL.2: /(true|false)\b/
STRING: /'([^']|'')*'/
NUMBER: /-?\d+(\.\d+)?/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
%ignore /\s+/
"""

_PARSER = Lark(_GRAMMAR, parser="lalr", propagate_positions=False, maybe_placeholders=False)
IDENTIFIERS = ("connectionId", "userId", "groups")


class FilterError(ValueError):
    """An invalid filter; the message names the position (0-based character offset)."""


@dataclass(frozen=True)
class Subject:
    """What a filter sees of one connection."""

    connection_id: str
    user_id: str | None
    groups: Collection[str]


Predicate = Callable[[Subject], Any]


def _ident_value(name: str, subject: Subject) -> Any:
    if name == "connectionId":
        return subject.connection_id
    if name == "userId":
        return subject.user_id
    return list(subject.groups)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expects a string")
    return value


_FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "tolower": (1, 1, lambda s: _str(s).lower()),
    "toupper": (1, 1, lambda s: _str(s).upper()),
    "trim": (1, 1, lambda s: _str(s).strip()),
    "length": (1, 1, lambda s: len(_str(s))),
    "concat": (2, 2, lambda a, b: _str(a) + _str(b)),
    "contains": (2, 2, lambda a, b: _str(b) in _str(a)),
    "startswith": (2, 2, lambda a, b: _str(a).startswith(_str(b))),
    "endswith": (2, 2, lambda a, b: _str(a).endswith(_str(b))),
    "indexof": (2, 2, lambda a, b: _str(a).find(_str(b))),
    "substring": (
        2,
        3,
        lambda s, start, n=None: _str(s)[int(start) :] if n is None else _str(s)[int(start) : int(start) + int(n)],
    ),
}

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


def _const(value: Any) -> Predicate:
    return lambda _s: value


@v_args(inline=True)
class _Compile(Transformer):  # type: ignore[type-arg]
    """Turns the tree into nested closures once; evaluating a filter per connection is then cheap."""

    def string(self, tok: Token) -> Predicate:
        return _const(str(tok)[1:-1].replace("''", "'"))

    def number(self, tok: Token) -> Predicate:
        return _const(float(tok) if "." in tok else int(tok))

    def null(self, _tok: Token) -> Predicate:
        return _const(None)

    def boolean(self, tok: Token) -> Predicate:
        return _const(str(tok) == "true")

    def ident(self, tok: Token) -> Predicate:
        name = str(tok)
        if name not in IDENTIFIERS:
            raise FilterError(
                f"unknown identifier {name!r} at position {tok.start_pos}; expected one of {', '.join(IDENTIFIERS)}"
            )
        return lambda s: _ident_value(name, s)

    def ident_collection(self, tok: Token) -> Predicate:
        if str(tok) != "groups":
            raise FilterError(
                f"'in' needs 'groups' or a parenthesised list, not {str(tok)!r} at position {tok.start_pos}"
            )
        return lambda s: s.groups

    def list_collection(self, *items: Predicate | None) -> Predicate:
        values = [item for item in items if item is not None]
        return lambda s: [v(s) for v in values]

    def call(self, tok: Token, *args: Predicate | None) -> Predicate:
        name = str(tok)
        params = [a for a in args if a is not None]
        spec = _FUNCTIONS.get(name)
        if spec is None:
            raise FilterError(
                f"unknown function {name!r} at position {tok.start_pos}; "
                f"expected one of {', '.join(sorted(_FUNCTIONS))}"
            )
        low, high, fn = spec
        if not low <= len(params) <= high:
            raise FilterError(
                f"function {name!r} at position {tok.start_pos} takes {low}"
                f"{'' if low == high else f'..{high}'} argument(s), got {len(params)}"
            )
        return lambda s: fn(*(p(s) for p in params))

    def compare(self, left: Predicate, op: Token, right: Predicate) -> Predicate:
        fn = _COMPARE[str(op)]

        def run(s: Subject) -> bool:
            a, b = left(s), right(s)
            if op in ("gt", "ge", "lt", "le") and (a is None or b is None or type(a) is not type(b)):
                return False
            return fn(a, b)

        return run

    def member(self, value: Predicate, _in: Token, collection: Predicate) -> Predicate:
        return lambda s: value(s) in collection(s)

    def negate(self, _not: Token, operand: Predicate) -> Predicate:
        return lambda s: not operand(s)

    def or_expr(self, *parts: Any) -> Predicate:
        operands = [p for p in parts if not isinstance(p, Token)]
        return lambda s: any(o(s) for o in operands)

    def and_expr(self, *parts: Any) -> Predicate:
        operands = [p for p in parts if not isinstance(p, Token)]
        return lambda s: all(o(s) for o in operands)


def _describe(exc: UnexpectedInput, text: str) -> str:
    pos = getattr(exc, "pos_in_stream", None)
    if isinstance(exc, UnexpectedEOF) or pos is None:
        return f"unexpected end of filter at position {len(text)}"
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character {text[pos]!r} at position {pos}"
    if isinstance(exc, UnexpectedToken):
        if exc.token.type == "$END":
            return f"unexpected end of filter at position {len(text)}"
        return f"unexpected {str(exc.token)!r} at position {pos}"
    return f"syntax error at position {pos}"


@dataclass(frozen=True)
class Filter:
    """A parsed filter. ``any_of_groups`` is set when the filter means exactly "member of one of these groups"."""

    text: str
    matches: Callable[[Subject], bool]
    any_of_groups: frozenset[str] | None = None


_QUOTED = r"'((?:[^']|'')*)'"
# ``'g' in groups`` optionally chained with ``or``: the lexer of _GRAMMAR reads such text the same way (keywords
# are lower-case and whole words); anything else (parentheses, other case, other operators) takes lark's path.
_MEMBERSHIP = re.compile(rf"\s*{_QUOTED}\s+in\s+groups\b\s*")
_OR = re.compile(r"or\s+")


def _membership_groups(text: str) -> frozenset[str] | None:
    """The groups of a filter that is only ``'g1' in groups or 'g2' in groups ...``; None for any other filter."""
    groups = []
    pos = 0
    while True:
        match = _MEMBERSHIP.match(text, pos)
        if match is None:
            return None
        groups.append(match.group(1).replace("''", "'"))
        pos = match.end()
        if pos == len(text):
            return frozenset(groups)
        separator = _OR.match(text, pos)
        if separator is None:
            return None
        pos = separator.end()


def _any_of(groups: frozenset[str]) -> Callable[[Subject], bool]:
    if len(groups) == 1:
        (group,) = groups
        return lambda s: group in s.groups
    return lambda s: not groups.isdisjoint(s.groups)


@lru_cache(maxsize=1024)
def parse_filter(text: str | None) -> Filter | None:
    """The parsed ``text``, or None when the filter is empty (= no filter, docs/protocol.md#output-actions). Raises
    FilterError."""
    if text is None or not text.strip():
        return None
    groups = _membership_groups(text)
    if groups is not None:
        return Filter(text, _any_of(groups), groups)
    return Filter(text, _compile(text))


def compile_filter(text: str | None) -> Callable[[Subject], bool] | None:
    """A predicate for ``text``, or None when the filter is empty (= no filter, docs/protocol.md#output-actions). Raises
    FilterError."""
    parsed = parse_filter(text)
    return None if parsed is None else parsed.matches


def compile_general(text: str) -> Callable[[Subject], bool]:
    """``text`` through lark and the general evaluator only (no membership shortcut): the reference the
    shortcut is tested against."""
    return _compile(text)


def _compile(text: str) -> Callable[[Subject], bool]:
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise FilterError(f"Invalid filter {text!r}: {_describe(exc, text)}.") from None
    try:
        predicate = _Compile().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, FilterError):
            raise FilterError(f"Invalid filter {text!r}: {exc.orig_exc}.") from None
        raise
    if isinstance(predicate, Token):  # pragma: no cover - the grammar never yields a bare token
        raise FilterError(f"Invalid filter {text!r}.")

    def evaluate(subject: Subject) -> bool:
        try:
            return bool(predicate(subject))
        except (TypeError, ValueError):
            # A type mismatch (e.g. tolower(groups)) selects nothing instead of failing the whole call.
            return False

    return evaluate
