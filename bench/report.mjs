#!/usr/bin/env node
// Renders docs/benchmarks.md (to stdout) from what bench/run.sh left in .bench/:
//   .bench/snapshots/SET/meta.json            the snapshot set (sizes, node counts, write times)
//   .bench/results/SET.TOOL.K.{time,status,cmd,date,out,err,limit}   measured run K of a tool on a set
// Only measured numbers go into the tables; a run that did not happen is not listed.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bench = path.join(root, '.bench');
const results = path.join(bench, 'results');
const SET_ORDER = ['160m', '1g', '4g'];
// mw's three-snapshot diff and memlab (the comparison), then the one-snapshot budget's runs.
const TOOL_ORDER = ['mw', 'memlab', 'mw-one', 'mw-two', 'mw-two-baseline'];
const BUDGET_TOOLS = ['mw-one', 'mw-two', 'mw-two-baseline'];

const read = (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null);
const mib = (bytes) => `${(bytes / 1048576).toFixed(0)} MiB`;
const gib = (bytes) => `${(bytes / 1073741824).toFixed(2)} GiB`;
const size = (bytes) => (bytes >= 1073741824 ? gib(bytes) : mib(bytes));
const thousands = (n) => n.toLocaleString('en-US');

function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function mwVersions() {
  // One line per binary used, with the sets it measured (the binary may be rebuilt between runs).
  if (!fs.existsSync(results)) return 'not run';
  const bySet = new Map();
  for (const f of fs.readdirSync(results)) {
    const m = f.match(/^(.+)\.mw\.version$/);
    if (!m) continue;
    const v = read(path.join(results, f)).trim();
    bySet.set(v, [...(bySet.get(v) ?? []), m[1]]);
  }
  if (bySet.size === 0) return 'not run';
  const order = (x) => SET_ORDER.indexOf(x);
  return [...bySet.entries()].map(([v, sets]) => `${v}: ${sets.sort((a, b) => order(a) - order(b)).join(', ')}`).join('<br>');
}

function machine() {
  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const meminfo = read('/proc/meminfo') ?? '';
  const memKb = Number((meminfo.match(/MemTotal:\s+(\d+)/) ?? [])[1] ?? 0);
  const pkg = (p) => {
    const t = read(path.join(bench, 'node_modules', p, 'package.json'));
    return t ? JSON.parse(t).version : 'not installed';
  };
  return {
    cpu: (cpuinfo.match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown',
    nproc: sh('nproc', []) ?? String(os.availableParallelism()),
    ram: `${(memKb / 1048576).toFixed(1)} GiB`,
    kernel: sh('uname', ['-sr']) ?? os.release(),
    // mw asks for transparent huge pages for its large columns; the policy decides whether it gets them.
    thp: (read('/sys/kernel/mm/transparent_hugepage/enabled') ?? '').match(/\[(\w+)\]/)?.[1] ?? 'unknown',
    nodeSystem: sh('node', ['--version']) ?? 'none',
    node22: process.version,
    mw: mwVersions(),
    memlab: pkg('memlab'),
    typescript: pkg('typescript'),
  };
}

function parseTime(text) {
  const get = (re) => (text.match(re) ?? [])[1];
  const wall = get(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/);
  let seconds = null;
  if (wall) seconds = wall.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  const rssKb = Number(get(/Maximum resident set size \(kbytes\): (\d+)/));
  const user = Number(get(/User time \(seconds\): ([\d.]+)/));
  const sys = Number(get(/System time \(seconds\): ([\d.]+)/));
  return { seconds, rssBytes: rssKb * 1024, cpuSeconds: user + sys };
}

function outcome(run) {
  const secs = run.seconds == null ? '?' : run.seconds.toFixed(0);
  const err = run.err ?? '';
  if (run.status === 0) return 'ok';
  const hitLimit = run.limit && run.seconds != null && run.seconds >= Number(run.limit) - 1;
  if (run.status === 124 || (run.status === 137 && hitLimit)) return `timeout: stopped after ${run.limit ?? secs} s`;
  if (/heap out of memory|Reached heap limit|invalid table size|Invalid array length|Invalid string length/i.test(err)) {
    return `OOM after ${secs} s (${(err.match(/(JavaScript heap out of memory|invalid table size|Invalid array length|Invalid string length)/i) ?? ['V8 heap limit'])[0]})`;
  }
  if (run.status === 137) return `killed by SIGKILL after ${secs} s (kernel OOM killer?)`;
  return `failed after ${secs} s (exit ${run.status})`;
}

function memlabFinding(out) {
  if (!out) return '';
  const clean = out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  const found = (clean.match(/MemLab found (\d+) leak/) ?? [])[1];
  const row = clean.match(/'SourceFileObject'\s*│\s*'object'\s*│\s*(\d+)\s*│\s*'([^']+)'/);
  const parts = [];
  if (found !== undefined) parts.push(`${found} leaks reported`);
  if (row) parts.push(`SourceFileObject x${row[1]} (${row[2]} retained) in its "alive objects allocated in target" table`);
  return parts.join('; ');
}

function mwFinding(reportText) {
  if (!reportText) return '';
  try {
    const top = JSON.parse(reportText).suspects?.[0];
    if (!top) return 'no suspects';
    const mbs = (top.delta_bytes / 1048576).toFixed(1);
    return `top suspect ${top.class_name} +${mbs} MiB x${top.delta_count}: \`${top.path_text}\``;
  } catch {
    return '';
  }
}

/** One measured run per file group in .bench/results (`SET.TOOL.K.*`, or `SET.TOOL.*` from older runs). */
function measuredRuns() {
  if (!fs.existsSync(results)) return [];
  const list = [];
  for (const f of fs.readdirSync(results)) {
    const m = f.match(/^(.+)\.(mw|memlab|mw-one|mw-two|mw-two-baseline)(\.\d+)?\.status$/);
    if (!m) continue;
    const base = path.join(results, `${m[1]}.${m[2]}${m[3] ?? ''}`);
    const time = read(`${base}.time`) ?? '';
    list.push({
      set: m[1],
      tool: m[2],
      status: Number(read(`${base}.status`)),
      limit: read(`${base}.limit`)?.trim(),
      date: read(`${base}.date`)?.trim(),
      load: read(`${base}.load`)?.trim(),
      cmd: read(`${base}.cmd`)?.trim(),
      err: read(`${base}.err`),
      out: read(`${base}.out`),
      report: read(path.join(results, `${m[1]}.${m[2]}.report.json`)),
      ...parseTime(time),
    });
  }
  return list;
}

/**
 * One cell per set and tool: its median run by wall time (the first failed run instead, if any
 * failed), with the number of runs, their range of wall times and the highest peak RSS of them all.
 */
function runs() {
  const cells = new Map();
  for (const r of measuredRuns()) {
    const key = `${r.set}.${r.tool}`;
    cells.set(key, [...(cells.get(key) ?? []), r]);
  }
  const list = [...cells.values()].map((all) => {
    const failed = all.find((r) => r.status !== 0);
    const timed = all.filter((r) => r.seconds != null).sort((a, b) => a.seconds - b.seconds);
    const pick = failed ?? timed[Math.floor((timed.length - 1) / 2)] ?? all[0];
    return {
      ...pick,
      runs: all.length,
      minSeconds: timed[0]?.seconds,
      maxSeconds: timed.at(-1)?.seconds,
      rssBytes: Math.max(...all.map((r) => r.rssBytes || 0)),
    };
  });
  const order = (r) => SET_ORDER.indexOf(r.set) * 10 + TOOL_ORDER.indexOf(r.tool);
  return list.sort((a, b) => order(a) - order(b));
}

function sets() {
  const dir = path.join(bench, 'snapshots');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((s) => read(path.join(dir, s, 'meta.json')))
    .filter(Boolean)
    .map((t) => JSON.parse(t))
    .sort((a, b) => SET_ORDER.indexOf(a.size) - SET_ORDER.indexOf(b.size));
}

/** The targets per set: ≥ 20x memlab's wall time, peak RSS ≤ 1.2x the largest snapshot file. */
function targets(L, S, R) {
  const rows = [];
  for (const s of S) {
    const mw = R.find((r) => r.set === s.size && r.tool === 'mw' && r.status === 0);
    if (!mw) continue;
    const memlab = R.find((r) => r.set === s.size && r.tool === 'memlab');
    const largest = Math.max(...Object.values(s.snapshots).map((x) => x.bytes));
    const ratio = mw.rssBytes / largest;
    let speed = 'memlab not run';
    if (memlab?.status === 0 && memlab.seconds && mw.seconds) {
      const x = memlab.seconds / mw.seconds;
      speed = `${x.toFixed(1)}x ${x >= 20 ? '(met)' : '(not met)'}`;
    } else if (memlab) {
      speed = `memlab: ${outcome(memlab)}`;
    }
    rows.push(`| ${s.size} | ${speed} | ${ratio.toFixed(3)}x ${ratio <= 1.2 ? '(met)' : '(not met)'} |`);
  }
  if (rows.length === 0) return;
  L.push('');
  L.push('## Targets');
  L.push('');
  L.push('Wall time of memlab over mw (target ≥ 20x) and mw\'s peak RSS over the largest of the three files');
  L.push('(target ≤ 1.2x), from the runs above.');
  L.push('');
  L.push('| set | speed-up over memlab | mw peak RSS / largest file |');
  L.push('| --- | ---: | ---: |');
  L.push(...rows);
}

/** Wall time of a cell: median with the range of all runs. */
function wallTime(r) {
  // Two decimals below ten seconds, where a tenth is a large share.
  const secs = (x) => x.toFixed(x < 10 ? 2 : 1);
  let wall = r.seconds == null ? '?' : `${secs(r.seconds)} s`;
  if (r.runs > 1 && r.status === 0) {
    wall += ` (median of ${r.runs}: ${secs(r.minSeconds)}–${secs(r.maxSeconds)})`;
  }
  return wall;
}

/**
 * The one-snapshot budget: `mw analyze final` (one snapshot alone) must take no more wall time and
 * peak RSS than `mw analyze base final` (the two-snapshot diff of the same newest file).
 */
function oneSnapshot(L, S, R) {
  const budget = R.filter((r) => BUDGET_TOOLS.includes(r.tool));
  if (budget.length === 0) return;
  const baseline = read(path.join(results, `${budget[0].set}.mw-two-baseline.version`))?.trim();
  const what = {
    'mw-one': '`mw analyze final` (one snapshot alone)',
    'mw-two': '`mw analyze base final` (two-snapshot diff)',
    'mw-two-baseline': `\`mw analyze base final\` with the earlier build (${baseline ?? 'see .bench/results'})`,
  };
  L.push('');
  L.push('## One snapshot alone (`mw analyze FILE`)');
  L.push('');
  L.push('Budget: one snapshot alone takes no more wall time and peak RSS than the two-snapshot diff of the');
  L.push('same newest file. Both read that file with its edges and compute its dominators and retainer paths;');
  L.push('the diff also reads the base (nodes only, on a second thread) and compares, one snapshot alone');
  L.push('summarizes instead (holders, collections, strings, closures, native memory). Same method as above:');
  L.push('`/usr/bin/time -v`, warm page cache, the commands taking turns, `--json --out /dev/null`; on a');
  L.push('machine shared with other work (see the load column) every command is slowed alike, so compare them');
  L.push('with each other, not with the tables above.');
  const sets = [...new Set(budget.map((r) => r.set))];
  const built = sets.map((set) => read(path.join(results, `${set}.mw.version`))?.trim()).filter(Boolean);
  if (built.length) L.push('', `mw: ${[...new Set(built)].join('; ')}.`);
  L.push('');
  L.push('| set (final file) | command | wall time | peak RSS | CPU time (user+sys) | load avg before → after | outcome |');
  L.push('| --- | --- | ---: | ---: | ---: | ---: | --- |');
  for (const r of budget) {
    const s = S.find((x) => x.size === r.set);
    const setLabel = s ? `${r.set} (${size(s.snapshots.final.bytes)})` : r.set;
    const cpu = Number.isFinite(r.cpuSeconds) ? `${r.cpuSeconds.toFixed(1)} s` : '?';
    const load = r.load ? r.load.split('\n').map((l) => l.split(' ')[0]).join(' → ') : '?';
    L.push(`| ${setLabel} | ${what[r.tool]} | ${wallTime(r)} | ${r.rssBytes ? size(r.rssBytes) : '?'} | ${cpu} | ${load} | ${outcome(r)} |`);
  }
  L.push('');
  for (const set of sets) {
    const one = budget.find((r) => r.set === set && r.tool === 'mw-one' && r.status === 0);
    for (const tool of ['mw-two', 'mw-two-baseline']) {
      const two = budget.find((r) => r.set === set && r.tool === tool && r.status === 0);
      if (!one || !two) continue;
      const time = one.seconds / two.seconds;
      const rss = one.rssBytes / two.rssBytes;
      const met = (x) => (x <= 1 ? 'met' : 'NOT met');
      L.push(`- ${set}, against ${what[tool]}: wall time ${time.toFixed(2)}x (${met(time)}), peak RSS ${rss.toFixed(3)}x (${met(rss)}).`);
    }
  }
}

function main() {
  const m = machine();
  const S = sets();
  const R = runs();
  const compared = R.filter((r) => !BUDGET_TOOLS.includes(r.tool));
  const L = [];
  L.push('# Benchmarks: `mw analyze` and memlab on the same heap snapshots');
  L.push('');
  L.push('<!-- Generated by bench/report.mjs from the runs of `bash bench/run.sh`; edit those, not this file. -->');
  L.push('');
  L.push("Other benchmarks: [what writing a heap snapshot costs in memory](benchmarks-snapshot-cost.md) (the snapshot guard's fit), [the watchdog's overhead](benchmarks-overhead.md), [the /metrics server](benchmarks-metrics-server.md), [the npm packages](benchmarks-packages.md) (tarball sizes, install time), [`mw scrub`](benchmarks-scrub.md) (a 1 GB snapshot in 5 s and 8 MiB), [the HTML report](benchmarks-html.md) (a 1 GB pair's page: 56 kB, drawn in 55 ms).");
  L.push('');
  L.push('## Method');
  L.push('');
  L.push('- **Same files for both tools.** `bench/make-snapshots.mjs` (Node 22) writes three snapshots — base, target,');
  L.push('  final — from one process, so node ids match across them. The heap is a real program: the TypeScript 5');
  const perSet = S.length
    ? S.map((s) => `${s.programs} program${s.programs > 1 ? 's' : ''} and ${s.leak.versions_per_phase} leaked version${s.leak.versions_per_phase > 1 ? 's' : ''} per phase for the ${s.size} set`).join(', ')
    : 'see bench/make-snapshots.mjs for the counts per set';
  L.push('  compiler type-checking its own `lib/typescript.d.ts`, each Program (with its checker and diagnostics)');
  L.push('  kept alive, plus a planted leak that grows between snapshots: a module-level `sourceFileCache` Map that');
  L.push('  keeps every parsed version of `typescript.d.ts` (a `SourceFileObject` tree of ~10 MB each, one set before');
  L.push(`  base, one more before target, one more before final). Counts: ${perSet}.`);
  L.push('- **Commands.** `mw analyze base target final --json --out /dev/null` and');
  L.push('  `node --max-old-space-size=8000 memlab.js find-leaks --baseline base --target target --final final --work-dir TMP`');
  L.push('  (memlab on Node 22, its default settings). Each runs under `/usr/bin/time -v` (GNU time): wall-clock time');
  L.push('  and maximum resident set size of the process tree. memlab gets a time limit (`timeout`, 30 min by');
  L.push('  default); a run that hits it or runs out of memory is recorded as such, with the time it took to fail.');
  L.push('- **Page cache: warm.** Before each timed run the three files are read once (`cat > /dev/null`), so both');
  L.push('  tools read from memory (all three files fit in RAM, even for the 4g set). Cold-cache times (first read');
  L.push('  from disk) were not measured: they add the time to read the three files from disk to either tool.');
  L.push('- **Runs.** Each tool runs three times per set by default (`--runs N`; each cell says how many runs it');
  L.push('  has; memlab runs once on the 4g set, where a run takes minutes and ~14 GiB), the tools taking turns, the');
  L.push('  cache warmed before each run. A cell shows the median');
  L.push('  run by wall time with the range of all runs, the highest peak RSS of the runs, and the median run\'s CPU');
  L.push('  time and load. The spread is real: on this virtual machine a page of memory the process touches for the');
  L.push('  first time can cost microseconds (the host backs it lazily), so kernel time varies from run to run.');
  L.push('  The whole machine also speeds up and slows down by up to ~30% over minutes, for both tools alike:');
  L.push('  compare the tools within one run of `run.sh` (where they take turns), not times from different runs.');
  L.push('  The 1-minute load average before and after the median run is recorded: on a 2-core machine shared');
  L.push('  with other work a load above ~1 means the tool waited for a core, which inflates wall time but hardly');
  L.push('  CPU time; rerun `make bench` on an idle machine for wall times.');
  L.push('- Reproduce: `make bench` (= `bash bench/run.sh`: the 160m and 1g sets); the 4 GB set: `bash bench/run.sh --huge`');
  L.push('  (mw only by default: making the set needs ~15 GiB of RAM and memlab several times the file size;');
  L.push('  `--memlab-4g` adds memlab). Raw `time -v` reports and tool output stay in `.bench/results/`.');
  L.push('');
  L.push('## Machine');
  L.push('');
  L.push('| | |');
  L.push('| --- | --- |');
  L.push(`| CPU | ${m.cpu}, ${m.nproc} cores (nproc) |`);
  L.push(`| RAM | ${m.ram} |`);
  L.push(`| kernel | ${m.kernel}; transparent huge pages: ${m.thp} |`);
  L.push(`| Node | ${m.node22} (snapshots, memlab); system ${m.nodeSystem} |`);
  L.push(`| mw | ${m.mw} |`);
  L.push(`| memlab | ${m.memlab} |`);
  L.push(`| TypeScript (the snapshotted program) | ${m.typescript} |`);
  L.push(`| report generated | ${new Date().toISOString().slice(0, 10)} |`);
  L.push('');
  L.push('## Snapshot sets');
  L.push('');
  if (S.length === 0) {
    L.push('None made yet.');
  } else {
    L.push('| set | snapshot | file size | nodes | edges | heap used | write time (Node) |');
    L.push('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const s of S) {
      for (const name of ['base', 'target', 'final']) {
        const x = s.snapshots[name];
        L.push(`| ${s.size} | ${name} | ${size(x.bytes)} | ${thousands(x.node_count)} | ${thousands(x.edge_count)} | ${mib(x.heap_used_bytes)} | ${x.write_seconds.toFixed(1)} s (${s.node}) |`);
      }
    }
    L.push('');
    L.push('Making a set (one process: build the programs, leak, write three snapshots):');
    L.push('');
    L.push('| set | TS programs | build time | peak RSS of the writer | made |');
    L.push('| --- | ---: | ---: | ---: | --- |');
    for (const s of S) L.push(`| ${s.size} | ${s.programs} | ${s.build_seconds} s | ${size(s.peak_rss_bytes)} | ${s.made_at.slice(0, 10)} |`);
  }
  L.push('');
  L.push('## Results');
  L.push('');
  if (compared.length === 0) {
    L.push('No analyzer run recorded yet.');
  } else {
    L.push('| set (final file) | tool | wall time | peak RSS | CPU time (user+sys) | load avg before → after | outcome | what it reported |');
    L.push('| --- | --- | ---: | ---: | ---: | ---: | --- | --- |');
    for (const r of compared) {
      const s = S.find((x) => x.size === r.set);
      const setLabel = s ? `${r.set} (${size(s.snapshots.final.bytes)})` : r.set;
      const wall = wallTime(r);
      const rss = r.rssBytes ? size(r.rssBytes) : '?';
      const cpu = Number.isFinite(r.cpuSeconds) ? `${r.cpuSeconds.toFixed(1)} s` : '?';
      const what = r.tool === 'memlab' ? memlabFinding(`${r.out ?? ''}\n${r.err ?? ''}`) : mwFinding(r.report);
      const load = r.load ? r.load.split('\n').map((l) => l.split(' ')[0]).join(' → ') : '?';
      L.push(`| ${setLabel} | ${r.tool} | ${wall} | ${rss} | ${cpu} | ${load} | ${outcome(r)} | ${what} |`);
    }
    L.push('');
    L.push('Dates of the runs: ' + [...new Set(R.map((r) => r.date?.slice(0, 10)).filter(Boolean))].join(', ') + '.');
    targets(L, S, compared);
  }
  oneSnapshot(L, S, R);
  L.push('');
  process.stdout.write(`${L.join('\n')}\n`);
}

main();
