"""The host's view of the app: functions as the worker runtime indexed them, and the host's own load checks.

The worker runtime imports ``function_app.py``, applies the Python worker's checks and answers with one
``RpcFunctionMetadata`` per function; its ``raw_bindings`` are the ``function.json``-like JSON the host binds
with. Here they become :class:`FunctionInfo`. What the *host* refuses on top (HTTP route conflicts, reserved
routes) and what the dev host refuses before starting a worker (an app package named ``shared`` that is not
sioless's library) are checked here too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HTTP_TRIGGER = "httpTrigger"
HTTP_OUTPUT = "http"
RETURN = "$return"
# The file that marks a `shared` package as sioless's library (devhost checks its text, never imports it).
LIBRARY_MARKER = ("_sioless.py", 'LIBRARY = "sioless"')


class FunctionConfigError(ValueError):
    """The host refuses the app's functions; the message is the host's."""


@dataclass(frozen=True)
class Binding:
    """One binding as the host sees it: a parsed ``raw_bindings`` JSON object."""

    name: str
    type: str
    direction: str  # "IN" | "OUT" | "INOUT"
    data_type: str | None
    properties: dict[str, Any]

    @property
    def is_out(self) -> bool:
        return self.direction.upper() == "OUT"

    @property
    def is_trigger(self) -> bool:
        return self.type.lower().endswith("trigger")


@dataclass(frozen=True)
class FunctionInfo:
    """One indexed function: its name, the runtime's function id and its bindings."""

    name: str
    function_id: str
    bindings: tuple[Binding, ...]

    @classmethod
    def from_metadata(cls, metadata: Any) -> FunctionInfo:
        bindings = []
        for raw in metadata.raw_bindings:
            data = json.loads(raw)
            bindings.append(
                Binding(
                    name=data["name"],
                    type=data["type"],
                    direction=str(data.get("direction", "IN")),
                    data_type=data.get("dataType"),
                    properties=data,
                )
            )
        return cls(name=metadata.name, function_id=metadata.function_id, bindings=tuple(bindings))

    @property
    def trigger(self) -> Binding:
        return next(b for b in self.bindings if b.is_trigger)

    @property
    def input_bindings(self) -> list[Binding]:
        return [b for b in self.bindings if not b.is_out]

    @property
    def output_bindings(self) -> list[Binding]:
        return [b for b in self.bindings if b.is_out]

    @property
    def has_return_binding(self) -> bool:
        return any(b.name == RETURN for b in self.bindings)

    def bindings_of_type(self, type_: str) -> list[Binding]:
        return [b for b in self.bindings if b.type.lower() == type_.lower()]


def check_http_routes(functions: Iterable[FunctionInfo]) -> None:
    """The host's ``ValidateHttpFunction`` / ``HttpRoutesConflict``, with its messages.

    A route defaults to the function name; ``admin``/``runtime`` prefixes are reserved; two functions conflict
    when their routes are equal (case-insensitive, outer ``/`` trimmed) and their methods intersect (no
    methods = all methods). The host marks the later function in error; the dev host refuses the app."""
    seen: list[tuple[str, str, frozenset[str] | None]] = []
    for function in functions:
        trigger = function.trigger
        if trigger.type != HTTP_TRIGGER:
            continue
        route = str(trigger.properties.get("route") or function.name).strip("/")
        if route.lower().startswith(("admin", "runtime")):
            raise FunctionConfigError(
                f"The '{function.name}' function is in error: The specified route conflicts with one or more "
                "built in routes."
            )
        raw_methods = trigger.properties.get("methods")
        methods = frozenset(str(m).upper() for m in raw_methods) if raw_methods else None
        for other_name, other_route, other_methods in seen:
            if route.lower() == other_route.lower() and (
                methods is None or other_methods is None or methods & other_methods
            ):
                raise FunctionConfigError(
                    f"The '{function.name}' function is in error: The route specified conflicts with the route "
                    f"defined by function '{other_name}'."
                )
        seen.append((function.name, route, methods))


def check_app_folder(app_dir: Path, script_file: str = "function_app.py") -> None:
    """The app folder must hold the script the worker indexes (the runtime silently indexes nothing without it)."""
    if not (app_dir / script_file).is_file():
        raise FunctionConfigError(f"No {script_file} in {app_dir}: the dev host loads the app from that file.")
    check_shared_package(app_dir)


def check_shared_package(app_dir: Path) -> None:
    """Refuse an app whose own top-level ``shared`` is not sioless's library (one name, two packages)."""
    package, module = app_dir / "shared", app_dir / "shared.py"
    if module.is_file():
        raise FunctionConfigError(
            f"{module} shadows sioless's library package 'shared': rename your module (e.g. to app_shared.py) "
            "and update its imports."
        )
    if not package.is_dir():
        return
    marker = package / LIBRARY_MARKER[0]
    try:
        ours = LIBRARY_MARKER[1] in marker.read_text(encoding="utf-8")
    except OSError:
        ours = False
    if not ours:
        raise FunctionConfigError(
            f"{package} is the app's own 'shared' package, not sioless's library of that name: rename your "
            "package (e.g. to app_shared) and update its imports."
        )
