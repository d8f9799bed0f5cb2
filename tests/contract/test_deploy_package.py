"""What the deployment zip holds, computed from ``.funcignore`` the way azd does (tests/fixtures/deploy_zip.py).

Because ``.funcignore`` exists, azd drops its built-in Python exclusions (``__pycache__``, virtual environments),
so the file itself must keep caches, tests and the offline stack out. The zip must hold the app and nothing
else: ``function_app.py``, ``host.json``, ``requirements.txt``, ``functions/``, ``shared/``, ``web/`` (with the
``web/vendor/`` bundle the prepackage hook copies) and ``bin/`` (the extension the prepackage hook builds).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.deploy_zip import IGNORE_FILE, zip_members

ROOT = Path(__file__).resolve().parents[2]
APP_FILES = {"function_app.py", "host.json", "requirements.txt"}
APP_DIRS = ("functions/", "shared/", "web/")
# Built by the prepackage hook (git-ignored, so not in `git ls-files`), and shipped.
BUILT = {
    "bin/extensions.json",
    "bin/Microsoft.Azure.WebJobs.Extensions.WebPubSubForSocketIO.dll",
    "web/vendor/socket.io.min.js",
}
# What a working copy collects and must never ship: caches, virtual environments (azd restore makes
# <folder>_env/), local settings, build leftovers, test output, azd's own state.
LEFTOVERS = [
    "functions/__pycache__/chat.cpython-313.pyc",
    "shared/__pycache__/__init__.cpython-313.pyc",
    "shared/protocol/__pycache__/_packets.cpython-313.pyc",
    "web/__pycache__/stray.pyc",
    "functions/stale.pyc",
    ".venv/pyvenv.cfg",
    ".venv/lib/python3.13/site-packages/azure/functions/__init__.py",
    "sioless_env/pyvenv.cfg",
    "sioless_env/lib/python3.13/site-packages/azure/functions/__init__.py",
    ".python_packages/lib/site-packages/x.py",
    "sioless.egg-info/PKG-INFO",
    "build/lib/x.py",
    ".pytest_cache/v/cache/lastfailed",
    ".mypy_cache/3.13/cache.db",
    ".ruff_cache/0.17.6/123",
    ".hypothesis/examples/abc",
    ".coverage",
    "htmlcov/index.html",
    "local.settings.json",
    ".azure/dev/.env",
    ".azurite/__azurite_db_table__.json",
    "__blobstorage__/x",
    "node_modules/socket.io-client/dist/socket.io.min.js",
    "obj/project.assets.json",
    "test-artifacts/whiteboard-1.png",
    ".vscode/settings.json",
    ".github/workflows/ci.yml",
]
FORBIDDEN_PARTS = (
    "__pycache__",
    ".venv",
    "_env/",
    ".python_packages",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "node_modules",
    "local.settings.json",
    "tests/",
    "emulator/",
    "devhost/",
    "benchmarks/",
    "infra/",
    "scripts/",
    "docs/",
    ".azure",
    ".azurite",
    "obj/",
    "test-artifacts",
)


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the tracked files")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def expected_app(files: list[str] | set[str]) -> set[str]:
    return {f for f in files if f in APP_FILES or f.startswith(APP_DIRS) or f.startswith("bin/")}


@pytest.fixture
def working_copy(tmp_path: Path) -> Path:
    """Every tracked file (empty, except .funcignore), the hook's build output, and a developer's leftovers."""
    tree = tmp_path / "sioless"
    for name in [*tracked_files(), *BUILT, *LEFTOVERS]:
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    shutil.copyfile(ROOT / IGNORE_FILE, tree / IGNORE_FILE)
    return tree


def forbidden(members: set[str]) -> list[str]:
    return sorted(m for m in members if any(part in m for part in FORBIDDEN_PARTS) or m.endswith((".pyc", ".pyo")))


def test_the_zip_holds_the_app_and_nothing_else(working_copy: Path) -> None:
    members = zip_members(working_copy)
    assert not forbidden(members), f"would be deployed: {forbidden(members)}"
    expected = expected_app(tracked_files()) | BUILT
    assert members == expected, (
        f"missing from the zip: {sorted(expected - members)}; unexpected in the zip: {sorted(members - expected)}. "
        "Ship only the app: extend .funcignore, or (for a new app folder) APP_DIRS here"
    )
    for must in (
        "function_app.py",
        "host.json",
        "requirements.txt",
        "bin/extensions.json",
        "web/vendor/socket.io.min.js",
    ):
        assert must in members
    assert {m for m in members if m.startswith("functions/")} >= {"functions/chat.py", "functions/whiteboard.py"}


def test_without_the_cache_rules_the_check_fails(working_copy: Path) -> None:
    # The check above can fail: drop the cache rules and the caches are zipped (azd's own Python defaults
    # no longer apply once .funcignore exists).
    rules = (working_copy / IGNORE_FILE).read_text().splitlines()
    kept = [r for r in rules if r.strip() not in ("__pycache__/", "*.py[cod]", "*_env/", ".venv/")]
    (working_copy / IGNORE_FILE).write_text("\n".join(kept) + "\n")
    leaked = forbidden(zip_members(working_copy))
    assert "functions/__pycache__/chat.cpython-313.pyc" in leaked
    assert "sioless_env/pyvenv.cfg" in leaked and ".venv/pyvenv.cfg" in leaked


def test_without_a_funcignore_azd_defaults_drop_only_caches_and_venvs(working_copy: Path) -> None:
    # azd's built-in Python exclusions, for contrast: caches and venvs go, tests and the offline stack ship.
    (working_copy / IGNORE_FILE).unlink()
    members = zip_members(working_copy)
    assert not any("__pycache__" in m or m.startswith((".venv/", "sioless_env/")) for m in members)
    assert "tests/conftest.py" in members and "devhost/_app.py" in members
    assert "local.settings.json" not in members and not any(m.startswith(".azure/") for m in members)


def test_this_working_copy_would_ship_no_leftovers() -> None:
    # The real tree (with its .venv, node_modules and caches): the same rules, the same verdict.
    members = zip_members(ROOT)
    assert not forbidden(members), f"would be deployed from this checkout: {forbidden(members)}"
    assert expected_app(tracked_files()) <= members
