"""The dev host refuses at load what the Python worker refuses (docs/protocol.md#worker-indexing-and-checks), with its
messages."""

from __future__ import annotations

import textwrap
from pathlib import Path

import azure.functions as func
import pytest
from azure.functions.decorators.core import DataType

from devhost import AppLoadError, FunctionLoadError, index_function_app, validate_function


def only(app: func.FunctionApp) -> func.decorators.function_app.Function:
    [function] = app.get_functions()
    return function


def sio_app() -> func.FunctionApp:
    return func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def trigger(app: func.FunctionApp, **kw: object):  # noqa: ANN201 - decorator
    return app.generic_trigger(arg_name="sio", type="socketiotrigger", data_type=DataType.STRING, hub="chat", **kw)


def output(app: func.FunctionApp):  # noqa: ANN201 - decorator
    return app.generic_output_binding(arg_name="out", type="socketio", data_type=DataType.STRING, hub="chat")


# -- accepted shapes -----------------------------------------------------------------------------------
def test_accepts_the_documented_shapes() -> None:
    app = sio_app()

    @trigger(app, eventName="chat")
    @output(app)
    def chat(sio: str, out: func.Out[str], context: func.Context) -> str:
        return ""

    @app.route(route="negotiate")
    @app.generic_input_binding(arg_name="negotiation", type="socketionegotiation", hub="chat")
    def negotiate(req: func.HttpRequest, negotiation) -> func.HttpResponse:
        return func.HttpResponse("")

    @trigger(app, eventName="bytes")
    async def raw(sio: bytes) -> None:
        return None

    loaded = {f.get_function_name(): validate_function(f) for f in app.get_functions()}
    assert loaded["chat"].requires_context and loaded["chat"].output_names == ["out"]
    assert loaded["negotiate"].input_names == ["req", "negotiation"]
    assert loaded["raw"].is_async and loaded["raw"].has_return


# -- parameters vs bindings ----------------------------------------------------------------------------
def test_parameter_without_binding() -> None:
    app = sio_app()

    @trigger(app, eventName="e")
    def handler(sio: str, extra: str) -> None: ...

    with pytest.raises(FunctionLoadError) as error:
        validate_function(only(app))
    assert str(error.value) == (
        "cannot load the handler function: the following parameters are declared in Python but not in the "
        "function definition (function.json or function decorators):  {'extra'}"
    )


def test_binding_without_parameter() -> None:
    app = sio_app()

    @trigger(app, eventName="e")
    @output(app)
    def handler(sio: str) -> None: ...

    with pytest.raises(FunctionLoadError, match="Extra parameters in binding definition .*present in Python: {'out'}"):
        validate_function(only(app))


def test_kwargs_count_as_a_parameter() -> None:
    app = sio_app()

    @trigger(app, eventName="e")
    def handler(sio: str, **kwargs: str) -> None: ...

    with pytest.raises(FunctionLoadError, match="declared in Python but not in the function definition.*'kwargs'"):
        validate_function(only(app))


# -- Out annotations -----------------------------------------------------------------------------------
def test_out_annotation_on_an_input_binding() -> None:
    app = sio_app()

    @trigger(app, eventName="e")
    def handler(sio: func.Out[str]) -> None: ...

    with pytest.raises(FunctionLoadError) as error:
        validate_function(only(app))
    assert str(error.value) == (
        'cannot load the handler function: binding sio is declared to have the "in" direction in the binding '
        "decorator, but its annotation is azure.functions.Out in Python"
    )


def test_output_binding_annotated_without_out() -> None:
    app = sio_app()

    @trigger(app, eventName="e")
    @output(app)
    def handler(sio: str, out: str) -> None: ...

    with pytest.raises(
        FunctionLoadError,
        match='binding out is declared to have the "out" direction, but its '
        "annotation in Python is not a subclass of azure.functions.Out",
    ):
        validate_function(only(app))


# -- generic binding annotations ----------------------------------------------------------------------
@pytest.mark.parametrize("annotation", [dict, int])
def test_generic_input_must_be_str_or_bytes(annotation: type) -> None:
    app = sio_app()

    @trigger(app, eventName="e")
    def handler(sio) -> None: ...

    handler._function._func.__annotations__["sio"] = annotation  # the user function behind the builder
    with pytest.raises(FunctionLoadError) as error:
        validate_function(only(app))
    assert f"Python type annotation {annotation.__name__}" in str(error.value)
    assert 'dataType "socketiotrigger"' in str(error.value)


@pytest.mark.parametrize("annotation", [func.Out[dict], func.Out[list]])
def test_generic_output_must_be_out_of_str_bytes_bytearray(annotation: object) -> None:
    app = sio_app()

    @trigger(app, eventName="e")
    @output(app)
    def handler(sio: str, out) -> None: ...

    handler._function._func.__annotations__["out"] = annotation
    with pytest.raises(FunctionLoadError, match="do not match the corresponding function parameter's Python type"):
        validate_function(only(app))


def test_non_type_annotation() -> None:
    app = sio_app()

    @trigger(app, eventName="e")
    def handler(sio) -> None: ...

    handler._function._func.__annotations__["sio"] = str | None
    with pytest.raises(FunctionLoadError, match="binding sio has invalid non-type annotation"):
        validate_function(only(app))


def test_context_must_be_azure_functions_context() -> None:
    app = sio_app()

    @trigger(app, eventName="e")
    def handler(sio: str, context: str) -> None: ...

    with pytest.raises(FunctionLoadError, match='the "context" parameter is expected to be of type'):
        validate_function(only(app))


# -- return annotations --------------------------------------------------------------------------------
def test_return_annotation_out_is_refused() -> None:
    app = sio_app()

    @app.route(route="x")
    def handler(req: func.HttpRequest) -> func.Out[str]: ...

    with pytest.raises(FunctionLoadError) as error:
        validate_function(only(app))
    assert str(error.value) == "cannot load the handler function: return annotation should not be azure.functions.Out"


def test_return_annotation_must_match_the_binding() -> None:
    app = sio_app()

    @app.route(route="x")
    def handler(req: func.HttpRequest) -> int: ...

    with pytest.raises(FunctionLoadError, match='Python return annotation "int" does not match binding type "http"'):
        validate_function(only(app))


def test_return_annotation_must_be_a_type() -> None:
    app = sio_app()

    @app.route(route="x")
    def handler(req: func.HttpRequest): ...

    handler._function._func.__annotations__["return"] = str | None
    with pytest.raises(FunctionLoadError, match="has invalid non-type return annotation"):
        validate_function(only(app))


# -- the module: exactly one FunctionRegister ------------------------------------------------------------
def write_app(tmp_path: Path, source: str) -> Path:
    (tmp_path / "function_app.py").write_text(textwrap.dedent(source))
    return tmp_path


def test_no_app_instance(tmp_path: Path) -> None:
    app_dir = write_app(tmp_path, "import azure.functions as func\nbp = func.Blueprint()\n")
    with pytest.raises(AppLoadError, match=r"^Could not find top level function app instances in function_app.py\.$"):
        index_function_app(app_dir)


def test_two_app_instances(tmp_path: Path) -> None:
    app_dir = write_app(
        tmp_path, "import azure.functions as func\napp = func.FunctionApp()\nother = func.FunctionApp()\n"
    )
    with pytest.raises(AppLoadError) as error:
        index_function_app(app_dir)
    assert str(error.value) == "More than one FunctionApp or other top level function app instances are defined."


def test_missing_function_app_file(tmp_path: Path) -> None:
    with pytest.raises(AppLoadError, match="No function_app.py"):
        index_function_app(tmp_path)


def test_import_error_names_requirements(tmp_path: Path) -> None:
    app_dir = write_app(tmp_path, "import not_installed_package_xyz\n")
    with pytest.raises(AppLoadError, match="Cannot find module. Please check the requirements.txt"):
        index_function_app(app_dir)


def test_repository_app_loads_once_per_import(tmp_path: Path) -> None:
    # Loading twice in one process re-imports the module, so get_functions() runs once per app object.
    root = Path(__file__).resolve().parents[2]
    first = [f.name for f in index_function_app(root)]
    second = [f.name for f in index_function_app(root)]
    assert first == second and "pages_chat" in first
