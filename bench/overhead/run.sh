#!/usr/bin/env bash
# Overhead of @memwatchdog/core on an HTTP service; writes docs/benchmarks-overhead.md.
#
#   bash bench/overhead/run.sh [--rounds N] [--duration S] [--quick]
#
# Needs packages/core built (`make build-node`) and, for pinning, taskset (util-linux)
# and 2+ CPUs. Steps, all pinned: the server-side measurements on CPU $SERVER_CPU (1),
# the load generator on CPU $CLIENT_CPU (0):
#   1. packages/core/bench/gc-event.mjs, 3 times: the watchdog's CPU per GC event
#   2. ab.mjs, 5 times: in-process A/B of the service's request work (none / an empty
#      gc observer / the watchdog's observer), CPU per request
#      and again with --heap-profile: V8's sampling heap profiler (the `profile` option)
#      at several sampling intervals
#   3. profile.mjs: where the CPU goes under the watchdog (V8 sampling profiler)
#   4. run.mjs: autocannon against server.cjs (none / memwatchdog / prom-client),
#      interleaved rounds
#   5. report.mjs: docs/benchmarks-overhead.md from .bench/overhead/*.json
# --quick: 2 rounds of 5 s (a smoke test of the harness; the doc says so).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/.bench/overhead"
CORE="$ROOT/packages/core"
NODE="${NODE:-node}"
SERVER_CPU="${SERVER_CPU:-1}"
CLIENT_CPU="${CLIENT_CPU:-0}"
ROUNDS=5
DURATION=20
WARMUP=5
REPEATS=3
HEAP_PROFILE_INTERVALS="${HEAP_PROFILE_INTERVALS:-32768,131072,524288,1048576}"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --quick) ROUNDS=2; DURATION=5; WARMUP=2; REPEATS=1; shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ ! -f "$CORE/dist/cjs/index.js" ] || ! ls "$CORE"/native/*.node >/dev/null 2>&1; then
  echo "run.sh: packages/core is not built: run \`make build-node\` (or cd packages/core && npm ci && npm run build)" >&2
  exit 1
fi

PIN_SERVER=()
PIN_CLIENT=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_SERVER=(taskset -c "$SERVER_CPU")
  PIN_CLIENT=(taskset -c "$CLIENT_CPU")
else
  echo "run.sh: taskset or a second CPU missing: nothing is pinned (the doc says so)" >&2
fi

(cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.jsonl

load() { cut -d' ' -f1-3 /proc/loadavg; }
{
  echo "{"
  echo "  \"started\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
  echo "  \"loadavgStart\": \"$(load)\","
  echo "  \"commit\": \"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)\","
  echo "  \"dirty\": $(if [ -n "$(git -C "$ROOT" status --porcelain -- packages/core crates/napi crates/exporter crates/detect crates/snapguard bench/overhead 2>/dev/null)" ]; then echo true; else echo false; fi),"
  echo "  \"pinned\": $(if [ ${#PIN_SERVER[@]} -gt 0 ]; then echo true; else echo false; fi),"
  echo "  \"serverCpu\": \"$SERVER_CPU\", \"clientCpu\": \"$CLIENT_CPU\","
  echo "  \"quick\": $(if [ "$ROUNDS" = 2 ] && [ "$DURATION" = 5 ]; then echo true; else echo false; fi)"
  echo "}"
} > "$OUT/meta.json"

echo "run.sh: 1/4 CPU per GC event (packages/core/bench/gc-event.mjs) x$REPEATS, load $(load)" >&2
for _ in $(seq "$REPEATS"); do
  (cd "$CORE" && "${PIN_SERVER[@]}" "$NODE" bench/gc-event.mjs --json) >> "$OUT/gc-event.jsonl"
done

echo "run.sh: 2/4 in-process A/B (ab.mjs) x$((REPEATS + 2)), load $(load)" >&2
for _ in $(seq "$((REPEATS + 2))"); do
  "${PIN_SERVER[@]}" "$NODE" "$HERE/ab.mjs" --json >> "$OUT/ab.jsonl"
done

echo "run.sh: 2/4 sampling heap profiler (ab.mjs --heap-profile $HEAP_PROFILE_INTERVALS) x$((REPEATS + 2)), load $(load)" >&2
for _ in $(seq "$((REPEATS + 2))"); do
  "${PIN_SERVER[@]}" "$NODE" "$HERE/ab.mjs" --heap-profile "$HEAP_PROFILE_INTERVALS" --json >> "$OUT/heap-profile.jsonl"
done

echo "run.sh: 3/4 CPU profile under the watchdog (profile.mjs), load $(load)" >&2
"${PIN_SERVER[@]}" "$NODE" "$HERE/profile.mjs" --json > "$OUT/profile.json"

echo "run.sh: 4/4 HTTP: autocannon, $ROUNDS rounds x 3 variants x ${DURATION} s, load $(load)" >&2
"${PIN_CLIENT[@]}" "$NODE" "$HERE/run.mjs" --rounds "$ROUNDS" --duration "$DURATION" --warmup "$WARMUP" \
  --server-cpu "$(if [ ${#PIN_SERVER[@]} -gt 0 ]; then echo "$SERVER_CPU"; else echo none; fi)" --out "$OUT/http.json"

"$NODE" "$HERE/report.mjs" "$OUT" > "$ROOT/docs/benchmarks-overhead.md"
echo "run.sh: wrote docs/benchmarks-overhead.md (load now $(load))" >&2
