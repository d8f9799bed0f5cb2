"""The azd post-deploy hook wires both hubs to the function's webhook (docs/deploy.md,
docs/protocol.md#event-handler-settings).

``scripts/postdeploy.sh`` runs for real (bash) against stand-in ``az``/``azd`` executables placed first on PATH
(tests/fixtures/deploy_fakes.py); their recorded calls are what Azure would have been asked to do.
``scripts/postdeploy.ps1`` cannot run here (no pwsh): it is compared with the bash hook textually.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.deploy_fakes import FakeCloud

ROOT = Path(__file__).resolve().parents[2]
HOOK_SH = ROOT / "scripts" / "postdeploy.sh"
HOOK_PS1 = ROOT / "scripts" / "postdeploy.ps1"
KEY = "s3cr3t-socketio-key"
# docs/protocol.md#event-handler-settings: <Function_App_Endpoint>/runtime/webhooks/socketio?code=<socketio_extension
# system key>
WEBHOOK = "https://func-abc123.azurewebsites.net/runtime/webhooks/socketio?code=" + KEY
SYSTEM_EVENTS = {"connect", "connected", "disconnected"}

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is needed to run scripts/postdeploy.sh")


def run_hook(cloud: FakeCloud, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(HOOK_SH)], cwd=ROOT, env=cloud.env(**env), capture_output=True, text=True, timeout=60
    )


def sh_hubs() -> dict[str, list[str]]:
    """The bash hook's table: ``"hub=event event"`` lines inside ``HUBS=( ... )``."""
    block = re.search(r"^HUBS=\(\n(.*?)^\)", HOOK_SH.read_text(), re.S | re.M)
    assert block, 'scripts/postdeploy.sh must declare HUBS=( ... ) with one "hub=events" line per hub'
    hubs = {}
    for hub, events in re.findall(r'^\s*"([\w-]+)=([^"]*)"\s*$', block.group(1), re.M):
        hubs[hub] = events.split()
    return hubs


def ps1_hubs() -> dict[str, list[str]]:
    block = re.search(r"^\$Hubs = \[ordered\]@\{\n(.*?)^\}", HOOK_PS1.read_text(), re.S | re.M)
    assert block, "scripts/postdeploy.ps1 must declare $Hubs = [ordered]@{ ... }"
    hubs = {}
    for hub, events in re.findall(r"^\s*'([\w-]+)'\s*=\s*@\(([^)]*)\)\s*$", block.group(1), re.M):
        hubs[hub] = re.findall(r"'([^']+)'", events)
    return hubs


def hub_calls(cloud: FakeCloud, verb: str | None = None) -> list[dict[str, Any]]:
    calls = [c["args"] for c in cloud.calls() if c["tool"] == "az" and c["args"][:2] == ["webpubsub", "hub"]]
    return [{"verb": a[2], "args": a} for a in calls if verb is None or a[2] == verb]


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def handler_items(args: list[str]) -> list[str]:
    items = []
    for arg in args[args.index("--event-handler") + 1 :]:
        if arg.startswith("--"):
            break
        items.append(arg)
    return items


@pytest.fixture
def cloud(tmp_path: Path) -> FakeCloud:
    return FakeCloud().install(tmp_path / "fakebin")


def test_hook_is_an_executable_bash_script() -> None:
    # azd runs a posix hook by its path, so the shebang and the executable bit matter.
    assert HOOK_SH.read_text().startswith("#!/usr/bin/env bash\n")
    assert HOOK_SH.stat().st_mode & 0o111, "scripts/postdeploy.sh must be executable (git update-index --chmod=+x)"
    subprocess.run(["bash", "-n", str(HOOK_SH)], check=True)


def test_first_run_creates_both_hubs_with_webhook_key_and_events(cloud: FakeCloud) -> None:
    result = run_hook(cloud)
    assert result.returncode == 0, result.stderr
    expected = sh_hubs()
    assert set(expected) == {"chat", "whiteboard"}

    creates = hub_calls(cloud, "create")
    assert [option(c["args"], "--hub-name") for c in creates] == list(expected)
    assert not hub_calls(cloud, "update")
    for call in creates:
        args = call["args"]
        hub = option(args, "--hub-name")
        assert option(args, "--subscription") == cloud.subscription
        assert option(args, "--resource-group") == cloud.resource_group
        assert option(args, "--name") == cloud.webpubsub_name
        assert option(args, "--allow-anonymous") == "false"
        items = handler_items(args)
        assert items[:2] == [f"url-template={WEBHOOK}", "user-event-pattern=*"]
        assert items[2:] == [f"system-event={e}" for e in expected[hub]]

    # What the (fake) service now holds: one handler per hub, anonymous connects denied.
    hubs = cloud.state()["hubs"]
    for hub, events in expected.items():
        handler = hubs[hub]["eventHandlers"][0]
        assert handler["url-template"] == WEBHOOK
        assert handler["user-event-pattern"] == "*"
        assert handler["systemEvents"] == events
        assert hubs[hub]["anonymousConnectPolicy"] == "deny"


def test_rerun_updates_instead_of_failing(cloud: FakeCloud) -> None:
    assert run_hook(cloud).returncode == 0
    cloud.clear_calls()
    cloud.set_key_answers(["rotated-key"])  # a redeploy may come with a new key: the re-run must apply it

    result = run_hook(cloud)
    assert result.returncode == 0, result.stderr
    assert not hub_calls(cloud, "create")
    updates = hub_calls(cloud, "update")
    assert [option(c["args"], "--hub-name") for c in updates] == list(sh_hubs())
    for call in updates:
        assert handler_items(call["args"])[0].endswith("/runtime/webhooks/socketio?code=rotated-key")
    assert all(
        h["eventHandlers"][0]["url-template"].endswith("code=rotated-key") for h in cloud.state()["hubs"].values()
    )


def test_one_existing_hub_is_updated_and_the_other_created(tmp_path: Path) -> None:
    existing = {"eventHandlers": [{"url-template": "https://old.example/runtime/webhooks/socketio?code=old"}]}
    cloud = FakeCloud(hubs={"chat": existing}).install(tmp_path / "fakebin")
    assert run_hook(cloud).returncode == 0
    verbs = {option(c["args"], "--hub-name"): c["verb"] for c in hub_calls(cloud) if c["verb"] != "show"}
    assert verbs == {"chat": "update", "whiteboard": "create"}
    assert cloud.state()["hubs"]["chat"]["eventHandlers"][0]["url-template"] == WEBHOOK


def test_waits_for_the_host_to_create_the_key(tmp_path: Path) -> None:
    # The host creates socketio_extension when it first loads the extension; before that the query is empty
    # (or the host is restarting and the call fails).
    answers: list[Any] = [
        "",
        {"error": "(BadRequest) Encountered an error (ServiceUnavailable) from host runtime."},
        KEY,
    ]
    cloud = FakeCloud(key_answers=answers).install(tmp_path / "fakebin")
    result = run_hook(cloud)
    assert result.returncode == 0, result.stderr
    key_calls = [c for c in cloud.calls() if c["args"][:3] == ["functionapp", "keys", "list"]]
    assert len(key_calls) == 3
    assert all(option(c["args"], "--query") == "systemKeys.socketio_extension" for c in key_calls)
    assert {handler_items(c["args"])[0] for c in hub_calls(cloud, "create")} == {f"url-template={WEBHOOK}"}


def test_gives_up_with_an_actionable_message_when_the_extension_never_loads(tmp_path: Path) -> None:
    cloud = FakeCloud(key_answers=[""]).install(tmp_path / "fakebin")
    result = run_hook(cloud, SIOLESS_KEY_ATTEMPTS="3")
    assert result.returncode != 0
    assert "no 'socketio_extension' system key after 3 attempts (15s)" in result.stderr
    assert "role assignments have not propagated yet" in result.stderr, "the slow-propagation case is named"
    assert "run scripts/postdeploy.sh again" in result.stderr
    assert "dotnet build extensions.csproj" in result.stderr
    assert not hub_calls(cloud, "create") and not hub_calls(cloud, "update")


def test_the_default_wait_backs_off_and_outlasts_slow_role_propagation(tmp_path: Path) -> None:
    # Role assignments can take many minutes to reach the host; until then it has no key (or the call fails).
    cloud = FakeCloud(key_answers=[""]).install(tmp_path / "fakebin")
    result = run_hook(cloud)
    assert result.returncode != 0
    delays = [int(s) for s in cloud.sleeps()]
    assert delays[:6] == [5, 10, 20, 40, 60, 60], "doubling from 5 s, capped at 60 s"
    assert len(delays) == 29 and max(delays) == 60
    assert sum(delays) >= 20 * 60, f"the default wait ({sum(delays)} s) must cover slow role propagation"
    assert "attempt 4/30, 35s so far, next in 40s" in result.stdout, "each wait says where it stands"
    assert f"after 30 attempts ({sum(delays)}s)" in result.stderr


def test_a_key_arriving_late_ends_the_wait_at_once(tmp_path: Path) -> None:
    answers: list[Any] = [""] * 7 + [KEY]
    cloud = FakeCloud(key_answers=answers).install(tmp_path / "fakebin")
    result = run_hook(cloud, SIOLESS_KEY_MAX_RETRY_SECONDS="30")
    assert result.returncode == 0, result.stderr
    assert [int(s) for s in cloud.sleeps()] == [5, 10, 20, 30, 30, 30, 30]
    assert {handler_items(c["args"])[0] for c in hub_calls(cloud, "create")} == {f"url-template={WEBHOOK}"}


def test_never_prints_the_key(cloud: FakeCloud) -> None:
    result = run_hook(cloud)
    assert result.returncode == 0
    assert KEY not in result.stdout + result.stderr
    assert "hub 'chat' created" in result.stdout


@pytest.mark.parametrize(
    "missing", ["AZURE_RESOURCE_GROUP", "AZURE_FUNCTION_NAME", "AZURE_FUNCTION_URL", "WEBPUBSUB_NAME"]
)
def test_missing_azd_value_fails_before_touching_azure(tmp_path: Path, missing: str) -> None:
    cloud = FakeCloud()
    env = cloud.default_azd_env()
    del env[missing]
    cloud.azd_env = env
    cloud.install(tmp_path / "fakebin")
    result = run_hook(cloud)
    assert result.returncode != 0
    assert f"{missing} is not in the azd environment" in result.stderr
    assert not [c for c in cloud.calls() if c["tool"] == "az"]


def test_exported_values_win_over_azd_env(cloud: FakeCloud) -> None:
    # azd exports its environment to hooks; a value exported by the caller is what the hook uses.
    result = run_hook(cloud, AZURE_FUNCTION_URL="https://custom.example.net/")
    assert result.returncode == 0, result.stderr
    urls = {handler_items(c["args"])[0] for c in hub_calls(cloud, "create")}
    assert urls == {f"url-template=https://custom.example.net/runtime/webhooks/socketio?code={KEY}"}


def test_not_signed_in_fails_with_az_login_hint(tmp_path: Path) -> None:
    cloud = FakeCloud(signed_in=False).install(tmp_path / "fakebin")
    result = run_hook(cloud)
    assert result.returncode != 0
    assert "az login" in result.stderr
    assert not hub_calls(cloud)


def test_installs_the_webpubsub_cli_extension_when_missing(tmp_path: Path) -> None:
    cloud = FakeCloud(extensions=[]).install(tmp_path / "fakebin")
    assert run_hook(cloud).returncode == 0
    assert ["extension", "add", "--name", "webpubsub", "--only-show-errors"] in [c["args"] for c in cloud.calls()]


@pytest.mark.parametrize(
    ("name", "value"),
    [("SIOLESS_KEY_ATTEMPTS", "many"), ("SIOLESS_KEY_RETRY_SECONDS", "-1"), ("SIOLESS_KEY_MAX_RETRY_SECONDS", "1m")],
)
def test_bad_retry_settings_are_refused(cloud: FakeCloud, name: str, value: str) -> None:
    result = run_hook(cloud, **{name: value})
    assert result.returncode != 0 and name in result.stderr
    assert not [c for c in cloud.calls() if c["tool"] == "az"]


# --- PowerShell twin (pwsh is not installed here: compare the texts) ---------------------------------------


def az_invocations(text: str) -> list[str]:
    """Each ``az`` command line (continuations joined), from ``az`` on; messages that mention az don't count."""
    joined = re.sub(r"(?:\\|`)\n\s*", " ", text)  # bash `\` and PowerShell backtick continuations
    position = re.compile(r"^\s*(?:if !? *)?(?:\S+=\"?\$\(|\$\w+ = )?az (.*)$")
    return [m.group(1) for line in joined.splitlines() if (m := position.match(line))]


def az_commands(text: str) -> list[tuple[str, ...]]:
    """``az`` invocations as their command words, in order (a variable counts as the word ``$VAR``)."""
    commands = []
    for rest in az_invocations(text):
        words = []
        for word in rest.split():
            if word.startswith("-"):
                break
            words.append("$VAR" if "$" in word else word)
        commands.append(tuple(words))
    return commands


def az_options(text: str) -> list[set[str]]:
    return [set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", rest)) for rest in az_invocations(text)]


def test_powershell_hook_makes_the_same_az_calls() -> None:
    sh, ps1 = HOOK_SH.read_text(), HOOK_PS1.read_text()
    assert az_commands(sh) == az_commands(ps1)
    assert ("functionapp", "keys", "list") in az_commands(sh)
    assert ("webpubsub", "hub", "show") in az_commands(sh)
    assert ("webpubsub", "hub", "$VAR") in az_commands(sh)
    assert az_options(sh) == az_options(ps1)


def test_powershell_hook_has_the_same_hubs_and_constants() -> None:
    sh, ps1 = HOOK_SH.read_text(), HOOK_PS1.read_text()
    assert sh_hubs() == ps1_hubs()
    for constant in (
        "'*'",
        "'/runtime/webhooks/socketio'",
        "'socketio_extension'",
        "SIOLESS_KEY_ATTEMPTS",
        "SIOLESS_KEY_RETRY_SECONDS",
        "SIOLESS_KEY_MAX_RETRY_SECONDS",
        "url-template=",
        "user-event-pattern=",
        "system-event=",
        "AZURE_SUBSCRIPTION_ID",
        "AZURE_RESOURCE_GROUP",
        "AZURE_FUNCTION_NAME",
        "AZURE_FUNCTION_URL",
        "WEBPUBSUB_NAME",
        "azd env get-values",
    ):
        assert constant in sh and constant in ps1, constant
    assert re.search(r"SIOLESS_KEY_ATTEMPTS:-30\}", sh) and "else { '30' }" in ps1, (
        "same default number of key attempts"
    )
    assert re.search(r"SIOLESS_KEY_RETRY_SECONDS:-5\}", sh) and "else { '5' }" in ps1, "same first retry delay"
    assert re.search(r"SIOLESS_KEY_MAX_RETRY_SECONDS:-60\}", sh) and "else { '60' }" in ps1, "same longest delay"
    assert "delay=$((delay * 2))" in sh and "$delay *= 2" in ps1, "both back off by doubling"
    for message in (
        "role assignments have not propagated yet",
        "run scripts/postdeploy.",
        "SIOLESS_KEY_ATTEMPTS higher",
    ):
        assert message in sh and message in ps1, message


# --- the hubs the hook wires match the functions the app registers ---------------------------------------


def registered_socketio_events() -> dict[str, set[str]]:
    """hub -> eventNames of the socketiotrigger functions ``function_app.app`` registers (what the host indexes)."""
    if not (ROOT / "function_app.py").exists():
        pytest.skip("function_app.py has not landed yet")
    function_app = importlib.import_module("function_app")  # an ImportError inside the app must fail, not skip
    events: dict[str, set[str]] = {}
    for function in function_app.app.get_functions():
        for binding in json.loads(function.get_function_json())["bindings"]:
            if binding["type"].lower() == "socketiotrigger":
                events.setdefault(binding["hub"], set()).add(binding["eventName"])
    return events


def test_every_hub_the_app_serves_is_wired_with_exactly_its_system_events() -> None:
    # docs/protocol.md#event-handler-settings: a configured system event without a function gets 404, and a 404 on
    # connect rejects
    # every socket; an unconfigured one is never delivered. So the hook's list must equal the code's.
    code = registered_socketio_events()
    wired = sh_hubs()
    assert code, "function_app registers no socketiotrigger function"
    for hub, events in code.items():
        assert hub in wired, f"hub {hub!r} has functions but scripts/postdeploy.sh (and .ps1) do not wire it"
        handled = sorted(events & SYSTEM_EVENTS)
        assert sorted(wired[hub]) == handled, (
            f"hub {hub!r}: the app handles system events {handled} but the hooks configure {sorted(wired[hub])}; "
            "update HUBS in scripts/postdeploy.sh and $Hubs in scripts/postdeploy.ps1"
        )


def test_deploy_doc_lists_the_hooks_hub_table() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    listed = re.search(r"^\s*system events: (.+)$", doc, re.M)
    assert listed, "docs/deploy.md must show the system events per hub"
    in_doc = {
        hub.strip(): [e.strip() for e in events.split(",")]
        for hub, events in (part.split("→") for part in listed.group(1).split(";"))
    }
    assert in_doc == sh_hubs()
    for command in ("azd up", "azd down --purge", "./scripts/postdeploy.sh"):
        assert command in doc
