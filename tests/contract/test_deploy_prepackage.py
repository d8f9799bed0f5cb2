"""The azd prepackage hook builds bin/ and web/vendor/ and stops at the first failure.

``scripts/prepackage.sh`` runs for real (bash) in a scratch copy of the project with stand-in ``npm`` and
``dotnet`` that record their calls and succeed or fail as told; PATH holds nothing else (bash, cp, mkdir), so
a real npm or dotnet can never run. ``scripts/prepackage.ps1`` cannot run here (no pwsh): the test checks
that every native command in it is followed by an exit-code check, as PowerShell does not stop by itself.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="pyyaml (requirements-dev.txt) reads azure.yaml")

ROOT = Path(__file__).resolve().parents[2]
HOOK_SH = ROOT / "scripts" / "prepackage.sh"
HOOK_PS1 = ROOT / "scripts" / "prepackage.ps1"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash runs scripts/prepackage.sh")

# A stand-in for npm or dotnet: logs its arguments; FAIL_<TOOL>=1 makes it fail; otherwise it leaves what
# the real tool would (the socket.io-client bundle, bin/extensions.json unless NO_EXTENSIONS_JSON=1).
_FAKE = r"""
import json, os, pathlib, sys
tool = os.path.basename(sys.argv[0])
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([tool, *sys.argv[1:]]) + "\n")
if os.environ.get("FAIL_" + tool.upper()):
    sys.stderr.write(f"{tool}: simulated failure\n")
    sys.exit(1)
if tool == "npm":
    bundle = pathlib.Path("node_modules/socket.io-client/dist/socket.io.min.js")
    bundle.parent.mkdir(parents=True, exist_ok=True)
    bundle.write_text("/* socket.io-client */")
if tool == "dotnet" and not os.environ.get("NO_EXTENSIONS_JSON"):
    pathlib.Path("bin").mkdir(exist_ok=True)
    pathlib.Path("bin/extensions.json").write_text('{"extensions": []}')
"""


class Project:
    def __init__(self, root: Path) -> None:
        self.dir = root / "project"
        self.bin = root / "fakebin"
        self.log = root / "calls.jsonl"
        (self.dir / "scripts").mkdir(parents=True)
        shutil.copy2(HOOK_SH, self.dir / "scripts" / "prepackage.sh")
        shutil.copyfile(ROOT / "extensions.csproj", self.dir / "extensions.csproj")
        self.bin.mkdir()
        for tool in ("bash", "cp", "mkdir"):
            found = shutil.which(tool)
            assert found, tool
            (self.bin / tool).symlink_to(found)
        self.log.write_text("")

    def fake(self, *tools: str) -> None:
        for tool in tools:
            path = self.bin / tool
            path.write_text(f"#!{sys.executable}\n{_FAKE}")
            path.chmod(path.stat().st_mode | stat.S_IXUSR)

    def run(self, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "scripts/prepackage.sh"],
            cwd=self.dir,
            env={"PATH": str(self.bin), "FAKE_LOG": str(self.log), "HOME": str(self.dir), **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def calls(self) -> list[list[str]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project(tmp_path)
    made.fake("npm", "dotnet")
    return made


def test_azure_yaml_runs_the_prepackage_scripts() -> None:
    hooks = yaml.safe_load((ROOT / "azure.yaml").read_text())["services"]["api"]["hooks"]
    assert hooks["prepackage"]["posix"] == {"shell": "sh", "run": "./scripts/prepackage.sh"}
    assert hooks["prepackage"]["windows"] == {"shell": "pwsh", "run": "./scripts/prepackage.ps1"}
    # azd runs a posix hook file by its path: the shebang and the executable bit matter.
    assert HOOK_SH.read_text().startswith("#!/usr/bin/env bash\n") and HOOK_SH.stat().st_mode & 0o111


def test_builds_the_bundle_and_the_extension(project: Project) -> None:
    result = project.run()
    assert result.returncode == 0, result.stderr
    assert project.calls() == [
        ["npm", "ci", "--no-audit", "--no-fund"],
        ["dotnet", "build", "extensions.csproj", "--output", "bin", "--no-incremental"],
    ]
    assert (project.dir / "web" / "vendor" / "socket.io.min.js").read_text() == "/* socket.io-client */"
    assert (project.dir / "bin" / "extensions.json").is_file()


def test_a_failed_npm_ci_stops_before_anything_else(project: Project) -> None:
    result = project.run(FAIL_NPM="1")
    assert result.returncode != 0
    assert "'npm ci' failed" in result.stderr
    assert [call[0] for call in project.calls()] == ["npm"], "nothing may run after a failed npm ci"
    assert not (project.dir / "web").exists() and not (project.dir / "bin").exists()


def test_a_failed_dotnet_build_fails_the_hook(project: Project) -> None:
    result = project.run(FAIL_DOTNET="1")
    assert result.returncode != 0
    assert "'dotnet build extensions.csproj' failed" in result.stderr


def test_a_build_without_extensions_json_fails_the_hook(project: Project) -> None:
    result = project.run(NO_EXTENSIONS_JSON="1")
    assert result.returncode != 0
    assert "bin/extensions.json is missing" in result.stderr


@pytest.mark.parametrize(("missing", "hint"), [("npm", "install Node.js"), ("dotnet", "install the .NET 8 SDK")])
def test_a_missing_tool_is_named_before_anything_runs(tmp_path: Path, missing: str, hint: str) -> None:
    made = Project(tmp_path)
    made.fake(*({"npm", "dotnet"} - {missing}))
    result = made.run()
    assert result.returncode != 0
    assert f"{missing} is not on PATH" in result.stderr and hint in result.stderr
    assert made.calls() == []


# --- PowerShell twin -------------------------------------------------------------------------------------


def test_powershell_hook_checks_every_native_command_and_makes_the_same_calls() -> None:
    ps1 = HOOK_PS1.read_text()
    sh = HOOK_SH.read_text()
    lines = [line.strip() for line in ps1.splitlines()]
    native = [i for i, line in enumerate(lines) if re.match(r"(npm|dotnet) ", line)]
    assert [lines[i] for i in native] == [
        "npm ci --no-audit --no-fund",
        "dotnet build extensions.csproj --output bin --no-incremental",
    ]
    for i in native:
        assert lines[i + 1].startswith("if ($LASTEXITCODE -ne 0) { Fail "), f"no exit-code check after {lines[i]!r}"
    for command in ("npm ci --no-audit --no-fund", "dotnet build extensions.csproj --output bin --no-incremental"):
        assert command in sh
    # No `;` chaining: a later command must never run after a failed one.
    code = [re.sub(r"'[^']*'|\"[^\"]*\"", "''", line) for line in lines if not line.startswith("#")]
    assert not [line for line in code if ";" in line], "a `;` runs the next command after a failure"
    assert "$ErrorActionPreference = 'Stop'" in ps1  # cmdlets (Copy-Item, New-Item) stop on error
    for constant in ("bin/extensions.json", "socket.io-client/dist/socket.io.min.js", "web/vendor", "is not on PATH"):
        assert constant in ps1 and constant in sh, constant
