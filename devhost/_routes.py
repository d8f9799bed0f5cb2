"""HTTP trigger route templates (``items/{id:int}/{name?}``, ``files/{*path}``) compiled to regular expressions."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The ASP.NET route constraints the Functions host supports, as far as a regex can say it.
_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "float": r"-?\d+(?:\.\d+)?",
    "double": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
    "bool": r"(?i:true|false)",
    "alpha": r"[A-Za-z]+",
    "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
    "datetime": r"[^/]+",
}
_PARAM = re.compile(
    r"\{(?P<star>\*)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<constraints>(?::[^}?=]+)*)(?P<opt>\?)?(?:=(?P<default>[^}]*))?\}"
)


class RouteError(ValueError):
    """A route template the dev host cannot compile; the message names the template."""


@dataclass(frozen=True)
class Route:
    template: str
    pattern: re.Pattern[str]
    defaults: dict[str, str]

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        params = {key: value for key, value in found.groupdict().items() if value is not None}
        for key, value in self.defaults.items():
            params.setdefault(key, value)
        return params


def _segment_regex(match: re.Match[str]) -> str:
    name = match.group("name")
    if match.group("star"):
        return f"(?P<{name}>.*)"
    body = r"[^/]+"
    for constraint in filter(None, (match.group("constraints") or "").split(":")):
        base = constraint.split("(")[0].lower()
        body = _CONSTRAINTS.get(base, body)
        if base == "regex" and "(" in constraint:
            body = constraint[constraint.index("(") + 1 : constraint.rindex(")")]
    return f"(?P<{name}>{body})"


def compile_route(template: str) -> Route:
    """Compile a route template; optional and catch-all parameters may drop their leading ``/``."""
    template = template.strip("/")
    defaults: dict[str, str] = {}
    parts: list[str] = []
    position = 0
    for match in _PARAM.finditer(template):
        literal = template[position : match.start()]
        optional = bool(match.group("opt")) or match.group("default") is not None or bool(match.group("star"))
        if match.group("default") is not None:
            defaults[match.group("name")] = match.group("default")
        segment = _segment_regex(match)
        if optional and literal.endswith("/"):
            parts.append(re.escape(literal[:-1]) + f"(?:/{segment})?")
        elif optional:
            parts.append(re.escape(literal) + f"(?:{segment})?")
        else:
            parts.append(re.escape(literal) + segment)
        position = match.end()
    parts.append(re.escape(template[position:]))
    try:
        pattern = re.compile("".join(parts), re.IGNORECASE)
    except re.error as exc:
        raise RouteError(f"Route template {template!r} does not compile: {exc}.") from None
    return Route(template=template, pattern=pattern, defaults=defaults)
