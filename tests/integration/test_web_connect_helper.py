"""web/sioless.js (the connect helper) with node's stock socket.io-client against the offline stack.

The emulator is restarted under a connected client: the helper must bring it back by itself, with a fresh
negotiation, and the page's ``connect`` listener must run again (where it re-joins its rooms).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "node" / "connect_helper.mjs"
APP = ROOT / "tests" / "fixtures" / "apps" / "greeting"


def _line(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, process.stderr.read() if process.stderr else "no output"
    return json.loads(line)  # type: ignore[no-any-return]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")
def test_helper_connects_refuses_and_reconnects_after_an_emulator_restart(sioless_stack_factory) -> None:
    stack = sioless_stack_factory(APP)
    node = subprocess.Popen(
        ["node", str(SCRIPT), stack.devhost_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        ready = _line(node)
        assert not ready.get("failed"), ready
        stack.stop_emulator()
        stack.start_emulator()
        assert node.stdin is not None
        node.stdin.write("check\n")
        node.stdin.flush()
        result = _line(node)
        failed = [c for c in result["checks"] if not c["ok"]]
        assert not failed, json.dumps(failed, indent=1)
        assert len(result["checks"]) >= 12
        assert node.wait(10) == 0
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(5)
