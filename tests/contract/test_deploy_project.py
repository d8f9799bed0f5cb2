"""``azd restore`` and this project's ``pyproject.toml``.

For a Python service azd's restore makes a virtual environment ``<project folder>_env`` and, when a
``pyproject.toml`` exists, runs ``python -m pip install .`` in it (it prefers pyproject.toml over
requirements.txt: azure-dev ``pkg/project/framework_service_python.go``, ``pkg/tools/python/python.go``).
``azd package``/``azd up`` do not restore Python services (their framework declares no restore before packaging).

So ``pip install .`` must work and mean something: the project declares no package (setuptools' discovery
refuses a flat layout with several top-level packages) and takes its dependencies from requirements.txt.
Built here offline, on a copy of the tracked tree, with the pinned setuptools (requirements-dev.txt).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("setuptools", reason="setuptools (requirements-dev.txt) builds pyproject.toml offline")


def copy_of_tree(target: Path, pyproject: str) -> Path:
    """The tracked files' layout (empty files, real pyproject.toml and requirements.txt)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the tracked files")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    (target / "pyproject.toml").write_text(pyproject)
    shutil.copyfile(ROOT / "requirements.txt", target / "requirements.txt")
    return target


def build_wheel(project: Path) -> subprocess.CompletedProcess[str]:
    # What `pip install .` does first, without the network: no index, the installed setuptools.
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", "dist", "."],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def requirements() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def normalized(requirement: str) -> tuple[str, frozenset[str]]:
    name, specs = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", requirement).groups()  # type: ignore[union-attr]
    return name.lower().replace("_", "-"), frozenset(s.strip() for s in specs.split(",") if s.strip())


def test_pip_install_dot_builds_an_empty_distribution_with_the_app_dependencies(tmp_path: Path) -> None:
    project = copy_of_tree(tmp_path / "sioless", (ROOT / "pyproject.toml").read_text())
    result = build_wheel(project)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (project / "dist").glob("sioless-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(next(n for n in names if n.endswith("dist-info/METADATA"))).decode())
    assert all(".dist-info/" in n for n in names), f"the wheel installs code: {names}"
    declared = {normalized(r) for r in metadata.get_all("Requires-Dist") or []}
    assert declared == {normalized(r) for r in requirements()}, "pip install . must install requirements.txt"


def test_without_the_declaration_the_flat_layout_is_refused(tmp_path: Path) -> None:
    # The test above can fail: setuptools' automatic discovery refuses this layout.
    text = (ROOT / "pyproject.toml").read_text()
    text = re.sub(r"\[tool\.setuptools\]\npackages = \[\]\npy-modules = \[\]\n", "", text)
    assert "packages = []" not in text
    result = build_wheel(copy_of_tree(tmp_path / "sioless", text))
    assert result.returncode != 0
    assert "Multiple top-level" in result.stdout + result.stderr
