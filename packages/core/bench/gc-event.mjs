// CPU cost of the watchdog per GC event (deterministic micro-benchmark).
//
// Drives the real hot path — the PerformanceObserver callback body: one
// v8.getHeapStatistics(), process.memoryUsage() at most once per (simulated) second, one
// native sample() call that runs the detector and updates the metrics — with synthetic
// GC entries at 40 events/s of simulated time (16 minor : 1 major : 1 incremental, about
// what a busy HTTP service shows) and reports nanoseconds of CPU per event.
//
//   node bench/gc-event.mjs [events] [--json]
//
// --json: the figures as one JSON object on stdout (the table goes to stderr); used by
// bench/overhead/run.sh.
import { MemWatchdog } from "@memwatchdog/core";
import { getHeapStatistics } from "node:v8";
import { performance } from "node:perf_hooks";
import { cpuUsage } from "node:process";

const JSON_OUT = process.argv.includes("--json");
const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) || 400_000);
const print = JSON_OUT ? (line) => process.stderr.write(`${line}\n`) : (line) => console.log(line);
const results = {};
const KINDS = [1, 1, 1, 1, 1, 1, 1, 1, 8, 4, 1, 1, 1, 1, 1, 1, 1, 1];

function entries(n, t0) {
  const list = [];
  for (let i = 0; i < n; i++) {
    list.push([{ startTime: t0 + i * 25, duration: 0.8, detail: { kind: KINDS[i % KINDS.length] } }]);
  }
  return list;
}

function measure(label, n, fn) {
  fn(Math.min(n, 20_000)); // warm up (JIT)
  const c0 = cpuUsage();
  const t0 = performance.now();
  fn(n);
  const wall = performance.now() - t0;
  const c = cpuUsage(c0);
  const nsCpu = ((c.user + c.system) * 1000) / n;
  const nsWall = (wall * 1e6) / n;
  print(`${label.padEnd(44)} ${nsCpu.toFixed(0).padStart(6)} ns CPU/event  (${nsWall.toFixed(0)} ns wall)`);
  results[label] = { nsCpu, nsWall };
  return nsCpu;
}

MemWatchdog.start({ prometheus: { port: 0, host: "127.0.0.1" }, logger: false, env: false });
// Feed the observer body directly; the real observer keeps running beside it.
const onGc = MemWatchdog["onGc"].bind(MemWatchdog);
const native = MemWatchdog["native"];

print(`node ${process.version}, ${N} events`);
measure("v8.getHeapStatistics()", N, (n) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += getHeapStatistics().used_heap_size;
  return s;
});
let tBase = 1e9;
measure("native.sample() alone (same mix)", N, (n) => {
  for (let i = 0; i < n; i++) {
    tBase += 25;
    native.sample(tBase, KINDS[i % KINDS.length], 0.8, 50e6 + (i % 100) * 1000, 80e6, 2e6, 1e5, i % 40 === 0 ? 9e7 : -1);
  }
});
measure("native.sample() minor GC only", N, (n) => {
  for (let i = 0; i < n; i++) {
    tBase += 25;
    native.sample(tBase, 1, 0.8, 50e6, 80e6, 2e6, 1e5, -1);
  }
});
const majors = Math.max(1, Math.floor(N / 100));
measure("native.sample() major GC only (detector fit)", majors, (n) => {
  for (let i = 0; i < n; i++) {
    tBase += 1000;
    native.sample(tBase, 4, 5, 50e6 + (i % 7) * 100_000, 80e6, 2e6, 1e5, 9e7);
  }
});
const list = entries(N + 20_000, tBase + 1000);
let k = 0;
const total = measure("full observer callback per event", N, (n) => {
  for (let i = 0; i < n; i++) onGc(list[k++]);
});
print(`\nat 40 GC events/s: ${((total * 40) / 1e6).toFixed(3)} ms CPU per second = ${((total * 40) / 1e7).toFixed(4)} % of one core`);
MemWatchdog.stop();
if (JSON_OUT) {
  console.log(JSON.stringify({ node: process.version, events: N, perEventNsCpu: total, measurements: results }));
}
