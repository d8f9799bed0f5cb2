"""Pure logic of the dev host front and its dev loop: which files restart the instances, how one is picked."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from devhost._front import pick
from devhost._instances import watched


@pytest.mark.parametrize(
    "path",
    ["function_app.py", "functions/chat.py", "shared/compat/_server.py", "host.json", "local.settings.json"],
)
def test_app_files_restart_the_instances(path: str) -> None:
    assert watched(path)


@pytest.mark.parametrize(
    "path",
    [
        ".venv/lib/python3.13/site-packages/x.py",
        "node_modules/azurite/x.py",
        ".azurite/__azurite_db_blob__.json",
        "test-artifacts/shot.png",
        "functions/__pycache__/chat.cpython-313.pyc",
        ".pytest_cache/v/cache/lastfailed",
        ".mypy_cache/3.13/x.py",
        "web/chat.html",
        "README.md",
        "local.settings.json.example",
    ],
)
def test_other_files_do_not(path: str) -> None:
    assert not watched(path)


@dataclass
class _Backend:
    pid: int
    port: int = 0
    inflight: int = 0
    served: int = 0


def test_pick_spreads_over_every_live_instance_and_skips_refused_ones() -> None:
    live = [_Backend(1), _Backend(2), _Backend(3)]
    assert {pick(live, set()).pid for _ in range(200)} == {1, 2, 3}  # type: ignore[union-attr]
    assert {pick(live, {1, 3}).pid for _ in range(20)} == {2}  # type: ignore[union-attr]
    assert pick(live, {1, 2, 3}) is None
    assert pick([], set()) is None
