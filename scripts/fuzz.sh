#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (docs/fuzzing.md), each for FUZZ_SECONDS (default 300),
# from seed corpora made here from the repository's fixtures, so a clean clone needs nothing
# left over. A crash fails with the reproducer's path and the command that replays it.
#   scripts/fuzz.sh [TARGET...]        FUZZ_SECONDS=12 scripts/fuzz.sh   (make test's pass)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${FUZZ_SECONDS:-300}"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(snapshot profile trace metrics_request)
WORK=target/fuzz
command -v cargo-fuzz >/dev/null || { echo "fuzz: cargo-fuzz is not installed; install it with: cargo install cargo-fuzz --locked" >&2; exit 1; }
cargo +nightly --version >/dev/null 2>&1 || { echo "fuzz: no nightly toolchain; install it with: rustup toolchain install nightly --profile minimal" >&2; exit 1; }

seeds() { # TARGET -> fills $WORK/seeds/TARGET from the fixtures
  local dir="$WORK/seeds/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  case "$1" in
    snapshot)
      # A real snapshot of an idle Node, cut to its header and first rows, and a whole small
      # snapshot in V8's layout (the parser's doc example).
      node -e 'const v8=require("v8"),fs=require("fs");const s=v8.getHeapSnapshot();const c=[];let n=0;s.on("data",d=>{if(n<4096){c.push(d);n+=d.length}});s.on("end",()=>fs.writeFileSync(process.argv[1],Buffer.concat(c).subarray(0,4096)))' "$dir/node-head"
      printf '%s' '{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","detachedness"],"node_types":[["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"],"string","number","number","number","number"],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],"location_fields":["object_index","script_id","line","column"]},"node_count":3,"edge_count":3,"trace_function_count":0},
"nodes":[9,0,1,0,2,0
,9,1,3,0,1,0
,3,2,5,64,0,0],
"edges":[5,1,6
,1,0,12
,2,3,12],
"locations":[12,7,3,14],
"strings":["","(GC roots)","Leaky","cache","\ud800x\u00e9"]}' > "$dir/small.heapsnapshot" ;;
    profile)
      node fixtures/generate.mjs "$WORK/gen-profiles" --profiles --only leaky --jobs 1 >/dev/null
      cp "$WORK/gen-profiles/leaky/base.heapprofile" "$dir/base.heapprofile"
      head -c 4096 "$WORK/gen-profiles/leaky/leak.heapprofile" > "$dir/leak-head" ;;
    trace)
      for f in fast_leak_ticker idle_ticker steady_http external_leak_http; do
        head -n 40 "fixtures/traces/$f.csv" > "$dir/$f.csv"
      done ;;
    metrics_request)
      printf '\x05GET /metrics HTTP/1.1\r\nHost: 10.0.0.7:9464\r\nUser-Agent: Prometheus/2.45.0\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\nAccept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n' > "$dir/prometheus"
      printf '\x01HEAD / HTTP/1.0\n\n' > "$dir/head-index"
      printf '\x90POST /metrics?x=1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n' > "$dir/post" ;;
  esac
}

mkdir -p "$WORK"
build_start=$(date +%s)
if ! cargo +nightly fuzz build >"$WORK/build.log" 2>&1; then
  cat "$WORK/build.log" >&2
  echo "fuzz: building the fuzz targets failed" >&2
  exit 1
fi
echo "fuzz: targets built in $(( $(date +%s) - build_start )) s"

failed=0
for t in "${TARGETS[@]}"; do
  seeds "$t"
  corpus="$WORK/corpus/$t" artifacts="$WORK/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  log="$WORK/$t.log"
  echo "fuzz: $t for ${SECONDS_EACH} s"
  if cargo +nightly fuzz run "$t" "$corpus" "$WORK/seeds/$t" -- \
      -max_total_time="$SECONDS_EACH" -max_len=16384 -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "fuzz: $t ok: ${runs:-?} runs, ${rate:-?} execs/s, corpus $(ls "$corpus" | wc -l) inputs"
  else
    failed=1
    tail -n 40 "$log" >&2
    crash=$(ls -t "$artifacts" 2>/dev/null | head -n 1)
    echo "fuzz: $t FAILED; reproducer: $artifacts/$crash" >&2
    echo "fuzz: replay it with: cargo +nightly fuzz run $t $artifacts/$crash" >&2
  fi
done
exit "$failed"
