#!/usr/bin/env node
// What writing a heap snapshot costs in memory, for calibrating crates/snapguard
// (docs/benchmarks-snapshot-cost.md). Not part of `make test`: `make bench-snapshot-cost`.
//
//   node bench/snapshot-cost.mjs [--sizes 30,100,300,1000] [--shapes small,large,mix,strings]
//                                [--nodes "$(bash scripts/node-versions.sh)"] [--out FILE] [--max-nodes N]
//   node bench/snapshot-cost.mjs --report FILE     prints the markdown table and the fit check
//
// For each Node binary (default: scripts/node-versions.sh, i.e. 20, 22 and 24), each heap
// shape and each target heap size, a fresh child process builds the heap, settles it (GC),
// resets its RSS high-water mark (`echo 5 > /proc/self/clear_refs`), writes a snapshot the
// watchdog's way (`v8.writeHeapSnapshot(file)`, packages/core/src/cjs/snapshots.ts), and
// reads VmHWM again: peak extra = VmHWM after the write − VmRSS before it. It also records
// heap used/total, external memory, the large-object spaces, node and edge counts from the
// file's header, the file size and the write time. One JSON line per run is appended to
// FILE (default .bench/snapshot-cost.jsonl), so an interrupted run keeps what it measured.
//
// Shapes:
//   small    arrays of {a, b} objects (the densest ordinary heap: ~40 B per object)
//   large    few large objects: 1 MB strings and 1 MB double arrays (large-object space)
//   mix      like a service: Maps of session records (nested objects, arrays, Dates,
//            short strings), closures with their contexts, a response cache of strings
//   strings  many distinct 100 B–1 KB strings (the snapshot copies each string's text)
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MB = 1e6;

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const status = () => readFileSync("/proc/self/status", "utf8");
const field = (text, name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)[1]) * 1024;

// ---------------------------------------------------------------- child: one measurement
const keep = [];
function heapUsed() {
  return v8.getHeapStatistics().used_heap_size;
}

/** A distinct flat one-byte string of `len` bytes in the JS heap (not a cons or external string). */
function flatString(len, i) {
  const b = Buffer.alloc(len, 97 + (i % 26));
  b.write(`${i}:`);
  return b.toString("latin1");
}

function buildSmall(target) {
  let i = 0;
  while (heapUsed() < target) {
    const chunk = new Array(10000);
    for (let j = 0; j < chunk.length; j++, i++) chunk[j] = { a: i, b: i + 1 };
    keep.push(chunk);
  }
}

function buildLarge(target) {
  let i = 0;
  while (heapUsed() < target) {
    // 1 MB: below Node's 1,031,913-byte threshold for external strings, so a flat heap string.
    if (i % 2 === 0) keep.push(flatString(1_000_000, i));
    else keep.push(new Array(1 << 17).fill(i + 0.5));
    i++;
  }
}

function buildMix(target) {
  const sessions = new Map();
  const cache = new Map();
  const handlers = [];
  keep.push(sessions, cache, handlers);
  let i = 0;
  while (heapUsed() < target) {
    for (let n = 0; n < 2000; n++, i++) {
      const user = { id: i, name: `user-${i}`, email: `user${i}@example.com`, roles: ["reader", i % 7 === 0 ? "admin" : "user"] };
      const record = {
        id: `s-${i.toString(36)}`,
        user,
        createdAt: new Date(1_700_000_000_000 + i),
        hits: i % 100,
        tags: new Set([`t${i % 13}`, `t${i % 17}`]),
        history: [{ path: `/api/items/${i}`, status: 200, ms: i % 50 }],
      };
      sessions.set(record.id, record);
      if (i % 4 === 0) {
        const ctx = { record, count: 0 };
        handlers.push(() => ++ctx.count + record.hits);
      }
      if (i % 10 === 0) cache.set(`/api/items/${i}`, JSON.stringify({ id: i, user: user.name, items: [i, i + 1, i + 2] }));
    }
  }
}

function buildStrings(target) {
  let i = 0;
  while (heapUsed() < target) {
    const chunk = new Array(1000);
    for (let j = 0; j < chunk.length; j++, i++) {
      chunk[j] = flatString(100 + ((i * 7919) % 925), i);
    }
    keep.push(chunk);
  }
}

async function child(shape, targetMb, dir) {
  const builders = { small: buildSmall, large: buildLarge, mix: buildMix, strings: buildStrings };
  const build = builders[shape];
  if (!build) throw new Error(`unknown shape ${shape}`);
  build(targetMb * MB);
  for (let k = 0; k < 3; k++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 200));
  }
  const heap = v8.getHeapStatistics();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
  const mu = process.memoryUsage();
  readFileSync("/proc/self/status"); // page in what reading it needs
  const before = status();
  const rssBefore = field(before, "VmRSS");
  const file = join(dir, `cost-${process.pid}.heapsnapshot`);
  // Reset the high-water mark to the current RSS; VmHWM then holds the peak of the write.
  appendFileSync("/proc/self/clear_refs", "5");
  const hwmReset = field(status(), "VmHWM");
  const t0 = performance.now();
  v8.writeHeapSnapshot(file);
  const ms = performance.now() - t0;
  const after = status();
  const head = Buffer.alloc(4096);
  const fd = openSync(file, "r");
  const n = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const text = head.subarray(0, n).toString("latin1");
  const count = (key) => Number(new RegExp(`"${key}":(\\d+)`).exec(text)[1]);
  const fileBytes = statSync(file).size;
  rmSync(file);
  const peak = field(after, "VmHWM");
  return {
    node: process.version,
    shape,
    targetMb,
    heapUsed: heap.used_heap_size,
    heapTotal: heap.total_heap_size,
    heapLimit: heap.heap_size_limit,
    largeObjectSpace: (spaces.large_object_space ?? 0) + (spaces.code_large_object_space ?? 0),
    external: mu.external,
    arrayBuffers: mu.arrayBuffers,
    rssBefore,
    hwmReset,
    peakRss: peak,
    peakExtra: peak - rssBefore,
    rssAfter: field(after, "VmRSS"),
    nodes: count("node_count"),
    edges: count("edge_count"),
    fileBytes,
    writeMs: Math.round(ms),
  };
}

// ---------------------------------------------------------------- the guard's estimates
// Mirrors crates/snapguard/src/estimate.rs (Policy::default) and decide.rs; keep in step.
export const OLD = { heapBytesPerObject: 40, perObject: 1450, safety: 1.25 };
export const NEW = { heapBytesPerObject: 40, perObject: 336, perHeapByte: 1.2, fixed: 16 << 20, safety: 1.1 };

export function oldEstimate(heapUsed) {
  const objects = Math.max(1, Math.floor(heapUsed / OLD.heapBytesPerObject));
  return Math.ceil(objects * OLD.perObject * OLD.safety);
}
/** The new estimate; `nodes` null: from the heap size (no previous snapshot). */
export function newEstimate(r, nodes) {
  const large = Math.min(r.largeObjectSpace, r.heapUsed);
  const small = r.heapUsed - large;
  const objects = nodes ?? Math.max(1, Math.floor(small / NEW.heapBytesPerObject) + Math.ceil(large / (128 << 10)));
  return Math.ceil((NEW.fixed + objects * NEW.perObject + small * NEW.perHeapByte) * NEW.safety);
}

// ---------------------------------------------------------------- report
function human(b) {
  return b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : `${(b / 1e6).toFixed(0)} MB`;
}

function report(file) {
  const rows = readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const order = { small: 0, mix: 1, strings: 2, large: 3 };
  rows.sort((a, b) => a.node.localeCompare(b.node, undefined, { numeric: true }) || order[a.shape] - order[b.shape] || a.heapUsed - b.heapUsed);
  const out = [];
  out.push(
    "| Node | shape | heap used | objects | heap B/object | RSS before | peak extra RSS | extra/object | file | write | old estimate | new, from heap size | ratio | new, from node count | ratio |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const worst = { heapMin: Infinity, heapMax: 0, countMin: Infinity, countMax: 0, oldMin: Infinity };
  for (const r of rows) {
    const old = oldEstimate(r.heapUsed);
    const nh = newEstimate(r, null);
    const nc = newEstimate(r, r.nodes);
    const extra = Math.max(r.peakExtra, 1);
    worst.heapMin = Math.min(worst.heapMin, nh / extra);
    worst.heapMax = Math.max(worst.heapMax, nh / extra);
    worst.countMin = Math.min(worst.countMin, nc / extra);
    worst.countMax = Math.max(worst.countMax, nc / extra);
    worst.oldMin = Math.min(worst.oldMin, old / extra);
    out.push(
      `| ${r.node} | ${r.shape} | ${human(r.heapUsed)} | ${r.nodes.toLocaleString("en")} | ${(r.heapUsed / r.nodes).toFixed(0)} | ${human(r.rssBefore)} | ${human(r.peakExtra)} | ${(r.peakExtra / r.nodes).toFixed(0)} B | ${human(r.fileBytes)} | ${(r.writeMs / 1000).toFixed(1)} s | ${human(old)} | ${human(nh)} | ${(nh / extra).toFixed(2)} | ${human(nc)} | ${(nc / extra).toFixed(2)} |`,
    );
  }
  out.push(
    "",
    `new estimate ÷ measured: from the node count ${worst.countMin.toFixed(2)}–${worst.countMax.toFixed(2)}; from heap ÷ 40 ${worst.heapMin.toFixed(2)}–${worst.heapMax.toFixed(2)} (old estimate: ≥ ${worst.oldMin.toFixed(2)})`,
  );
  console.log(out.join("\n"));
}

// ---------------------------------------------------------------- parent: the matrix
async function main() {
  if (process.argv[2] === "--child") {
    const result = await child(process.argv[3], Number(process.argv[4]), process.argv[5]);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const reportFile = arg("--report");
  if (reportFile) return report(reportFile);

  const sizes = arg("--sizes", "30,100,300,1000").split(",").map(Number);
  const shapes = arg("--shapes", "small,mix,strings,large").split(",");
  const nodes = (arg("--nodes") ?? execFileSync("bash", [join(ROOT, "scripts/node-versions.sh")], { encoding: "utf8" }))
    .split(/\s+/)
    .filter(Boolean);
  // Skip a run whose object count (at ~40 B per object) exceeds this: 1 GB of small
  // objects is ~25 M objects and would need >12 GB and minutes per write.
  const maxObjects = Number(arg("--max-objects", "12e6"));
  const out = resolve(arg("--out", join(ROOT, ".bench/snapshot-cost.jsonl")));
  const dir = join(ROOT, ".bench/snapshot-cost-tmp");
  mkdirSync(dir, { recursive: true });
  mkdirSync(dirname(out), { recursive: true });
  // Heap bytes per snapshot node, measured (to skip what exceeds --max-objects).
  const density = { small: 45, mix: 45, strings: 500, large: 500 };
  for (const node of nodes) {
    for (const shape of shapes) {
      for (const size of sizes) {
        if ((size * MB) / density[shape] > maxObjects) {
          console.error(`skip ${node} ${shape} ${size} MB (over --max-objects)`);
          continue;
        }
        const heapMb = Math.ceil(size * 2.5 + 512);
        const r = spawnSync(node, [`--max-old-space-size=${heapMb}`, "--expose-gc", fileURLToPath(import.meta.url), "--child", shape, String(size), dir], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "inherit"],
        });
        if (r.status !== 0) {
          console.error(`FAILED ${node} ${shape} ${size} MB: status ${r.status} signal ${r.signal}`);
          continue;
        }
        appendFileSync(out, r.stdout);
        const m = JSON.parse(r.stdout);
        console.error(
          `${m.node} ${shape} heap ${human(m.heapUsed)} nodes ${m.nodes} peak extra ${human(m.peakExtra)} (${(m.peakExtra / m.nodes).toFixed(0)} B/node) in ${(m.writeMs / 1000).toFixed(1)} s`,
        );
      }
    }
  }
  console.error(`results: ${out}; table: node bench/snapshot-cost.mjs --report ${out}`);
}

await main();
