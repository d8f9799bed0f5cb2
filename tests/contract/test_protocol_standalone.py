"""``shared.protocol`` and the emulator need no Azure package: both import with every ``azure`` module blocked.

The emulator stands in for the service, so it must not need the Functions SDK; ``shared/__init__.py`` loads its
public names lazily so that importing ``shared.protocol`` does not import ``azure.functions`` through them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
from importlib.abc import MetaPathFinder

class BlockAzure(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "azure" or name.startswith("azure."):
            raise ImportError(f"blocked for this test: {{name}}")
        return None

sys.meta_path.insert(0, BlockAzure())
for name in {modules!r}:
    __import__(name)
import shared.protocol as protocol
print(json.dumps({{
    "azure": sorted(name for name in sys.modules if name == "azure" or name.startswith("azure.")),
    "group": protocol.group_name("/ns", "rm"),
    "shared": sys.modules["shared"].__file__.endswith("__init__.py"),
}}))
"""


def _probe(*modules: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(modules=list(modules))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_shared_protocol_imports_without_azure() -> None:
    result = _probe("shared.protocol")
    assert result == {"azure": [], "group": "0~L25z~cm0", "shared": True}


def test_the_emulator_imports_without_azure() -> None:
    result = _probe("emulator", "emulator._app", "emulator._hub", "emulator._rest", "emulator._upstream")
    assert result["azure"] == []


def test_the_block_is_real() -> None:
    # the same probe fails for a module that needs azure.functions: the library's blueprint
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(modules=["shared._blueprint"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "blocked for this test: azure" in out.stderr
