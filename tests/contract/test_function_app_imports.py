"""Cold start: importing ``function_app`` loads nothing beyond azure.functions, the stdlib and our packages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _modules(module: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout))


def _heavier(module: str, baseline: set[str]) -> set[str]:
    ours = ("shared", "functions", "function_app")
    return {
        name
        for name in _modules(module) - baseline
        if name.split(".")[0] not in ours and name.split(".")[0] not in sys.stdlib_module_names
    }


def test_function_app_imports_only_azure_functions_and_stdlib() -> None:
    baseline = _modules("azure.functions")
    assert any(name.startswith("azure.functions") for name in baseline)
    extra = _heavier("function_app", baseline)
    assert extra == set(), f"function_app imports more than azure.functions + stdlib: {sorted(extra)}"


def test_probe_can_fail() -> None:
    # A third-party package (pyjwt is installed in the dev venv) is flagged by the same filter.
    assert "jwt" in _heavier("jwt", _modules("azure.functions"))
