"""Load ``function_app.py`` the way the Python worker indexes it, and refuse what the worker refuses.

Mirrors ``azure_functions_runtime/loader.py`` (``index_function_app``) and ``functions.py``
(``Registry.add_indexed_function``): import the module, find exactly one ``FunctionRegister`` among its
globals, call ``get_functions()`` once, then check every function's parameters against its bindings with
the worker's messages (docs/protocol.md#worker-indexing-and-checks). Only the public azure.functions model is used:
``Function.get_user_function()``, ``get_function_name()`` and ``get_raw_bindings()`` (the JSON the worker
hands to the host), so any app works, whatever library produced it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import azure.functions as func

HTTP_TRIGGER = "httpTrigger"
HTTP_OUTPUT = "http"


class FunctionLoadError(RuntimeError):
    """A function the worker would refuse to load; the message is the worker's."""

    def __init__(self, function_name: str, msg: str) -> None:
        super().__init__(f"cannot load the {function_name} function: {msg}")
        self.function_name = function_name


class AppLoadError(ValueError):
    """The app module itself cannot be indexed (no app, two apps, import failure)."""


@dataclass(frozen=True)
class Binding:
    """One binding as the host sees it: the parsed ``get_raw_bindings()`` JSON."""

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


@dataclass
class LoadedFunction:
    """A function ready to invoke: its callable, bindings and the worker's view of its parameters."""

    name: str
    func: Callable[..., Any]
    bindings: list[Binding]
    is_async: bool
    requires_context: bool
    has_return: bool
    input_names: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)

    @property
    def trigger(self) -> Binding:
        return next(b for b in self.bindings if b.is_trigger)

    def binding(self, name: str) -> Binding:
        return next(b for b in self.bindings if b.name == name)

    def bindings_of_type(self, type_: str) -> list[Binding]:
        return [b for b in self.bindings if b.type.lower() == type_.lower()]


def _converter(binding_type: str) -> Any:
    """The azure.functions converter for a binding type, or None for generic (extension) bindings."""
    return func.get_binding_registry().get(binding_type)


def has_implicit_output(binding_type: str) -> bool:
    """Generic bindings (every extension type but durableClient) carry the function's return value."""
    converter = _converter(binding_type)
    if converter is None:
        return binding_type != "durableClient"
    return bool(getattr(converter, "has_implicit_output", lambda: False)())


def _check_input(binding_type: str, pytype: type) -> bool:
    converter = _converter(binding_type)
    if converter is None:
        return issubclass(pytype, (str, bytes))
    return bool(converter.check_input_type_annotation(pytype))


def _check_output(binding_type: str, pytype: type) -> bool:
    converter = _converter(binding_type)
    if converter is None:
        return issubclass(pytype, (str, bytes, bytearray))
    return bool(converter.check_output_type_annotation(pytype))


def _is_out_annotation(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    candidate = origin if origin is not None else annotation
    return isinstance(candidate, type) and candidate.__name__ == "Out"


def _is_generic_alias(annotation: Any) -> bool:
    """``list[str]``, ``Out[str]``: a parametrized class. Unions and literals are not (the worker refuses them)."""
    origin = typing.get_origin(annotation)
    return isinstance(origin, type) and origin is not types.UnionType


def validate_function(function: Any) -> LoadedFunction:
    """The worker's load checks for one ``azure.functions.Function`` (``Registry.add_indexed_function``)."""
    user_func = function.get_user_function()
    name = function.get_function_name()
    bindings = []
    for raw in function.get_raw_bindings():
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
    params = dict(inspect.signature(user_func).parameters)
    try:
        annotations = typing.get_type_hints(user_func)
    except Exception as exc:  # a forward reference that does not resolve, as the worker would hit
        raise FunctionLoadError(name, f"cannot resolve type annotations: {exc}") from exc

    has_explicit_return = has_implicit_return = False
    return_binding_type: str | None = None
    bound: dict[str, Binding] = {}
    for binding in bindings:
        if binding.direction.upper() == "INOUT":
            raise FunctionLoadError(name, '"inout" bindings are not supported')
        if binding.name == "$return":
            if not binding.is_out:
                raise FunctionLoadError(name, '"$return" binding must have direction set to "out"')
            has_explicit_return = True
            return_binding_type = binding.type
            continue
        if has_implicit_output(binding.type):
            has_implicit_return = True
            if return_binding_type is None:
                return_binding_type = binding.type
        bound[binding.name] = binding

    requires_context = False
    if "context" in params and "context" not in bound:
        requires_context = True
        params.pop("context")
        if "context" in annotations:
            ctx = annotations["context"]
            if not isinstance(ctx, type) or ctx.__name__ != "Context":
                raise FunctionLoadError(
                    name, f'the "context" parameter is expected to be of type azure.functions.Context, got "{ctx!r}"'
                )

    missing = set(params) - set(bound)
    if missing:
        raise FunctionLoadError(
            name,
            "the following parameters are declared in Python but not in the function definition "
            f"(function.json or function decorators):  {missing!r}",
        )
    extra = set(bound) - set(params)
    if extra:
        # The worker prints set(params) - set(bound) here (always empty); we name the extra bindings.
        raise FunctionLoadError(
            name,
            "Extra parameters in binding definition — the following parameters are declared as bindings "
            f"but are not present in Python: {extra!r}",
        )

    loaded = LoadedFunction(
        name=name,
        func=user_func,
        bindings=bindings,
        is_async=inspect.iscoroutinefunction(user_func),
        requires_context=requires_context,
        has_return=has_explicit_return or has_implicit_return,
    )
    for param in params.values():
        binding = bound[param.name]
        has_anno = param.name in annotations
        anno = annotations.get(param.name)
        is_param_out = has_anno and _is_out_annotation(anno)
        if is_param_out:
            args = typing.get_args(anno)
            if len(args) != 1:
                raise FunctionLoadError(name, f"binding {param.name} has invalid Out annotation {anno!r}")
            pytype = args[0]
        else:
            pytype = anno
        if has_anno and not isinstance(pytype, type) and not _is_generic_alias(pytype):
            raise FunctionLoadError(name, f"binding {param.name} has invalid non-type annotation {anno!r}")
        if binding.is_out and has_anno and not is_param_out:
            raise FunctionLoadError(
                name,
                f'binding {param.name} is declared to have the "out" direction, but its annotation in Python '
                "is not a subclass of azure.functions.Out",
            )
        if not binding.is_out and is_param_out:
            raise FunctionLoadError(
                name,
                f'binding {param.name} is declared to have the "in" direction in the binding decorator, '
                "but its annotation is azure.functions.Out in Python",
            )
        if has_anno:
            bind_type = binding.type
            if pytype in (str, bytes) and not has_implicit_output(binding.type):
                bind_type = "generic"
            check_type = typing.get_origin(pytype) or pytype
            if bind_type == "generic":
                ok = issubclass(check_type, (str, bytes, bytearray) if is_param_out else (str, bytes))
            elif is_param_out:
                ok = _check_output(bind_type, check_type)
            else:
                ok = _check_input(bind_type, check_type)
            if not ok:
                type_name = getattr(check_type, "__name__", repr(check_type))
                if binding.data_type:
                    raise FunctionLoadError(
                        name,
                        f'binding type "{param.name!r}" and dataType "{binding.type}" in the binding decorator '
                        f"do not match the corresponding function parameter's Python type annotation {type_name}",
                    )
                raise FunctionLoadError(
                    name,
                    f'type of {param.name} binding in the binding decorator "{binding.type}" does not match '
                    f'its Python annotation "{type_name}"',
                )
        (loaded.output_names if binding.is_out else loaded.input_names).append(param.name)

    if has_explicit_return and "return" in annotations and return_binding_type is not None:
        ret = annotations["return"]
        if _is_out_annotation(ret):
            raise FunctionLoadError(name, "return annotation should not be azure.functions.Out")
        if not isinstance(ret, type):
            raise FunctionLoadError(name, f"has invalid non-type return annotation {ret!r}")
        if not _check_output(return_binding_type, ret):
            raise FunctionLoadError(
                name, f'Python return annotation "{ret.__name__}" does not match binding type "{return_binding_type}"'
            )
    elif "return" in annotations and _is_out_annotation(annotations["return"]):
        # The worker only checks return annotations of explicit $return bindings; an Out return type
        # is never valid, so we refuse it for implicit (generic trigger) returns too.
        raise FunctionLoadError(name, "return annotation should not be azure.functions.Out")
    triggers = [b for b in bindings if b.is_trigger]
    if len(triggers) != 1:
        raise FunctionLoadError(name, f"expected exactly one trigger binding, found {len(triggers)}")
    return loaded


def index_function_app(app_dir: Path, script_file: str = "function_app.py") -> list[LoadedFunction]:
    """Import ``<app_dir>/<script_file>`` and return its validated functions (one ``get_functions()`` call)."""
    path = app_dir / script_file
    if not path.is_file():
        raise AppLoadError(f"No {script_file} in {app_dir}: the dev host loads the app from that file.")
    app_dir_str = str(app_dir.resolve())
    module_name = Path(script_file).stem
    saved_path, saved_module = list(sys.path), sys.modules.pop(module_name, None)
    # The app folder comes first on sys.path while importing, as for the worker. A fresh import also means
    # get_functions() runs once per app object even when one process loads apps repeatedly (tests).
    if app_dir_str in sys.path:
        sys.path.remove(app_dir_str)
    sys.path.insert(0, app_dir_str)
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(module_name)
    except (ImportError, ModuleNotFoundError) as exc:
        raise AppLoadError(
            f"Cannot find module. Please check the requirements.txt file for the missing module. ({exc})"
        ) from exc
    finally:
        # Leave the process as we found it, so one loaded app never shadows another module of that name;
        # the app folder stays importable (at the end of sys.path) for imports inside the functions.
        sys.path[:] = saved_path + ([app_dir_str] if app_dir_str not in saved_path else [])
        sys.modules.pop(module_name, None)
        if saved_module is not None:
            sys.modules[module_name] = saved_module
    app: func.FunctionRegister | None = None
    for attr in module.__dir__():
        value = getattr(module, attr, None)
        if isinstance(value, func.FunctionRegister):
            if app is None:
                app = value
            else:
                raise AppLoadError(
                    f"More than one {app.__class__.__name__} or other top level function app instances are defined."
                )
    if app is None:
        raise AppLoadError(f"Could not find top level function app instances in {script_file}.")
    try:
        functions = app.get_functions()
    except ValueError as exc:  # duplicate names, a function without a trigger: the library's own messages
        raise AppLoadError(str(exc)) from exc
    return [validate_function(function) for function in functions]
