#!/usr/bin/env node
// Writes three heap snapshots (base, target, final) of one real, large Node program, from ONE process
// (so node ids match across them), for the analyzer benchmark.
//
//   node22 --expose-gc --max-old-space-size=M bench/make-snapshots.mjs --size 160m|1g|4g --out DIR
//
// The program: the TypeScript compiler (typescript@5 from .bench/, see bench/setup.sh) type-checks
// its own lib/typescript.d.ts; each Program (with its type checker and diagnostics) is held alive.
//   160m: 1 program;  1g: 8 programs;  4g: 34 programs (~110 MB of snapshot each).
// The planted leak: a module-level `sourceFileCache` Map that keeps every version of a parsed
// SourceFile of typescript.d.ts (a language-service cache that never evicts old versions):
// 1 / 4 / 12 versions added before base, again before target, again before final (~10 MB of
// heap each). The analyzer should name SourceFile objects retained via `sourceFileCache`.
//
// Writes DIR/{base,target,final}.heapsnapshot and DIR/meta.json (file sizes, node/edge counts, write
// times, build time, peak RSS, Node version). Use Node 22: Node 20 can take minutes per snapshot of
// this heap. bench/run.sh calls this with the right flags.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

const SIZES = {
  '160m': { programs: 1, leakPerPhase: 1 },
  '1g': { programs: 8, leakPerPhase: 4 },
  '4g': { programs: 34, leakPerPhase: 12 },
};

function parseArgs(argv) {
  const opts = { size: '160m', out: null, tsDir: path.join(root, '.bench/node_modules/typescript') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--size') opts.size = argv[++i];
    else if (a === '--out') opts.out = argv[++i];
    else if (a === '--typescript') opts.tsDir = argv[++i];
    else {
      process.stderr.write(`make-snapshots: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  if (!SIZES[opts.size] || !opts.out) {
    process.stderr.write(`usage: make-snapshots.mjs --size ${Object.keys(SIZES).join('|')} --out DIR [--typescript DIR]\n`);
    process.exit(2);
  }
  return opts;
}

const log = (msg) => process.stderr.write(`make-snapshots: ${msg}\n`);
const mb = (bytes) => (bytes / 1048576).toFixed(1);

// The leak lives here, at module level, like a real service's cache.
const sourceFileCache = new Map();
// Everything the benchmark program keeps alive on purpose (not a leak: constant from base on).
const programs = [];

function readCounts(file) {
  // node_count / edge_count sit in the `snapshot.meta` header at the start of the file.
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(8192);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  fs.closeSync(fd);
  const head = buf.subarray(0, n).toString('latin1');
  const num = (key) => Number((head.match(new RegExp(`"${key}":(\\d+)`)) ?? [])[1] ?? NaN);
  return { node_count: num('node_count'), edge_count: num('edge_count') };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const spec = SIZES[opts.size];
  const require = createRequire(import.meta.url);
  const ts = require(opts.tsDir);
  if (!ts.createProgram) throw new Error(`${opts.tsDir} has no compiler API (need typescript@5; run bench/setup.sh)`);
  const dtsPath = path.join(opts.tsDir, 'lib/typescript.d.ts');
  const dtsText = fs.readFileSync(dtsPath, 'utf8');
  if (typeof globalThis.gc !== 'function') log('warning: run with --expose-gc so each snapshot follows a full GC');
  if (!process.version.startsWith('v22') && !process.version.startsWith('v24')) {
    log(`warning: ${process.version}; Node before 22 can take minutes to write a snapshot of this heap`);
  }
  fs.mkdirSync(opts.out, { recursive: true });

  const t0 = performance.now();
  for (let k = 0; k < spec.programs; k++) {
    const program = ts.createProgram([dtsPath], { noEmit: true, strict: true, target: ts.ScriptTarget.ES2022, types: [] });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    programs.push({ program, checker: program.getTypeChecker(), diagnostics });
    log(`program ${k + 1}/${spec.programs}: ${program.getSourceFiles().length} files, ${diagnostics.length} diagnostics, heap ${mb(v8.getHeapStatistics().used_heap_size)} MB`);
  }
  const buildSeconds = (performance.now() - t0) / 1000;

  let version = 0;
  const leak = () => {
    for (let k = 0; k < spec.leakPerPhase; k++, version++) {
      const name = `typescript-v${version}.d.ts`;
      sourceFileCache.set(name, ts.createSourceFile(name, `${dtsText}\n// edit ${version}\n`, ts.ScriptTarget.ES2022, true));
    }
  };

  const snapshots = {};
  const snap = (name) => {
    globalThis.gc?.();
    globalThis.gc?.();
    const heap = v8.getHeapStatistics().used_heap_size;
    const file = path.join(opts.out, `${name}.heapsnapshot`);
    fs.rmSync(file, { force: true });
    const t = performance.now();
    v8.writeHeapSnapshot(file);
    const seconds = (performance.now() - t) / 1000;
    const bytes = fs.statSync(file).size;
    snapshots[name] = { file: path.basename(file), bytes, heap_used_bytes: heap, write_seconds: +seconds.toFixed(2), ...readCounts(file) };
    log(`${file}: ${mb(bytes)} MB, ${snapshots[name].node_count} nodes, ${snapshots[name].edge_count} edges, heap ${mb(heap)} MB, written in ${seconds.toFixed(1)} s`);
  };

  leak();
  snap('base');
  leak();
  snap('target');
  leak();
  snap('final');

  const meta = {
    size: opts.size,
    node: process.version,
    typescript: ts.version,
    programs: spec.programs,
    leak: {
      description: 'module-level Map `sourceFileCache` keeps every parsed version of typescript.d.ts',
      versions_per_phase: spec.leakPerPhase,
      constructor_hint: 'SourceFileObject (TypeScript AST nodes: NodeObject, IdentifierObject, TokenObject)',
      path_contains: ['sourceFileCache'],
    },
    build_seconds: +buildSeconds.toFixed(1),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    snapshots,
    made_at: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(opts.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  log(`done; peak RSS ${mb(meta.peak_rss_bytes)} MB; ${path.join(opts.out, 'meta.json')}`);
  // Keep the references observable until here so nothing is collected early.
  if (programs.length + sourceFileCache.size < 0) process.stdout.write('');
}

main();
