// Node's own CPU cost per GC event of an active `gc` PerformanceObserver, before any
// observer code runs: V8 GC callbacks, the PerformanceEntry objects and their delivery.
// Any GC observer pays it (@memwatchdog/core, prom-client's default metrics, OpenTelemetry);
// packages/core/bench/gc-event.mjs measures the watchdog's own callback on top of it.
//
// Method: one process allocates short-lived objects in blocks (~60 ms of CPU, ~16
// scavenges each); blocks alternate between an empty `gc` observer connected and none,
// 60 blocks each, CPU time per block from process.cpuUsage(). Alternating blocks inside
// one process cancel slow drift (other jobs, CPU frequency); the result is the median
// difference per block divided by the GC events per block. A control runs the same
// with an observer of `mark` entries (no GC hooks), which should come out at ~0.
//
//   node gc-observer.mjs [--json]
import { PerformanceObserver } from "node:perf_hooks";

const JSON_OUT = process.argv.includes("--json");
const BLOCKS = 120;
const CHUNKS = 40;
const PER_CHUNK = 50_000;

let keep = [];
async function work(chunks) {
  for (let c = 0; c < chunks; c++) {
    for (let i = 0; i < PER_CHUNK; i++) {
      keep.push({ a: i, b: `x${i}` });
      if (keep.length > 1000) keep = [];
    }
    await new Promise((r) => setImmediate(r));
  }
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median CPU ms per block with the observer of `entryType` connected and without, and GC events counted. */
async function measure(entryType) {
  let gcs = 0;
  const counter = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  const observer = new PerformanceObserver(() => {});
  const on = [];
  const off = [];
  let gcOn = 0;
  for (let b = 0; b < BLOCKS; b++) {
    const connected = b % 2 === 0;
    if (connected) observer.observe({ entryTypes: [entryType] });
    const c0 = process.cpuUsage();
    await work(CHUNKS);
    const c = process.cpuUsage(c0);
    if (connected) {
      await new Promise((r) => setImmediate(r));
      observer.disconnect();
    }
    (connected ? on : off).push((c.user + c.system) / 1000);
  }
  // GC events per block: counted in separate blocks (the counter is a gc observer too).
  counter.observe({ entryTypes: ["gc"] });
  const g0 = gcs;
  for (let b = 0; b < 10; b++) await work(CHUNKS);
  await new Promise((r) => setImmediate(r));
  counter.disconnect();
  gcOn = (gcs - g0) / 10;
  return { onMs: median(on), offMs: median(off), gcPerBlock: gcOn };
}

await work(200); // warm up (JIT, heap sizing)
const gc = await measure("gc");
const control = await measure("mark");
const usPerGc = ((gc.onMs - gc.offMs) * 1000) / gc.gcPerBlock;
const controlUsPerGc = ((control.onMs - control.offMs) * 1000) / gc.gcPerBlock;
const line = `node ${process.version}: gc observer ${usPerGc.toFixed(1)} µs CPU per GC event (block ${gc.offMs.toFixed(1)} → ${gc.onMs.toFixed(1)} ms, ${gc.gcPerBlock.toFixed(1)} GC events/block); control (mark observer) ${controlUsPerGc.toFixed(1)} µs`;
if (JSON_OUT) {
  process.stderr.write(`${line}\n`);
  console.log(JSON.stringify({ node: process.version, usPerGc, controlUsPerGc, gc, control }));
} else {
  console.log(line);
}
