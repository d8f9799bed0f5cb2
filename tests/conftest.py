"""Test-suite wide configuration. Component fixtures live in their own plugin modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devhost.stack import Stack

pytest_plugins = ["devhost.pytest_plugin", "tests.fixtures.storage"]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def app_stack_3(sioless_stack_factory: Any) -> Stack:
    """The repository's function_app.py on three dev host instances behind one front (Azurite in memory)."""
    return sioless_stack_factory(ROOT, instances=3)
