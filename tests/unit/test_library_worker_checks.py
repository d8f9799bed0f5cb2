"""Every function of the real ``function_app`` passes the Python worker's load checks
(docs/protocol.md#worker-indexing-and-checks).

The checks are re-implemented here from the reference text: parameters == binding names, ``Out[T]`` only on
output bindings, generic bindings annotated ``str``/``bytes`` (inputs) or ``Out[str|bytes|bytearray]``, return
annotation a type and never ``Out``; plus what our wrappers promise: ``sio: str``, ``out: func.Out[str]``,
``-> str``, and sync/async exactly as the handler.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from typing import Any

import azure.functions as func
import pytest

from shared import Socket, SocketIOBlueprint
from tests.fixtures.real_app import load_real_app

NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-]{0,127}$")
GENERIC_TYPES = {"socketiotrigger", "socketio", "socketionegotiation"}


def _is_out(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return (origin or annotation) is func.Out


def load_errors(function: Any) -> list[str]:
    """The reasons the worker would refuse this function (empty when it loads)."""
    errors: list[str] = []
    name = function.get_function_name()
    fn = function.get_user_function()
    bindings = json.loads(function.get_function_json())["bindings"]
    by_name = {b["name"]: b for b in bindings if b["name"] != "$return"}
    params = dict(inspect.signature(fn).parameters)
    hints = typing.get_type_hints(fn)
    if "context" in params and "context" not in by_name:
        params.pop("context")
        if "context" in hints and hints["context"] is not func.Context:
            errors.append(f"{name}: context must be annotated azure.functions.Context")
    if set(params) - set(by_name):
        errors.append(f"{name}: declared in Python but not in bindings: {sorted(set(params) - set(by_name))}")
    if set(by_name) - set(params):
        errors.append(f"{name}: in bindings but not in Python: {sorted(set(by_name) - set(params))}")
    for pname in set(params) & set(by_name):
        binding = by_name[pname]
        if pname not in hints:
            continue
        anno = hints[pname]
        out_binding = binding["direction"] == "OUT"
        if _is_out(anno):
            args = typing.get_args(anno)
            if not out_binding:
                errors.append(f"{name}: {pname} is an input but annotated Out")
            if len(args) != 1:
                errors.append(f"{name}: {pname} Out needs exactly one type argument")
            elif binding["type"] in GENERIC_TYPES and args[0] not in (str, bytes, bytearray):
                errors.append(f"{name}: generic output {pname} must be Out[str|bytes|bytearray], got {anno!r}")
        else:
            if out_binding:
                errors.append(f"{name}: output {pname} must be annotated func.Out[...]")
            if not isinstance(anno, type):
                errors.append(f"{name}: {pname} has a non-type annotation {anno!r}")
            elif binding["type"] in GENERIC_TYPES and not issubclass(anno, (str, bytes)):
                errors.append(f"{name}: generic input {pname} must be str or bytes, got {anno!r}")
    if "return" in hints:
        ret = hints["return"]
        if _is_out(ret):
            errors.append(f"{name}: return annotation must not be Out")
        elif ret is not type(None) and not isinstance(ret, type):
            errors.append(f"{name}: non-type return annotation {ret!r}")
    trigger = next((b for b in bindings if b["type"] == "socketiotrigger"), None)
    if trigger is not None:  # what the sioless wrappers promise on top
        tname = trigger["name"]
        outs = [b for b in bindings if b["direction"] == "OUT"]
        if hints.get(tname, str) is not str or trigger.get("dataType") != "STRING":
            errors.append(f"{name}: trigger {tname} must be str with dataType STRING")
        if hints.get("return") is not str:
            errors.append(f"{name}: return annotation must be str")
        if [b["type"] for b in outs] != ["socketio"] or hints.get(outs[0]["name"]) != func.Out[str]:
            errors.append(f"{name}: needs exactly one socketio output annotated func.Out[str]")
    if not NAME.match(name):
        errors.append(f"{name}: invalid Azure function name")
    return errors


@pytest.fixture(scope="session")
def real_functions() -> list[Any]:
    return list(load_real_app().get_functions())


def test_every_real_function_loads(real_functions: list[Any]) -> None:
    assert real_functions
    errors = [error for function in real_functions for error in load_errors(function)]
    assert errors == []


def test_names_unique_case_insensitively(real_functions: list[Any]) -> None:
    names = [f.get_function_name().casefold() for f in real_functions]
    assert len(names) == len(set(names))


def _mixed_app() -> func.FunctionApp:
    sio = SocketIOBlueprint(hub="h", namespace="/ns")

    @sio.on("ä event")
    async def async_handler(socket: Socket, *args: Any) -> None: ...

    @sio.on_connect()
    def sync_handler(socket: Socket) -> None: ...

    @sio.route("upload")
    @sio.emitter_output("out")
    def upload(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
        return func.HttpResponse("ok")

    app = func.FunctionApp()
    app.register_functions(sio)
    return app


def test_async_sync_and_emitter_functions_load() -> None:
    functions = _mixed_app().get_functions()
    assert len(functions) == 3
    assert [error for function in functions for error in load_errors(function)] == []
    kinds = {}
    for function in functions:
        spec = getattr(function.get_user_function(), "sioless_spec", None)
        if spec is not None:
            kinds[spec.kind] = inspect.iscoroutinefunction(function.get_user_function())
    assert kinds == {"event": True, "connect": False}


def test_the_checker_can_fail() -> None:
    bp = func.Blueprint()

    @bp.generic_trigger(arg_name="sio", type="socketiotrigger", data_type="STRING", hub="h", eventName="e")
    @bp.generic_output_binding(arg_name="out", type="socketio", data_type="STRING", hub="h")
    def broken(sio: dict, out: func.Out[dict], extra: int) -> func.Out[str]:  # type: ignore[type-arg]
        return None  # type: ignore[return-value]

    app = func.FunctionApp()
    app.register_functions(bp)
    errors = load_errors(app.get_functions()[0])
    text = "\n".join(errors)
    assert "declared in Python but not in bindings: ['extra']" in text
    assert "generic input sio must be str or bytes" in text
    assert "generic output out must be Out[str|bytes|bytearray]" in text
    assert "return annotation must not be Out" in text
