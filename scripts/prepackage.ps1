#!/usr/bin/env pwsh
# azd prepackage hook (azure.yaml, Windows): what the zip needs that is not in git, built before azd zips this folder.
#
# 1. web/vendor/socket.io.min.js: the pages serve the stock socket.io-client bundle from web/vendor/
#    (node_modules is never deployed), so `npm ci` installs it and it is copied there.
# 2. bin/: the Socket.IO extension is not in the GA extension bundle, so host.json names no bundle and the
#    extension is built from extensions.csproj into bin/ (what `func extensions install` does).
# Stops at the first failure: PowerShell does not stop on a failing native command by itself, so every
# one is followed by a $LASTEXITCODE check. A half-built package must never be deployed.
# A faithful port of scripts/prepackage.sh: tests/contract/test_deploy_prepackage.py compares the two.
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

function Fail([string]$Message) {
    [Console]::Error.WriteLine("prepackage: error: $Message")
    exit 1
}

if (-not (Get-Command npm -ErrorAction SilentlyContinue)) {
    Fail 'npm is not on PATH: install Node.js 20 with npm (https://nodejs.org), see docs/deploy.md'
}
if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
    Fail 'dotnet is not on PATH: install the .NET 8 SDK (https://dotnet.microsoft.com/download), see docs/deploy.md'
}

npm ci --no-audit --no-fund
if ($LASTEXITCODE -ne 0) { Fail "'npm ci' failed (see above); nothing was built" }
New-Item -ItemType Directory -Force web/vendor | Out-Null
Copy-Item node_modules/socket.io-client/dist/socket.io.min.js web/vendor/
dotnet build extensions.csproj --output bin --no-incremental
if ($LASTEXITCODE -ne 0) { Fail "'dotnet build extensions.csproj' failed (see above)" }
if (-not (Test-Path bin/extensions.json)) {
    Fail 'bin/extensions.json is missing after the build: the host would not load the Socket.IO extension'
}
Write-Output 'prepackage: web/vendor/socket.io.min.js and bin/ (Socket.IO extension) are ready'
