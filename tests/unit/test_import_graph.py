"""The import graph of shared/, emulator/ and devhost/ (scripts/import_graph.py) has no cycles, and the emulator
and the dev host meet in one place only: the stack starting the emulator."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "import_graph.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_the_script_finds_no_cycle() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "cycles: none" in out.stdout


def test_emulator_and_devhost_meet_only_where_the_stack_starts_the_emulator() -> None:
    _, _, crossing = _script().report(ROOT)
    between = {
        (e.source, e.target)
        for e in crossing
        if {e.source.split(".")[0], e.target.split(".")[0]} == {"emulator", "devhost"}
    }
    assert between, "the stack starts the emulator"
    assert all(source == "devhost.stack" and target.startswith("emulator") for source, target in between), between
    # the emulator stands in for the service: of the library it uses the wire helpers only
    assert all(e.target.startswith("shared.protocol") for e in crossing if e.source.startswith("emulator")), crossing
    assert not [e for e in crossing if e.source.startswith("shared")], crossing


def test_a_cycle_is_found(tmp_path: Path) -> None:
    for package in ("shared", "emulator", "devhost"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "shared" / "_a.py").write_text("from . import _b\n")
    (tmp_path / "shared" / "_b.py").write_text("def f():\n    from ._a import x\n")  # lazy imports count
    (tmp_path / "shared" / "_c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ._a import y\n"
    )
    (tmp_path / "emulator" / "_d.py").write_text("from shared._c import z\n")
    text, found, crossing = _script().report(tmp_path)
    assert found == [["shared._a", "shared._b"]], text
    assert "shared._c -> shared._a (types)" in text
    assert [(e.source, e.target) for e in crossing] == [("emulator._d", "shared._c")]
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "shared._a <-> shared._b" in out.stdout
