#!/usr/bin/env bash
# Prints the command that starts code-server (VS Code in a browser, from npm), for the editor test
# (test/editor): Node 24 (code-server requires it; from scripts/node-versions.sh) and code-server's
# entry script, installed once into a cache folder (MW_CODE_SERVER_CACHE, default
# ~/.cache/memwatchdog-code-server). Its native modules build with node-gyp and need the Kerberos
# headers (Debian: libkrb5-dev; .ci/run installs it).
#
#   packages/vscode/scripts/code-server.sh              install what is missing, print "NODE ENTRY"
#   packages/vscode/scripts/code-server.sh --no-install
set -euo pipefail
version=4.139.1
cache="${MW_CODE_SERVER_CACHE:-$HOME/.cache/memwatchdog-code-server}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
install=1
[ "${1:-}" = "--no-install" ] && install=0
if [ "$install" = 1 ]; then
  node24="$(bash "$root/scripts/node-versions.sh" | grep '/24/' || true)"
else
  node24="$(bash "$root/scripts/node-versions.sh" --no-install | grep '/24/' || true)"
fi
if [ -z "$node24" ]; then
  echo "code-server.sh: Node 24 is missing (scripts/node-versions.sh installs it)" >&2
  exit 1
fi
entry="$cache/node_modules/code-server/out/node/entry.js"
pkg="$cache/node_modules/code-server/package.json"
if [ -f "$pkg" ] && ! grep -q "\"version\": \"$version\"" "$pkg"; then
  rm -rf "${cache:?}/node_modules"
fi
if [ ! -f "$entry" ] && [ "$install" = 1 ]; then
  mkdir -p "$cache"
  if ! (cd "$cache" && PATH="$(dirname "$node24"):$PATH" npm install --no-save --no-audit --no-fund --loglevel=error "code-server@$version" >&2); then
    echo "code-server.sh: could not install code-server $version (its native modules need a C++ compiler and libkrb5-dev)" >&2
    exit 1
  fi
fi
if [ ! -f "$entry" ]; then
  echo "code-server.sh: code-server is not installed in $cache (run without --no-install)" >&2
  exit 1
fi
echo "$node24 $entry"
