#!/usr/bin/env pwsh
# azd postdeploy hook (azure.yaml, Windows): point the Web PubSub for Socket.IO hubs at the deployed Function App.
#
# Each hub gets one event handler:
#   https://<function host>/runtime/webhooks/socketio?code=<socketio_extension system key>
# with every user event ("*") and the system events that hub has functions for. The key only exists once
# the deployed host has loaded the Socket.IO extension, which is why this runs after `azd deploy` and not
# in Bicep. Safe to re-run: an existing hub is updated, a missing one is created.
#
# Reads azd's environment (`azd env get-values`; variables already exported, as azd does for hooks, win).
# Needs the Azure CLI signed in to the same subscription (`az login`).
# A faithful port of scripts/postdeploy.sh: tests/contract/test_deploy_hook.py compares the two.
Set-StrictMode -Version Latest
# Native commands (az, azd) are checked through $LASTEXITCODE; 'Stop' would turn their stderr into exceptions
# under Windows PowerShell.
$ErrorActionPreference = 'Continue'

# hub = system events its functions handle. List only events the app has a function for: the extension
# answers 404 to an event without a function, and a 404 on `connect` rejects every socket.
$Hubs = [ordered]@{
    'chat'       = @('connect', 'disconnected')
    'whiteboard' = @('connect', 'connected', 'disconnected')
}
$UserEventPattern = '*'
$WebhookPath = '/runtime/webhooks/socketio'
$KeyName = 'socketio_extension'
# The host creates the key when it first starts after a deploy, and it can only do so once its identity's
# storage roles work: new role assignments can take many minutes to propagate. So the wait is long and backs
# off: the first retry after SIOLESS_KEY_RETRY_SECONDS (5), doubling up to SIOLESS_KEY_MAX_RETRY_SECONDS (60),
# for SIOLESS_KEY_ATTEMPTS (30) attempts: about 26 minutes in all with the defaults.
$KeyAttempts = if ($env:SIOLESS_KEY_ATTEMPTS) { $env:SIOLESS_KEY_ATTEMPTS } else { '30' }
$KeyRetrySeconds = if ($env:SIOLESS_KEY_RETRY_SECONDS) { $env:SIOLESS_KEY_RETRY_SECONDS } else { '5' }
$KeyMaxRetrySeconds = if ($env:SIOLESS_KEY_MAX_RETRY_SECONDS) { $env:SIOLESS_KEY_MAX_RETRY_SECONDS } else { '60' }

function Fail([string]$Message) {
    [Console]::Error.WriteLine("postdeploy: error: $Message")
    exit 1
}

function Note([string]$Message) {
    Write-Output "postdeploy: $Message"
}

if ($KeyAttempts -notmatch '^[1-9][0-9]*$') { Fail 'SIOLESS_KEY_ATTEMPTS must be a positive whole number' }
if ($KeyRetrySeconds -notmatch '^[0-9]+$') { Fail 'SIOLESS_KEY_RETRY_SECONDS must be a whole number of seconds' }
if ($KeyMaxRetrySeconds -notmatch '^[0-9]+$') { Fail 'SIOLESS_KEY_MAX_RETRY_SECONDS must be a whole number of seconds' }
$KeyAttempts = [int]$KeyAttempts
$KeyRetrySeconds = [int]$KeyRetrySeconds
$KeyMaxRetrySeconds = [int]$KeyMaxRetrySeconds

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Fail "the Azure CLI (az) is not on PATH: install it (https://aka.ms/azcli) and run 'az login'"
}
if (-not (Get-Command azd -ErrorAction SilentlyContinue)) {
    Fail 'the Azure Developer CLI (azd) is not on PATH: install it (https://aka.ms/azd)'
}

$EnvValues = @(azd env get-values)
if ($LASTEXITCODE -ne 0) {
    Fail "'azd env get-values' failed: run this from the project directory after 'azd provision'"
}

# The value of an azd environment variable: the exported one if set, else azd's.
function Get-AzdValue([string]$Name) {
    $exported = [Environment]::GetEnvironmentVariable($Name)
    if ($exported) { return $exported }
    $value = ''
    foreach ($line in $EnvValues) {
        if ($line -match "^$([regex]::Escape($Name))=(.*)$") { $value = $Matches[1].TrimEnd("`r").Trim('"') }
    }
    return $value
}

function Get-Required([string]$Name) {
    $value = Get-AzdValue $Name
    if (-not $value) { Fail "$Name is not in the azd environment: run 'azd provision' (or 'azd env refresh') first" }
    return $value
}

$Subscription = Get-Required 'AZURE_SUBSCRIPTION_ID'
$ResourceGroup = Get-Required 'AZURE_RESOURCE_GROUP'
$FunctionName = Get-Required 'AZURE_FUNCTION_NAME'
$FunctionUrl = (Get-Required 'AZURE_FUNCTION_URL').TrimEnd('/')
$WebPubSubName = Get-Required 'WEBPUBSUB_NAME'

az account show --subscription $Subscription --output none 2>$null | Out-Null
if ($LASTEXITCODE -ne 0) {
    Fail "the Azure CLI is not signed in to subscription ${Subscription}: run 'az login' (and 'az account set --subscription $Subscription')"
}

az extension show --name webpubsub --output none 2>$null | Out-Null
if ($LASTEXITCODE -ne 0) {
    Note "installing the Azure CLI extension 'webpubsub'"
    az extension add --name webpubsub --only-show-errors
    if ($LASTEXITCODE -ne 0) { Fail "could not install the Azure CLI extension 'webpubsub': run 'az extension add --name webpubsub'" }
}

# The key is a secret: it goes only into the hub's URL template, never to the output.
$Key = ''
$KeyErrors = New-TemporaryFile
$delay = $KeyRetrySeconds
$waited = 0
for ($attempt = 1; $attempt -le $KeyAttempts; $attempt++) {
    $answer = az functionapp keys list --subscription $Subscription --resource-group $ResourceGroup `
        --name $FunctionName --query "systemKeys.$KeyName" --output tsv 2>$KeyErrors
    if ($LASTEXITCODE -eq 0) {
        $Key = (($answer | Out-String) -replace '\s', '')
        if ($Key) { break }
    }
    else {
        $Key = ''
    }
    if ($attempt -lt $KeyAttempts) {
        if ($delay -gt $KeyMaxRetrySeconds) { $delay = $KeyMaxRetrySeconds }
        Note "waiting for $FunctionName to create its '$KeyName' system key (attempt $attempt/$KeyAttempts, ${waited}s so far, next in ${delay}s): the host creates it once it has started with the Socket.IO extension, which can take a while after new role assignments"
        Start-Sleep -Seconds $delay
        $waited += $delay
        $delay *= 2
    }
}
$KeyErrorText = Get-Content -Raw $KeyErrors
Remove-Item -Force $KeyErrors
if (-not $Key) {
    if ($KeyErrorText) { [Console]::Error.WriteLine($KeyErrorText) }
    Fail "$FunctionName has no '$KeyName' system key after $KeyAttempts attempts (${waited}s). Either the role assignments have not propagated yet (the host cannot use its storage until they do): wait a few minutes and run scripts/postdeploy.ps1 again (or set SIOLESS_KEY_ATTEMPTS higher). Or the host did not load the Socket.IO extension: check that bin/extensions.json was deployed (azure.yaml's prepackage hook runs 'dotnet build extensions.csproj --output bin', which needs the .NET 8 SDK) and the host's start-up errors in Application Insights (traces)"
}

$UrlTemplate = "${FunctionUrl}${WebhookPath}?code=${Key}"   # braces: `?` may be part of a variable name

function Set-Hub([string]$Hub, [string[]]$Events) {
    $handler = @("url-template=$UrlTemplate", "user-event-pattern=$UserEventPattern")
    foreach ($systemEvent in $Events) { $handler += "system-event=$systemEvent" }
    az webpubsub hub show --subscription $Subscription --resource-group $ResourceGroup `
        --name $WebPubSubName --hub-name $Hub --output none 2>$null | Out-Null
    $verb = if ($LASTEXITCODE -eq 0) { 'update' } else { 'create' }
    az webpubsub hub $verb --subscription $Subscription --resource-group $ResourceGroup `
        --name $WebPubSubName --hub-name $Hub --allow-anonymous false `
        --event-handler @handler --output none
    if ($LASTEXITCODE -ne 0) { Fail "'az webpubsub hub $verb' failed for hub '$Hub' on $WebPubSubName" }
    $listed = if ($Events.Count -gt 0) { $Events -join ' ' } else { 'none' }
    Note "hub '$Hub' ${verb}d: $FunctionUrl$WebhookPath, user events '$UserEventPattern', system events: $listed"
}

foreach ($hub in $Hubs.Keys) {
    Set-Hub $hub $Hubs[$hub]
}
Note "done: the app is at $FunctionUrl"
