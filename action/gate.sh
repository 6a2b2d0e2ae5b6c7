#!/usr/bin/env bash
# The memory-check action's gate: takes the workload's snapshots (action/workload.mjs) and runs
# `mw check` on them. mw check appends the Markdown summary to GITHUB_STEP_SUMMARY and
# passed/growth_bytes/top_suspect/report/html to GITHUB_OUTPUT; this script adds `dir`, where
# report.html, report.json and summary.md are (the uploaded artifact). Exit code: mw check's (0 passed,
# 9 a budget exceeded; docs/cli.md), or the workload helper's (2 usage, 3 the workload failed).
set -euo pipefail
: "${MW:?MW (the mw binary) is not set}"
: "${ACTION_PATH:?ACTION_PATH (the action checkout) is not set}"
: "${WORKLOAD:?the workload input is empty: give a script that exports an async function}"
: "${RUNNER_TEMP:?RUNNER_TEMP is not set}"
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
out="$RUNNER_TEMP/memwatchdog"
rm -rf "$out"
mkdir -p "$out/snapshots"
echo "dir=$out" >> "$GITHUB_OUTPUT"
cd "${GITHUB_WORKSPACE:-.}"

helper=(node "$ACTION_PATH/action/workload.mjs" "$WORKLOAD" --iterations "${ITERATIONS:-200}"
  --snapshots "${SNAPSHOTS:-3}" --out "$out/snapshots")
[ -n "${WARMUP:-}" ] && helper+=(--warmup "$WARMUP")
listed="$("${helper[@]}")"
mapfile -t files <<< "$listed"
[ "${#files[@]}" -ge 2 ] || { echo "::error::the workload helper wrote no snapshots"; exit 3; }

args=(check "${files[@]}" --report "$out/report.json" --html "$out/report.html" --no-progress)
[ -n "${BUDGET:-}" ] && args+=(--budget "$BUDGET")
[ -n "${BUDGETS_FILE:-}" ] && args+=(--budgets "$BUDGETS_FILE")
while IFS= read -r line; do
  [ -n "${line//[[:space:]]/}" ] && args+=(--budget-class "$line")
done <<< "${BUDGET_CLASSES:-}"
while IFS= read -r line; do
  [ -n "${line//[[:space:]]/}" ] && args+=(--budget-path "$line")
done <<< "${BUDGET_PATHS:-}"

status=0
"$MW" "${args[@]}" > "$out/summary.md" || status=$?
cat "$out/summary.md"
exit "$status"
