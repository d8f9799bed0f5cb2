"""Shared by the e2e tests: the node scripts here drive headless Chromium (playwright-core from node_modules) and
talk to the test over stdio: a line on stdout asks the test to act (restart the dev host, kill the emulator, ...),
a line on stdin says it is done; the last stdout line is the script's JSON result."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def needs_browser[F: Callable[..., Any]](test: F) -> F:
    """Skips ``test`` where Chromium or node is missing, saying which."""
    test = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (make setup)")(test)
    return pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed (make setup-browser)")(
        test
    )


def page_errors(result: dict[str, Any]) -> list[str]:
    """The uncaught page errors in a script's recorded console."""
    return [line for line in result["console"] if "pageerror" in line]


class PageScript:
    """``node tests/e2e/<script> <args>`` as a context manager: read its lines, answer, then ``finish``; on leaving
    the block a script still running is killed by its PID."""

    def __init__(self, script: str, *args: object) -> None:
        self.output: list[str] = []
        self.process = subprocess.Popen(
            ["node", str(Path(__file__).with_name(script)), *map(str, args)],
            cwd=ROOT,
            env={"CHROMIUM": CHROMIUM, "PATH": "/usr/bin:/bin"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __enter__(self) -> PageScript:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def lines(self) -> Iterator[str]:
        """The script's stdout lines (stripped) as they come; each is kept in ``output``."""
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.strip()
            self.output.append(line)
            yield line

    def reply(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def finish(self, timeout: float = 30) -> dict[str, Any]:
        """Waits for the script to end (what it prints meanwhile goes to ``output``); its JSON result."""
        stdout, stderr = self.process.communicate(timeout=timeout)
        self.output += [line.strip() for line in stdout.splitlines()]
        assert self.output and self.output[-1].startswith("{"), (self.output[-20:], stderr[-2000:])
        result: dict[str, Any] = json.loads(self.output[-1])
        return result
