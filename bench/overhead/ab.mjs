// In-process A/B of the benchmark service's request work (service.cjs) with and without
// the watchdog: the CPU cost per request, free of the network, the load generator and
// most of the noise other jobs on the machine cause.
//
// One process runs blocks of REQUESTS requests (a setImmediate between every 20, so GC
// observer callbacks run between requests as in a server). Blocks rotate through three
// modes, many times:
//   none         nothing watching
//   gc-observer  an empty `gc` PerformanceObserver (Node's own cost of GC entries, which
//                any GC observer pays: prom-client's default metrics, OpenTelemetry...)
//   memwatchdog  the watchdog's GC observer connected: MemWatchdog.start() (metrics thread
//                on, no alerts, no snapshots) runs from the beginning, and between its
//                blocks only its observer is disconnected, so the detector sees one long
//                run, as in a service (starting and stopping the whole watchdog per block
//                would time its set-up instead)
// With --heap-profile 8192,32768,... the modes are instead `none` and one
// `heap-profile-<interval>` per interval: V8's sampling heap profiler (what
// @memwatchdog/core's `profile` option runs, through a same-process `node:inspector`
// session) is started with that sampling interval before the block and stopped after it,
// outside the measured time, so the figure is its steady cost on the request work.
// CPU time per block comes from process.cpuUsage() (all threads). Each mode is compared
// with the `none` block of the same rotation (paired), which cancels slow drift; the
// result is the median paired difference with a bootstrap 95% interval.
//
//   node ab.mjs [--rotations 150] [--requests 400] [--heap-profile 8192,32768] [--json]
import { Session } from "node:inspector";
import { createRequire } from "node:module";
import { PerformanceObserver } from "node:perf_hooks";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { respond } = require("./service.cjs");
const { MemWatchdog } = require(process.env.MW_BENCH_CORE || join(HERE, "..", "..", "packages", "core"));

const { values: args } = parseArgs({
  options: {
    rotations: { type: "string", default: "150" },
    requests: { type: "string", default: "400" },
    "heap-profile": { type: "string" },
    json: { type: "boolean", default: false },
  },
});
const ROTATIONS = Number(args.rotations);
const REQUESTS = Number(args.requests);
const INTERVALS = args["heap-profile"] ? args["heap-profile"].split(",").map(Number) : [];
const MODES = INTERVALS.length ? ["none", ...INTERVALS.map((i) => `heap-profile-${i}`)] : ["none", "gc-observer", "memwatchdog"];

let sink = 0;
async function block() {
  for (let i = 0; i < REQUESTS; i++) {
    sink += respond(0).length;
    if (i % 20 === 19) await new Promise((r) => setImmediate(r));
  }
}

const empty = new PerformanceObserver(() => {});
// The watchdog's own heap profiler stays off here: the heap-profile modes measure it.
MemWatchdog.start({ prometheus: { port: 0, host: "127.0.0.1" }, profile: false, logger: false, env: false });
const watchdogObserver = MemWatchdog["observer"]; // the PerformanceObserver start() connected
watchdogObserver.disconnect();
const inspector = new Session();
inspector.connect();
/** A same-process inspector call (its callback runs synchronously); throws on error. */
function post(method, params) {
  inspector.post(method, params, (err) => {
    if (err) throw err;
  });
}
function enter(mode) {
  if (mode === "gc-observer") empty.observe({ entryTypes: ["gc"] });
  if (mode === "memwatchdog") watchdogObserver.observe({ entryTypes: ["gc"] });
  if (mode.startsWith("heap-profile-")) post("HeapProfiler.startSampling", { samplingInterval: Number(mode.slice(13)) });
}
async function leave(mode) {
  await new Promise((r) => setImmediate(r)); // let pending observer callbacks run
  if (mode === "gc-observer") empty.disconnect();
  if (mode === "memwatchdog") watchdogObserver.disconnect();
  if (mode.startsWith("heap-profile-")) post("HeapProfiler.stopSampling", {});
}

async function timed(mode) {
  enter(mode);
  const c0 = process.cpuUsage();
  await block();
  const c = process.cpuUsage(c0);
  await leave(mode);
  return (c.user + c.system) / 1000; // ms
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** Bootstrap 95% interval of the median of `a`. */
function bootstrap(a, n = 2000) {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const meds = [];
  for (let k = 0; k < n; k++) meds.push(median(a.map(() => a[Math.floor(rnd() * a.length)])));
  meds.sort((x, y) => x - y);
  return [meds[Math.floor(0.025 * n)], meds[Math.floor(0.975 * n)]];
}

// Warm up: JIT, heap sizing, the addon loaded.
for (let i = 0; i < 20; i++) await timed(MODES[i % MODES.length]);

const ms = Object.fromEntries(MODES.map((m) => [m, []]));
for (let r = 0; r < ROTATIONS; r++) {
  for (let k = 0; k < MODES.length; k++) {
    const mode = MODES[(k + r) % MODES.length];
    ms[mode].push(await timed(mode));
  }
}

// GC events per block (counted separately: the counter is a GC observer itself).
let gcs = 0;
const counter = new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
});
counter.observe({ entryTypes: ["gc"] });
for (let i = 0; i < 20; i++) await block();
await new Promise((r) => setImmediate(r));
counter.disconnect();
const gcPerBlock = gcs / 20;

const watched = MemWatchdog.metrics();
MemWatchdog.stop();
inspector.disconnect();
const base = median(ms.none);
const result = {
  node: process.version,
  finished: new Date().toISOString(),
  loadavg: (await import("node:os")).loadavg()[0],
  rotations: ROTATIONS,
  requestsPerBlock: REQUESTS,
  heapProfileIntervals: INTERVALS,
  gcEventsPerBlock: gcPerBlock,
  usPerRequestNone: (base * 1000) / REQUESTS,
  modes: {},
};
for (const mode of MODES.slice(1)) {
  const diffs = ms[mode].map((v, i) => v - ms.none[i]); // paired by rotation
  const d = median(diffs);
  const [lo, hi] = bootstrap(diffs);
  result.modes[mode] = {
    medianBlockMs: median(ms[mode]),
    overheadPct: (100 * d) / base,
    overheadPct95: [(100 * lo) / base, (100 * hi) / base],
    usPerGcEvent: (d * 1000) / gcPerBlock,
    usPerGcEvent95: [(lo * 1000) / gcPerBlock, (hi * 1000) / gcPerBlock],
  };
}
const lines = [
  `node ${process.version}: ${ROTATIONS} rotations of ${REQUESTS}-request blocks; none: ${result.usPerRequestNone.toFixed(1)} µs CPU/request, ${gcPerBlock.toFixed(1)} GC events/block`,
  ...Object.entries(result.modes).map(
    ([m, v]) =>
      `${m.padEnd(12)} ${v.overheadPct >= 0 ? "+" : ""}${v.overheadPct.toFixed(2)}% CPU per request (95%: ${v.overheadPct95.map((x) => x.toFixed(2)).join(" .. ")}), ` +
      `${v.usPerGcEvent.toFixed(1)} µs per GC event`,
  ),
];
if (args.json) {
  process.stderr.write(`${lines.join("\n")}\n`);
  console.log(JSON.stringify(result));
} else {
  console.log(lines.join("\n"));
}
if (sink === 42) console.log(""); // keep the work observable
