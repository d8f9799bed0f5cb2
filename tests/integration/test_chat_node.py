"""The chat scenarios with the stock node socket.io-client (tests/node/chat_scenario.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[1] / "node" / "chat_scenario.mjs"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")
@pytest.mark.parametrize("instances", [1, 3])
def test_node_client_chat_scenarios(request: pytest.FixtureRequest, instances: int) -> None:
    stack = request.getfixturevalue("app_stack_3" if instances == 3 else "sioless_stack")
    run = subprocess.run(
        ["node", str(SCRIPT), stack.devhost_url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=SCRIPT.parents[2],
    )
    assert run.stdout.strip(), run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    failed = [c for c in result["checks"] if not c["ok"]]
    assert not failed, json.dumps(failed, indent=1)
    assert run.returncode == 0
    assert len(result["checks"]) >= 11
