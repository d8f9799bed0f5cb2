"""Microsoft's worker runtime, started by the dev host in its worker process, refuses each bad function the way
the real Python worker does (docs/protocol.md#worker-indexing-and-checks), and the dev host passes its
message on, one line. Each case is a tiny app in its own folder and its own worker process.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from devhost import AppLoadError, FunctionConfigError, WorkerChannel
from devhost._functions import check_app_folder, check_shared_package

HEADER = """\
import azure.functions as func
from azure.functions.decorators.core import DataType

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
TRIGGER = dict(arg_name="sio", type="socketiotrigger", data_type=DataType.STRING, hub="chat")
OUTPUT = dict(arg_name="out", type="socketio", data_type=DataType.STRING, hub="chat")
"""


async def load(tmp_path: Path, source: str, header: bool = True) -> list[str]:
    (tmp_path / "function_app.py").write_text((HEADER if header else "") + textwrap.dedent(source))
    channel = WorkerChannel(tmp_path, os.environ)
    try:
        return [function.name for function in await channel.start()]
    finally:
        await channel.aclose()


async def refusal(tmp_path: Path, source: str, header: bool = True) -> str:
    with pytest.raises(AppLoadError) as error:
        await load(tmp_path, source, header)
    message = str(error.value)
    assert "\n" not in message
    return message


PREFIX = "FunctionLoadError: cannot load the handler function: "


async def test_documented_shapes_load(tmp_path: Path) -> None:
    names = await load(
        tmp_path,
        """
        @app.generic_trigger(eventName="chat", **TRIGGER)
        @app.generic_output_binding(**OUTPUT)
        def chat(sio: str, out: func.Out[str], context: func.Context) -> str:
            return ""

        @app.route(route="negotiate")
        @app.generic_input_binding(arg_name="negotiation", type="socketionegotiation", hub="chat")
        def negotiate(req: func.HttpRequest, negotiation) -> func.HttpResponse:
            return func.HttpResponse("")

        @app.generic_trigger(eventName="bytes", **TRIGGER)
        async def raw(sio: bytes) -> None:
            return None
        """,
    )
    assert names == ["chat", "negotiate", "raw"]


async def test_parameter_without_binding(tmp_path: Path) -> None:
    message = await refusal(
        tmp_path,
        """
        @app.generic_trigger(eventName="e", **TRIGGER)
        def handler(sio: str, extra: str) -> None: ...
        """,
    )
    assert message == (
        PREFIX + "the following parameters are declared in Python but not in the function definition "
        "(function.json or function decorators): {'extra'}"
    )


async def test_binding_without_parameter(tmp_path: Path) -> None:
    message = await refusal(
        tmp_path,
        """
        @app.generic_trigger(eventName="e", **TRIGGER)
        @app.generic_output_binding(**OUTPUT)
        def handler(sio: str) -> None: ...
        """,
    )
    # The worker subtracts the wrong way round, so the set it names is empty.
    assert message.startswith(PREFIX + "Extra parameters in binding definition")


async def test_kwargs_count_as_a_parameter(tmp_path: Path) -> None:
    message = await refusal(
        tmp_path,
        """
        @app.generic_trigger(eventName="e", **TRIGGER)
        def handler(sio: str, **kwargs: str) -> None: ...
        """,
    )
    assert "declared in Python but not in the function definition" in message and "'kwargs'" in message


async def test_out_annotation_on_an_input_binding(tmp_path: Path) -> None:
    message = await refusal(
        tmp_path,
        """
        @app.generic_trigger(eventName="e", **TRIGGER)
        def handler(sio: func.Out[str]) -> None: ...
        """,
    )
    assert message == (
        PREFIX + 'binding sio is declared to have the "in" direction in the binding decorator, but its annotation '
        "is azure.functions.Out in Python"
    )


async def test_output_binding_annotated_without_out(tmp_path: Path) -> None:
    message = await refusal(
        tmp_path,
        """
        @app.generic_trigger(eventName="e", **TRIGGER)
        @app.generic_output_binding(**OUTPUT)
        def handler(sio: str, out: str) -> None: ...
        """,
    )
    assert message == (
        PREFIX + 'binding out is declared to have the "out" direction, but its annotation in Python is not a '
        "subclass of azure.functions.Out"
    )


@pytest.mark.parametrize("annotation", ["dict", "int"])
async def test_generic_input_must_be_str_or_bytes(tmp_path: Path, annotation: str) -> None:
    message = await refusal(
        tmp_path,
        f"""
        @app.generic_trigger(eventName="e", **TRIGGER)
        def handler(sio: {annotation}) -> None: ...
        """,
    )
    assert message.startswith(PREFIX) and f"Python type annotation {annotation}" in message


@pytest.mark.parametrize("annotation", ["func.Out[dict]", "func.Out[list]"])
async def test_generic_output_must_be_out_of_str_bytes_bytearray(tmp_path: Path, annotation: str) -> None:
    message = await refusal(
        tmp_path,
        f"""
        @app.generic_trigger(eventName="e", **TRIGGER)
        @app.generic_output_binding(**OUTPUT)
        def handler(sio: str, out: {annotation}) -> None: ...
        """,
    )
    assert "do not match the corresponding function parameter's Python type" in message


async def test_non_type_annotation(tmp_path: Path) -> None:
    message = await refusal(
        tmp_path,
        """
        @app.generic_trigger(eventName="e", **TRIGGER)
        def handler(sio: str | None) -> None: ...
        """,
    )
    assert message.startswith(PREFIX + "binding sio has invalid non-type annotation")


async def test_context_must_be_azure_functions_context(tmp_path: Path) -> None:
    message = await refusal(
        tmp_path,
        """
        @app.generic_trigger(eventName="e", **TRIGGER)
        def handler(sio: str, context: str) -> None: ...
        """,
    )
    assert message.startswith(PREFIX + 'the "context" parameter is expected to be of type azure.functions.Context')


async def test_return_annotation_out_is_refused(tmp_path: Path) -> None:
    message = await refusal(
        tmp_path,
        """
        @app.route(route="x")
        def handler(req: func.HttpRequest) -> func.Out[str]: ...
        """,
    )
    assert message == PREFIX + "return annotation should not be azure.functions.Out"


async def test_return_annotation_must_match_the_binding(tmp_path: Path) -> None:
    message = await refusal(
        tmp_path,
        """
        @app.route(route="x")
        def handler(req: func.HttpRequest) -> int: ...
        """,
    )
    assert message == PREFIX + 'Python return annotation "int" does not match binding type "http"'


async def test_return_annotation_must_be_a_type(tmp_path: Path) -> None:
    message = await refusal(
        tmp_path,
        """
        @app.route(route="x")
        def handler(req: func.HttpRequest) -> str | None: ...
        """,
    )
    assert message.startswith(PREFIX + "has invalid non-type return annotation")


# -- the module: exactly one FunctionRegister, importable -------------------------------------------------
async def test_no_app_instance(tmp_path: Path) -> None:
    message = await refusal(tmp_path, "import azure.functions as func\nbp = func.Blueprint()\n", header=False)
    assert message == "ValueError: Could not find top level function app instances in function_app.py."


async def test_two_app_instances(tmp_path: Path) -> None:
    message = await refusal(tmp_path, "other = func.FunctionApp()\n")
    assert message == "ValueError: More than one FunctionApp or other top level function app instances are defined."


async def test_import_error_names_requirements(tmp_path: Path) -> None:
    message = await refusal(tmp_path, "import not_installed_package_xyz\n", header=False)
    assert message.startswith("ModuleNotFoundError: No module named 'not_installed_package_xyz'")
    assert "Cannot find module. Please check the requirements.txt file for the missing module." in message


async def test_import_time_exception(tmp_path: Path) -> None:
    message = await refusal(tmp_path, "raise RuntimeError('configuration missing\\non two lines')\n")
    assert message == "RuntimeError: configuration missing on two lines"


async def test_import_time_exit_is_a_load_error_not_a_hang(tmp_path: Path) -> None:
    message = await refusal(tmp_path, "import sys\nsys.exit(3)\n")
    assert message.startswith("The worker process exited while loading function_app.py")
    assert "exited with code" in message


async def test_worker_imports_no_shared_before_the_app(tmp_path: Path) -> None:
    # The app folder has no `shared`; sioless's is importable (the repository is on sys.path) but not imported.
    names = await load(
        tmp_path,
        """
        import sys
        assert "shared" not in sys.modules, "the worker imported sioless's shared before the app"

        @app.generic_trigger(eventName="e", **TRIGGER)
        def handler(sio: str) -> None: ...
        """,
    )
    assert names == ["handler"]


# -- the dev host's own refusals ---------------------------------------------------------------------------
def test_an_app_package_named_shared_is_refused_with_what_to_rename(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "__init__.py").write_text("")
    with pytest.raises(FunctionConfigError) as error:
        check_shared_package(tmp_path)
    assert str(error.value) == (
        f"{tmp_path / 'shared'} is the app's own 'shared' package, not sioless's library of that name: rename your "
        "package (e.g. to app_shared) and update its imports."
    )


def test_sioless_shared_is_recognised_by_its_marker() -> None:
    check_shared_package(Path(__file__).resolve().parents[2])  # the repository root: no error


def test_a_folder_without_function_app_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FunctionConfigError, match="No function_app.py in"):
        check_app_folder(tmp_path)
