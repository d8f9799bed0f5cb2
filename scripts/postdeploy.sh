#!/usr/bin/env bash
# azd postdeploy hook (azure.yaml): point the Web PubSub for Socket.IO hubs at the deployed Function App.
#
# Each hub gets one event handler:
#   https://<function host>/runtime/webhooks/socketio?code=<socketio_extension system key>
# with every user event ("*") and the system events that hub has functions for. The key only exists once
# the deployed host has loaded the Socket.IO extension, which is why this runs after `azd deploy` and not
# in Bicep. Safe to re-run: an existing hub is updated, a missing one is created.
#
# Reads azd's environment (`azd env get-values`; variables already exported, as azd does for hooks, win).
# Needs the Azure CLI signed in to the same subscription (`az login`).
# Keep in step with scripts/postdeploy.ps1: tests/contract/test_deploy_hook.py compares the two.
set -euo pipefail

# hub=system events its functions handle. List only events the app has a function for: the extension
# answers 404 to an event without a function, and a 404 on `connect` rejects every socket.
HUBS=(
  "chat=connect disconnected"
  "whiteboard=connect connected disconnected"
)
USER_EVENT_PATTERN='*'
WEBHOOK_PATH='/runtime/webhooks/socketio'
KEY_NAME='socketio_extension'
# The host creates the key when it first starts after a deploy, and it can only do so once its identity's
# storage roles work: new role assignments can take many minutes to propagate. So the wait is long and backs
# off: the first retry after SIOLESS_KEY_RETRY_SECONDS (5), doubling up to SIOLESS_KEY_MAX_RETRY_SECONDS (60),
# for SIOLESS_KEY_ATTEMPTS (30) attempts: about 26 minutes in all with the defaults.
KEY_ATTEMPTS="${SIOLESS_KEY_ATTEMPTS:-30}"
KEY_RETRY_SECONDS="${SIOLESS_KEY_RETRY_SECONDS:-5}"
KEY_MAX_RETRY_SECONDS="${SIOLESS_KEY_MAX_RETRY_SECONDS:-60}"
[[ "$KEY_ATTEMPTS" =~ ^[1-9][0-9]*$ ]] || { echo "postdeploy: error: SIOLESS_KEY_ATTEMPTS must be a positive whole number" >&2; exit 1; }
[[ "$KEY_RETRY_SECONDS" =~ ^[0-9]+$ ]] || { echo "postdeploy: error: SIOLESS_KEY_RETRY_SECONDS must be a whole number of seconds" >&2; exit 1; }
[[ "$KEY_MAX_RETRY_SECONDS" =~ ^[0-9]+$ ]] || { echo "postdeploy: error: SIOLESS_KEY_MAX_RETRY_SECONDS must be a whole number of seconds" >&2; exit 1; }

fail() {
  echo "postdeploy: error: $*" >&2
  exit 1
}

note() {
  echo "postdeploy: $*"
}

command -v az >/dev/null 2>&1 || fail "the Azure CLI (az) is not on PATH: install it (https://aka.ms/azcli) and run 'az login'"
command -v azd >/dev/null 2>&1 || fail "the Azure Developer CLI (azd) is not on PATH: install it (https://aka.ms/azd)"

ENV_VALUES="$(azd env get-values)" || fail "'azd env get-values' failed: run this from the project directory after 'azd provision'"

# Prints the value of an azd environment variable: the exported one if set, else azd's.
azd_value() {
  local name="$1" exported="${!1:-}" line value
  if [[ -n "$exported" ]]; then
    printf '%s' "$exported"
    return
  fi
  line="$(grep -E "^${name}=" <<<"$ENV_VALUES" | tail -n 1 || true)"
  value="${line#*=}"
  value="${value%$'\r'}"
  value="${value#\"}"
  value="${value%\"}"
  printf '%s' "$value"
}

require() {
  local value
  value="$(azd_value "$1")"
  [[ -n "$value" ]] || fail "$1 is not in the azd environment: run 'azd provision' (or 'azd env refresh') first"
  printf '%s' "$value"
}

SUBSCRIPTION="$(require AZURE_SUBSCRIPTION_ID)"
RESOURCE_GROUP="$(require AZURE_RESOURCE_GROUP)"
FUNCTION_NAME="$(require AZURE_FUNCTION_NAME)"
FUNCTION_URL="$(require AZURE_FUNCTION_URL)"
WEBPUBSUB_NAME="$(require WEBPUBSUB_NAME)"
FUNCTION_URL="${FUNCTION_URL%/}"

az account show --subscription "$SUBSCRIPTION" --output none >/dev/null 2>&1 ||
  fail "the Azure CLI is not signed in to subscription $SUBSCRIPTION: run 'az login' (and 'az account set --subscription $SUBSCRIPTION')"

if ! az extension show --name webpubsub --output none >/dev/null 2>&1; then
  note "installing the Azure CLI extension 'webpubsub'"
  az extension add --name webpubsub --only-show-errors ||
    fail "could not install the Azure CLI extension 'webpubsub': run 'az extension add --name webpubsub'"
fi

# The key is a secret: it goes only into the hub's URL template, never to the output.
KEY=""
KEY_ERRORS="$(mktemp)"
trap 'rm -f "$KEY_ERRORS"' EXIT
delay="$KEY_RETRY_SECONDS"
waited=0
for ((attempt = 1; attempt <= KEY_ATTEMPTS; attempt++)); do
  if KEY="$(az functionapp keys list --subscription "$SUBSCRIPTION" --resource-group "$RESOURCE_GROUP" \
    --name "$FUNCTION_NAME" --query "systemKeys.${KEY_NAME}" --output tsv 2>"$KEY_ERRORS")"; then
    KEY="${KEY//[$'\r\n\t ']/}"
    [[ -n "$KEY" ]] && break
  else
    KEY=""
  fi
  if ((attempt < KEY_ATTEMPTS)); then
    ((delay > KEY_MAX_RETRY_SECONDS)) && delay="$KEY_MAX_RETRY_SECONDS"
    note "waiting for $FUNCTION_NAME to create its '$KEY_NAME' system key (attempt $attempt/$KEY_ATTEMPTS, ${waited}s so far, next in ${delay}s): the host creates it once it has started with the Socket.IO extension, which can take a while after new role assignments"
    sleep "$delay"
    waited=$((waited + delay))
    delay=$((delay * 2))
  fi
done
if [[ -z "$KEY" ]]; then
  cat "$KEY_ERRORS" >&2
  fail "$FUNCTION_NAME has no '$KEY_NAME' system key after $KEY_ATTEMPTS attempts (${waited}s). Either the role assignments have not propagated yet (the host cannot use its storage until they do): wait a few minutes and run scripts/postdeploy.sh again (or set SIOLESS_KEY_ATTEMPTS higher). Or the host did not load the Socket.IO extension: check that bin/extensions.json was deployed (azure.yaml's prepackage hook runs 'dotnet build extensions.csproj --output bin', which needs the .NET 8 SDK) and the host's start-up errors in Application Insights (traces)"
fi

URL_TEMPLATE="${FUNCTION_URL}${WEBHOOK_PATH}?code=${KEY}"

configure_hub() {
  local hub="$1" events="$2" verb event
  local -a handler=("url-template=${URL_TEMPLATE}" "user-event-pattern=${USER_EVENT_PATTERN}")
  for event in $events; do
    handler+=("system-event=${event}")
  done
  if az webpubsub hub show --subscription "$SUBSCRIPTION" --resource-group "$RESOURCE_GROUP" \
    --name "$WEBPUBSUB_NAME" --hub-name "$hub" --output none >/dev/null 2>&1; then
    verb=update
  else
    verb=create
  fi
  az webpubsub hub "$verb" --subscription "$SUBSCRIPTION" --resource-group "$RESOURCE_GROUP" \
    --name "$WEBPUBSUB_NAME" --hub-name "$hub" --allow-anonymous false \
    --event-handler "${handler[@]}" --output none ||
    fail "'az webpubsub hub $verb' failed for hub '$hub' on $WEBPUBSUB_NAME"
  note "hub '$hub' ${verb}d: ${FUNCTION_URL}${WEBHOOK_PATH}, user events '${USER_EVENT_PATTERN}', system events: ${events:-none}"
}

for entry in "${HUBS[@]}"; do
  configure_hub "${entry%%=*}" "${entry#*=}"
done
note "done: the app is at ${FUNCTION_URL}"
