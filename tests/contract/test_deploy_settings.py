"""Every app setting the deployed code reads is set by the Bicep (infra/app/api.bicep ``var appSettings``).

The code is scanned, not listed: ``os.environ``/``os.getenv`` reads in ``function_app.py``, ``functions/`` and
``shared/``, every binding ``connection=`` name, plus the settings the Functions host and the Socket.IO
extension read themselves. A setting counts as set when Bicep sets it or its identity-based form
(``NAME__endpoint``, ``NAME__blobServiceUri``, ... with ``__credential``), which is how the Functions host and
the extension take connections (docs/protocol.md#extension-settings, docs/deploy.md).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.fixtures.deploy_scan import bicep_object_keys, settings_read_by_code

ROOT = Path(__file__).resolve().parents[2]
API_BICEP = ROOT / "infra" / "app" / "api.bicep"
CODE_PATHS = ["function_app.py", "functions", "shared"]

# Read by the Functions host and the Socket.IO extension whatever the Python code does.
HOST_AND_EXTENSION = {
    "AzureWebJobsStorage": "the Functions host's storage (keys, locks); the extension's webhook needs it",
    "WebPubSubForSocketIOConnectionString": "the extension's default connection (docs/protocol.md#extension-settings)",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "the host's telemetry",
}
# Provided by App Service on every instance: Bicep must not set them. Add one only with the platform doc's word.
PLATFORM_PROVIDED = {
    "WEBSITE_HOSTNAME",
    "WEBSITE_SITE_NAME",
    "WEBSITE_INSTANCE_ID",
    "WEBSITE_RESOURCE_GROUP",
    "WEBSITE_OWNER_NAME",
    "AZURE_FUNCTIONS_ENVIRONMENT",
    "HOME",
    # "Read-only. Injected ... to indicate whether App Service authentication is enabled" (Environment variables
    # and app settings in Azure App Service, learn.microsoft.com/azure/app-service/reference-app-settings).
    "WEBSITE_AUTH_ENABLED",
}
# Development switches the code reads and the infra must never set: each one makes a deployment trust the
# client (docs/identity.md). test_infra_never_sets_a_development_switch scans infra/ for them.
DEVELOPMENT_ONLY = {
    "SIOLESS_DEV_USER_ID_QUERY": "negotiate takes the user id from ?userId=",
    "SIOLESS_DEV_AUTH": "the dev host plays App Service Authentication (read by the dev host, not the app)",
}


# Sample tunables with a default in the code: optional in Azure, each documented in docs/limits.md (checked below).
TUNABLES = {
    "SIOLESS_CHAT_MAX_EVENT_BYTES",
    "SIOLESS_CHAT_EVENTS_PER_SECOND",
    "SIOLESS_CHAT_EVENT_BURST",
    "SIOLESS_WHITEBOARD_MAX_EVENT_BYTES",
    "SIOLESS_WHITEBOARD_EVENTS_PER_SECOND",
    "SIOLESS_WHITEBOARD_EVENT_BURST",
    "SIOLESS_WHITEBOARD_MAX_SHAPES",
    "SIOLESS_RATE_LIMIT_STRIKES",
    "SIOLESS_CHAT_HISTORY",
    "SIOLESS_CHAT_HISTORY_MAX_AGE_SECONDS",
    "SIOLESS_NEGOTIATE_PER_SECOND",
    "SIOLESS_NEGOTIATE_BURST",
}


def test_every_tunable_is_documented_and_read() -> None:
    docs = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    read = settings_read_by_code(ROOT, CODE_PATHS).read
    assert not [name for name in TUNABLES if name not in docs], "tunables missing from docs/limits.md"
    assert not [name for name in TUNABLES if name not in read], "tunables the code no longer reads"


def app_settings() -> list[str]:
    return bicep_object_keys(API_BICEP.read_text(), "appSettings")


def setting_value(name: str) -> str:
    match = re.search(rf"^\s*{re.escape(name)}\s*:\s*(.+?)\s*$", API_BICEP.read_text(), re.M)
    assert match, f"{name} is not set in infra/app/api.bicep"
    return match.group(1)


def is_set(name: str, keys: list[str]) -> bool:
    return name in keys or any(key.startswith(name + "__") for key in keys)


def test_the_settings_object_is_what_the_site_gets() -> None:
    text = API_BICEP.read_text()
    assert re.search(r"resource \w+ 'config' = \{\s*name: 'appsettings'\s*properties: appSettings\s*\}", text), (
        "infra/app/api.bicep must apply `var appSettings` as the site's config/appsettings"
    )


def test_bicep_sets_every_setting_the_code_reads() -> None:
    code = settings_read_by_code(ROOT, CODE_PATHS)
    keys = app_settings()
    needed: dict[str, list[str]] = {name: [why] for name, why in HOST_AND_EXTENSION.items()}
    for found in (code.read, code.connections):
        for name, where in found.items():
            needed.setdefault(name, []).extend(where)
    missing = {
        name: where
        for name, where in needed.items()
        if name not in PLATFORM_PROVIDED | DEVELOPMENT_ONLY.keys() | TUNABLES and not is_set(name, keys)
    }
    assert not missing, (
        "app settings the code reads but infra/app/api.bicep (var appSettings) does not set: "
        + "; ".join(f"{name} (read at {', '.join(where)})" for name, where in sorted(missing.items()))
    )


def test_infra_never_sets_a_development_switch() -> None:
    deployed = [ROOT / "azure.yaml", *sorted((ROOT / "infra").rglob("*")), *sorted((ROOT / "scripts").rglob("*"))]
    found = [
        f"{name} in {path.relative_to(ROOT)}"
        for path in deployed
        if path.is_file()
        for name in DEVELOPMENT_ONLY
        if name in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert not found, "a development switch in what azd deploys: " + "; ".join(found)
    assert "SIOLESS_DEV_USER_ID_QUERY" in settings_read_by_code(ROOT, CODE_PATHS).read, "the scan must see it"


def test_every_setting_read_is_visible_to_this_check() -> None:
    code = settings_read_by_code(ROOT, CODE_PATHS)
    assert not code.unresolved, (
        "settings read under a computed name cannot be checked against the Bicep; read them through a module "
        "constant or a literal: " + "; ".join(code.unresolved)
    )


def test_code_reading_an_identity_based_setting_understands_its_identity_form() -> None:
    # In Azure these connections carry no key: only NAME__endpoint / NAME__*ServiceUri (+ __credential,
    # __clientId) exist. Python code that reads NAME itself must also look at those names, or it only works
    # on a laptop.
    code = settings_read_by_code(ROOT, CODE_PATHS)
    keys = app_settings()
    problems = []
    for name, where in code.read.items():
        if name in keys or name in PLATFORM_PROVIDED:
            continue
        forms = {key for key in keys if key.startswith(name + "__")}
        suffixes = {key[len(name) :] for key in forms}
        if forms and not (forms & code.literals or suffixes & code.literals):
            problems.append(f"{name} (read at {', '.join(where)}): Azure sets only {sorted(forms)}")
    assert not problems, "code reads a connection setting but not its identity-based form: " + "; ".join(problems)


def test_connections_are_identity_based_and_key_less() -> None:
    keys = app_settings()
    for plain in ("AzureWebJobsStorage", "WebPubSubForSocketIOConnectionString"):
        assert plain not in keys, f"{plain} as a connection string would need a key; Azure uses {plain}__*"
    assert setting_value("AzureWebJobsStorage__credential") == "'managedidentity'"
    assert setting_value("WebPubSubForSocketIOConnectionString__credential") == "'managedidentity'"
    for service in ("blob", "queue", "table"):
        assert f"AzureWebJobsStorage__{service}ServiceUri" in keys
    assert setting_value("WebPubSubForSocketIOConnectionString__endpoint") == "'https://${webPubSubHostName}'"
    for name in ("AzureWebJobsStorage__clientId", "WebPubSubForSocketIOConnectionString__clientId", "AZURE_CLIENT_ID"):
        assert setting_value(name) == "identityClientId", f"{name} must name the user-assigned identity"
    assert setting_value("FUNCTIONS_WORKER_RUNTIME") == "'python'"
    assert setting_value("FUNCTIONS_EXTENSION_VERSION") == "'~4'"
    assert setting_value("SCM_DO_BUILD_DURING_DEPLOYMENT") == "'true'", "remote build installs requirements.txt"


# --- the scanners themselves (so the checks above can fail) -------------------------------------------------


def test_scanner_finds_every_kind_of_read(tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "sample.py").write_text(
        textwrap.dedent(
            """
            import os
            from os import environ, getenv

            TABLE_SETTING = "WhiteboardTable"
            PREFIX = "Whiteboard"

            def _setting(name, default=None):
                return os.environ.get(name, default)

            a = os.environ["Plain"]
            b = os.getenv("ByGetenv")
            c = environ.get(TABLE_SETTING)
            d = "Flag" in os.environ
            e = _setting("ViaHelper")
            f = getenv(f"{PREFIX}Storage__blobServiceUri")
            g = os.environ.get(compute())
            app.generic_trigger(arg_name="x", type="socketiotrigger", connection="OtherConnection")
            """
        )
    )
    found = settings_read_by_code(tmp_path, ["functions"])
    assert set(found.read) == {
        "Plain",
        "ByGetenv",
        "WhiteboardTable",
        "Flag",
        "ViaHelper",
        "WhiteboardStorage__blobServiceUri",
    }
    assert set(found.connections) == {"OtherConnection"}
    assert [u.split(": ", 1)[1] for u in found.unresolved] == ["compute()"]


def test_bicep_object_reader_skips_comments_strings_and_nested_values() -> None:
    text = textwrap.dedent(
        """
        // var appSettings = { Commented: 'x' }
        var appSettings = {
          First: 'a'
          /* Hidden: 'no' */
          'Quoted__key': 'b: not a key'
          Nested: {
            Inner: 'c'
          }
          List: [
            'd'
          ]
          Last: 'https://${host}/x?y=1' // trailing: comment
        }
        var other = { Other: 1 }
        """
    )
    assert bicep_object_keys(text, "appSettings") == ["First", "Quoted__key", "Nested", "List", "Last"]
    with pytest.raises(LookupError):
        bicep_object_keys(text, "missing")
