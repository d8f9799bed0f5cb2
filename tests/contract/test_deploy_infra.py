"""azd's files (azure.yaml, infra/) checked offline: they parse, name the right things and hold no secrets.

No Bicep compiler here, so the Bicep is read as text (tests/fixtures/deploy_scan.py): module wiring, params,
outputs, the resources the design needs (docs/deploy.md,
docs/protocol.md#event-handler-settings, docs/protocol.md#limits-of-serverless-mode).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.fixtures.deploy_scan import (
    bicep_modules,
    bicep_object_keys,
    bicep_outputs,
    bicep_params,
    find_secrets,
    strip_bicep_comments,
)

yaml = pytest.importorskip("yaml", reason="pyyaml (requirements-dev.txt) reads azure.yaml")

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"
API = INFRA / "app" / "api.bicep"
# Built-in role definitions (the same ids in every tenant): the only GUIDs infra/ may contain.
ROLE_IDS = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "12cf5a90-567b-43ae-8102-96cf46c7d9b4": "Web PubSub Service Owner",
}
# Values azd itself puts in every environment (not Bicep outputs).
AZD_PROVIDED = {"AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_SUBSCRIPTION_ID", "AZURE_PRINCIPAL_ID"}


def azure_yaml() -> dict:
    return yaml.safe_load((ROOT / "azure.yaml").read_text())


def bicep(path: Path) -> str:
    return strip_bicep_comments(path.read_text())


def infra_files() -> list[Path]:
    return sorted(p for p in INFRA.rglob("*") if p.is_file())


# --- azure.yaml ----------------------------------------------------------------------------------------------


def test_azure_yaml_declares_one_python_function_service() -> None:
    doc = azure_yaml()
    assert doc["name"] == "sioless"
    assert doc["infra"] == {"provider": "bicep", "path": "infra", "module": "main"}
    assert list(doc["services"]) == ["api"]
    api = doc["services"]["api"]
    assert (api["project"], api["language"], api["host"]) == (".", "python", "function")


def test_azure_yaml_hooks_point_at_existing_scripts() -> None:
    hooks = azure_yaml()["services"]["api"]["hooks"]
    assert hooks["postdeploy"]["posix"] == {"shell": "sh", "run": "./scripts/postdeploy.sh"}
    assert hooks["postdeploy"]["windows"] == {"shell": "pwsh", "run": "./scripts/postdeploy.ps1"}
    for platform in ("posix", "windows"):
        assert (ROOT / hooks["postdeploy"][platform]["run"]).is_file()


def test_the_function_app_is_tagged_with_the_azd_service_name() -> None:
    # azd finds the app to deploy to by this tag.
    (service,) = azure_yaml()["services"]
    assert f"var serviceName = '{service}'" in bicep(MAIN)
    assert re.search(r"'azd-service-name': serviceName", bicep(API))
    assert bicep_modules(bicep(MAIN))["api"][1].count("serviceName") == 1


# --- the Socket.IO extension reaches the deployed host (docs/protocol.md#extension-settings)
# ---------------------------


def test_extension_build_path_is_explicit_and_consistent() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert "extensionBundle" not in host, (
        "option B: no bundle; the extension comes from bin/ (built from extensions.csproj). The GA bundle lacks "
        "the extension and a bundle would make the host ignore bin/"
    )
    csproj = (ROOT / "extensions.csproj").read_text()
    assert re.search(r'Include="Microsoft\.Azure\.WebJobs\.Extensions\.WebPubSubForSocketIO" Version="1\.0\.0"', csproj)
    assert "Microsoft.Azure.WebJobs.Script.ExtensionsMetadataGenerator" in csproj, "it writes bin/extensions.json"
    prepackage = azure_yaml()["services"]["api"]["hooks"]["prepackage"]
    for platform in ("posix", "windows"):
        run = (ROOT / prepackage[platform]["run"]).read_text()
        assert "dotnet build extensions.csproj" in run and "--output bin" in run, run
        # The pages serve the stock socket.io-client bundle from web/vendor/; node_modules is not deployed.
        assert "socket.io-client/dist/socket.io.min.js" in run and "web/vendor" in run, run


# What the zip holds (.funcignore) is computed in tests/contract/test_deploy_package.py.


# --- parameters and outputs ------------------------------------------------------------------------------------


def test_parameters_file_matches_main_bicep() -> None:
    doc = json.loads((INFRA / "main.parameters.json").read_text())
    values = {name: spec["value"] for name, spec in doc["parameters"].items()}
    params = bicep_params(bicep(MAIN))
    assert set(values) <= set(params), f"parameters main.bicep does not declare: {set(values) - set(params)}"
    required = {name for name, has_default in params.items() if not has_default}
    assert required <= set(values), f"required params without a value: {required - set(values)}"
    assert values["environmentName"] == "${AZURE_ENV_NAME}"
    assert values["location"] == "${AZURE_LOCATION}"
    assert values["principalId"] == "${AZURE_PRINCIPAL_ID}"
    text = bicep(MAIN)
    for name, value in values.items():
        default = re.fullmatch(r"\$\{\w+=(.*)\}", value)
        if default:  # azd's ${VAR=default}: the default must be one the param allows
            allowed = re.search(rf"@allowed\(\[([^\]]*)\]\)\s*(?:@\w+\((?:'[^']*'|[^)'])*\)\s*)*param {name} ", text)
            assert allowed and f"'{default.group(1)}'" in allowed.group(1).split(), (name, value)


def test_modules_get_exactly_the_params_they_declare_and_their_outputs_exist() -> None:
    main = bicep(MAIN)
    for symbol, (path, passed) in bicep_modules(main).items():
        module = bicep(INFRA / path)
        declared = bicep_params(module)
        assert set(passed) <= set(declared), f"{symbol}: params {set(passed) - set(declared)} are not declared"
        missing = {n for n, has_default in declared.items() if not has_default} - set(passed)
        assert not missing, f"{symbol}: required params {missing} are not passed"
        outputs = set(bicep_outputs(module))
        used = set(re.findall(rf"\b{symbol}\.outputs\.(\w+)", main))
        assert used <= outputs, f"{symbol}: outputs {used - outputs} do not exist in {path}"


def test_every_value_the_hooks_read_is_an_output_or_azd_provided() -> None:
    outputs = set(bicep_outputs(bicep(MAIN)))
    sh = (ROOT / "scripts" / "postdeploy.sh").read_text()
    ps1 = (ROOT / "scripts" / "postdeploy.ps1").read_text()
    read_sh = set(re.findall(r"require (\w+)", sh))
    read_ps1 = set(re.findall(r"Get-Required '(\w+)'", ps1))
    assert read_sh == read_ps1 and read_sh
    assert read_sh <= outputs | AZD_PROVIDED, f"not in the azd environment: {read_sh - outputs - AZD_PROVIDED}"
    for name in ("AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_RESOURCE_GROUP", "APPLICATIONINSIGHTS_CONNECTION_STRING"):
        assert name in outputs


# --- the resources the design needs ---------------------------------------------------------------------------


def test_web_pubsub_is_socketio_serverless_and_key_less() -> None:
    text = bicep(INFRA / "app" / "socketio.bicep")
    assert "'Microsoft.SignalRService/webPubSub@" in text
    assert "kind: 'SocketIO'" in text
    assert re.search(r"socketIO:\s*\{\s*serviceMode: 'Serverless'\s*\}", text)
    assert "disableLocalAuth: true" in text


def test_function_app_is_not_on_flex_consumption() -> None:
    # docs/protocol.md#limits-of-serverless-mode: the extension 1.0.0 throws on every webhook on Flex Consumption.
    text = bicep(API) + bicep(MAIN)
    for flex in ("FlexConsumption", "'FC1'", "functionAppConfig", "'Y1'", "'Dynamic'"):
        assert flex not in text, f"{flex}: the hosting plan choice is Linux Dedicated (see infra/app/api.bicep)"
    assert "kind: 'functionapp,linux'" in text
    assert "linuxFxVersion: 'Python|3.13'" in text, "the project targets Python 3.13"
    assert "alwaysOn: true" in text
    assert re.search(r"@allowed\(\[\s*'B1'", bicep(MAIN))


def test_identity_storage_monitoring_and_roles() -> None:
    assert "'Microsoft.ManagedIdentity/userAssignedIdentities@" in bicep(INFRA / "app" / "identity.bicep")
    assert re.search(r"identity: \{\s*type: 'UserAssigned'", bicep(API))
    storage = bicep(INFRA / "app" / "storage.bicep")
    assert "allowSharedKeyAccess: false" in storage and "allowBlobPublicAccess: false" in storage
    monitoring = bicep(INFRA / "app" / "monitoring.bicep")
    assert "'Microsoft.Insights/components@" in monitoring and "DisableLocalAuth: true" in monitoring
    rbac = bicep(INFRA / "app" / "rbac.bicep")
    assert set(re.findall(r"'([0-9a-f-]{36})'", rbac)) == set(ROLE_IDS)
    roles = bicep_object_keys(rbac, "roles")
    for role in roles:
        assert re.search(rf"roles\.{role}\b", rbac.split("var roles", 1)[1].split("}", 1)[1]), f"{role} unused"


def test_locations_come_from_the_location_parameter() -> None:
    # Everything is in `location`, except the plan and the app, which may go to `functionLocation` (quota).
    assert "var appLocation = empty(functionLocation) ? location : functionLocation" in bicep(MAIN)
    for path in INFRA.rglob("*.bicep"):
        for value in re.findall(r"^\s*location:\s*(.+?)\s*$", bicep(path), re.M):
            assert value in ("location", "appLocation"), f"{path.relative_to(ROOT)}: location {value} is no parameter"
    api_location = re.search(r"^module api .*?^\s*location:\s*(\w+)", bicep(MAIN), re.M | re.S)
    assert api_location and api_location.group(1) == "appLocation"
    assert bicep(MAIN).count("appLocation") == 3, "appLocation is for the api module (and its output) only"


def test_web_pubsub_defaults_to_a_tier_microsoft_documents_for_serverless_mode() -> None:
    # docs/deploy.md "Web PubSub tier": Premium_P1 is what Microsoft's serverless tutorial and samples use.
    assert re.search(r"param webPubSubSku string = 'Premium_P1'", bicep(MAIN))
    values = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert values["webPubSubSku"]["value"] == "${WEBPUBSUB_SKU=Premium_P1}"
    assert values["functionPlanSku"]["value"] == "${FUNCTION_PLAN_SKU=B1}"
    # Unset FUNCTION_LOCATION: azd leaves the parameter out, so its default ('' = location) applies.
    assert values["functionLocation"]["value"] == "${FUNCTION_LOCATION}"
    doc = (ROOT / "docs" / "deploy.md").read_text()
    for switch in (
        "azd env set WEBPUBSUB_SKU Free_F1",
        "azd env set FUNCTION_PLAN_SKU",
        "azd env set FUNCTION_LOCATION",
    ):
        assert switch in doc, switch
    assert "SubscriptionIsOverQuotaForSku" in doc
    assert "azd env set AZURE_PRINCIPAL_TYPE" not in doc, "azd sets AZURE_PRINCIPAL_TYPE itself"


# --- nothing secret or machine-specific in infra/ --------------------------------------------------------------


@pytest.mark.parametrize("path", infra_files(), ids=lambda p: p.relative_to(INFRA).as_posix())
def test_infra_file_holds_no_secret_or_machine_specific_value(path: Path) -> None:
    problems = find_secrets(path.read_text(), frozenset(ROLE_IDS))
    assert not problems, f"{path.relative_to(ROOT)}: " + "; ".join(problems)


@pytest.mark.parametrize(
    "text",
    [
        "value: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc'",
        "value: 'Endpoint=https://x.webpubsub.azure.com;AccessKey=abc;Version=1.0;'",
        "url: 'https://x.blob.core.windows.net/c?sv=2022&sig=abc'",
        "scope: '/subscriptions/6a1f3c52-9b1e-4c0d-8f3e-2d7b9a4e5c10/resourceGroups/rg'",
        "key: listKeys(storage.id, '2023-01-01').keys[0].value",
        "url: 'https://func.azurewebsites.net/runtime/webhooks/socketio?code=abc'",
        "path: '/home/alice/project'",
        "path: 'C:\\\\Users\\\\alice'",
        "owner: 'alice@example.com'",
        "secret: 'c2lvbGVzcy1sb2NhbC1kZXYta2V5LW5vdC1hLXNlY3JldA=='",
    ],
)
def test_secret_scanner_catches(text: str) -> None:
    assert find_secrets(text, frozenset(ROLE_IDS))
