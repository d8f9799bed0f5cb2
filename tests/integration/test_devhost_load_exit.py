"""``python -m devhost`` exits with code 2 and one line saying why for every app that cannot load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.devhost_support import run_module

pytestmark = pytest.mark.integration

HEADER = "import azure.functions as func\napp = func.FunctionApp()\n"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("import azure.functions as func\n", "Could not find top level function app instances in function_app.py."),
        (HEADER + "raise RuntimeError('no config\\nat all')\n", "RuntimeError: no config at all"),
        (HEADER + "import sys\nsys.exit(4)\n", "The worker process exited while loading function_app.py"),
        ("import not_installed_xyz\n", "ModuleNotFoundError: No module named 'not_installed_xyz'"),
        ("def broken(:\n", "SyntaxError"),
        (
            HEADER + "@app.route(route='a', methods=['GET'])\ndef one(req: func.HttpRequest) -> str: return ''\n"
            "@app.route(route='A/', methods=['GET', 'POST'])\ndef two(req: func.HttpRequest) -> str: return ''\n",
            "The 'two' function is in error: The route specified conflicts with the route defined by function 'one'.",
        ),
    ],
    ids=["no-app", "import-time-exception", "sys-exit", "missing-module", "syntax-error", "route-conflict"],
)
def test_an_app_that_cannot_load_exits_2_with_one_line(tmp_path: Path, source: str, reason: str) -> None:
    (tmp_path / "function_app.py").write_text(source)
    run = run_module("devhost", "--app-dir", str(tmp_path), "--port", "0", timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert f"The app in {tmp_path} cannot be loaded: " in last
    assert reason in last
    assert "DEVHOST_READY" not in run.stdout
