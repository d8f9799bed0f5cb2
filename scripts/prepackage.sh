#!/usr/bin/env bash
# azd prepackage hook (azure.yaml): what the zip needs that is not in git, built before azd zips this folder.
#
# 1. web/vendor/socket.io.min.js: the pages serve the stock socket.io-client bundle from web/vendor/
#    (node_modules is never deployed), so `npm ci` installs it and it is copied there.
# 2. bin/: the Socket.IO extension is not in the GA extension bundle, so host.json names no bundle and the
#    extension is built from extensions.csproj into bin/ (what `func extensions install` does).
# Stops at the first failure (set -e): a half-built package must never be deployed.
# Keep in step with scripts/prepackage.ps1: tests/contract/test_deploy_prepackage.py runs this one and
# compares the two.
set -euo pipefail

fail() {
  echo "prepackage: error: $*" >&2
  exit 1
}

command -v npm >/dev/null 2>&1 || fail "npm is not on PATH: install Node.js 20 with npm (https://nodejs.org), see docs/deploy.md"
command -v dotnet >/dev/null 2>&1 || fail "dotnet is not on PATH: install the .NET 8 SDK (https://dotnet.microsoft.com/download), see docs/deploy.md"

npm ci --no-audit --no-fund || fail "'npm ci' failed (see above); nothing was built"
mkdir -p web/vendor
cp node_modules/socket.io-client/dist/socket.io.min.js web/vendor/ || fail "could not copy the socket.io-client bundle to web/vendor/"
dotnet build extensions.csproj --output bin --no-incremental || fail "'dotnet build extensions.csproj' failed (see above)"
[[ -f bin/extensions.json ]] || fail "bin/extensions.json is missing after the build: the host would not load the Socket.IO extension"
echo "prepackage: web/vendor/socket.io.min.js and bin/ (Socket.IO extension) are ready"
