// Overhead benchmark driver: autocannon against bench/overhead/server.cjs in three
// variants (none, memwatchdog, prom-client), interleaved over N rounds, the server
// pinned to one CPU and this process (the load generator) to another.
//
//   node run.mjs [--rounds 5] [--duration 20] [--warmup 5] [--connections 20]
//                [--server-cpu 1|none] [--scrape-every 5] [--out FILE]
//
// Each (round, variant): a fresh server process (`taskset -c <server-cpu>`), a warm-up
// load that is thrown away (JIT, heap sizing), then the measured load. While it runs,
// the variant's /metrics is scraped every --scrape-every seconds, as Prometheus would
// (none: nothing to scrape). Recorded per run: requests/s (total / duration), latency
// p50/p99/p99.9, errors, the server's CPU use (from /proc) and CPU time per request,
// the load generator's CPU use, the GC events/s the
// watchdog counted (memwatchdog), and the load average before and after. The variant
// order rotates each round so that no variant always runs first or last.
//
// Run it pinned to the load generator's CPU: `taskset -c 0 node run.mjs` (run.sh does).
import autocannon from "autocannon";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os, { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "20" },
    warmup: { type: "string", default: "5" },
    connections: { type: "string", default: "20" },
    "server-cpu": { type: "string", default: "1" },
    "scrape-every": { type: "string", default: "5" },
    variants: { type: "string", default: "none,memwatchdog,prom-client" },
    out: { type: "string", default: join(HERE, "..", "..", ".bench", "overhead", "http.json") },
  },
});
const ROUNDS = Number(args.rounds);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const SERVER_CPU = args["server-cpu"];
const SCRAPE_EVERY = Number(args["scrape-every"]);
const VARIANTS = args.variants.split(",");
const HAVE_TASKSET = SERVER_CPU !== "none" && spawnSync("taskset", ["--version"]).status === 0;

const log = (line) => process.stderr.write(`overhead: ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of `pid` in seconds (Linux /proc). */
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the comm field: state is f[0], utime f[11], stime f[12] (fields 14 and 15).
  const ticks = Number(f[11]) + Number(f[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

async function startServer(variant) {
  const cmd = HAVE_TASKSET ? "taskset" : process.execPath;
  const argv = HAVE_TASKSET ? ["-c", SERVER_CPU, process.execPath, join(HERE, "server.cjs")] : [join(HERE, "server.cjs")];
  const env = { ...process.env, VARIANT: variant };
  for (const k of Object.keys(env)) if (k.startsWith("MEMWATCHDOG_")) delete env[k];
  delete env.NODE_OPTIONS;
  const child = spawn(cmd, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.setEncoding("utf8");
  let buf = "";
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server (${variant}) did not start in 15 s:\n${stderr}`)), 15_000);
    child.stdout.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(buf.slice(0, nl)));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server (${variant}) exited with ${code}:\n${stderr}`));
    });
  });
  return {
    ...info,
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await once(child, "exit");
      clearTimeout(timer);
    },
  };
}

async function get(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

/** GC events the watchdog counted so far (all kinds). */
async function watchdogGcTotal(metricsPort) {
  const text = await get(`http://127.0.0.1:${metricsPort}/metrics`);
  let n = 0;
  for (const m of text.matchAll(/^memwatchdog_gc_total\{[^}]*\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}

function load(url, seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1, timeout: 10 }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

async function runOne(variant, round) {
  const server = await startServer(variant);
  const url = `http://127.0.0.1:${server.port}/api/orders`;
  const metricsUrl =
    variant === "memwatchdog" ? `http://127.0.0.1:${server.metricsPort}/metrics` : variant === "prom-client" ? `http://127.0.0.1:${server.port}/metrics` : null;
  try {
    if (metricsUrl) await get(metricsUrl); // the endpoint works before anything is timed
    await load(url, WARMUP);
    const loadBefore = loadavg()[0];
    const cpu0 = cpuSeconds(server.pid);
    const gc0 = variant === "memwatchdog" ? await watchdogGcTotal(server.metricsPort) : null;
    let scrapes = 0;
    const scraper = metricsUrl
      ? setInterval(() => {
          get(metricsUrl).then(
            () => scrapes++,
            (err) => log(`scrape failed: ${err.message}`),
          );
        }, SCRAPE_EVERY * 1000)
      : null;
    const t0 = performance.now();
    const self0 = process.cpuUsage();
    const r = await load(url, DURATION);
    const wall = (performance.now() - t0) / 1000;
    const self = process.cpuUsage(self0);
    if (scraper) clearInterval(scraper);
    const cpu = cpuSeconds(server.pid) - cpu0;
    const gc1 = variant === "memwatchdog" ? await watchdogGcTotal(server.metricsPort) : null;
    const loadAfter = loadavg()[0];
    const run = {
      variant,
      round,
      reqPerSec: r.requests.total / r.duration,
      requests: r.requests.total,
      durationS: r.duration,
      latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p999: r.latency.p99_9 ?? r.latency.p999, max: r.latency.max },
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      serverCpuPct: (100 * cpu) / wall,
      serverCpuUsPerRequest: (cpu * 1e6) / r.requests.total,
      loadGeneratorCpuPct: (100 * (self.user + self.system)) / 1e6 / wall,
      gcEventsPerSec: gc1 === null ? null : (gc1 - gc0) / wall,
      scrapes,
      loadavgBefore: loadBefore,
      loadavgAfter: loadAfter,
    };
    log(
      `round ${round} ${variant.padEnd(12)} ${run.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${run.latencyMs.p99} ms  server CPU ${run.serverCpuPct.toFixed(0)}% (${run.serverCpuUsPerRequest.toFixed(1)} µs/req), autocannon ${run.loadGeneratorCpuPct.toFixed(0)}%` +
        `${run.gcEventsPerSec === null ? "" : `  GC ${run.gcEventsPerSec.toFixed(1)}/s`}  load ${loadBefore.toFixed(2)}→${loadAfter.toFixed(2)}` +
        `${run.errors || run.non2xx ? `  ERRORS ${run.errors}, non-2xx ${run.non2xx}` : ""}`,
    );
    return run;
  } finally {
    await server.stop();
  }
}

const started = new Date();
log(
  `${ROUNDS} rounds × ${VARIANTS.length} variants × (${WARMUP} s warm-up + ${DURATION} s), ${CONNECTIONS} connections, ` +
    (HAVE_TASKSET ? `server on CPU ${SERVER_CPU}` : "taskset not found: nothing pinned"),
);
const runs = [];
for (let round = 1; round <= ROUNDS; round++) {
  const order = VARIANTS.map((_, i) => VARIANTS[(i + round - 1) % VARIANTS.length]);
  for (const variant of order) {
    runs.push(await runOne(variant, round));
    await sleep(500);
  }
}
let affinity = null;
try {
  affinity = spawnSync("taskset", ["-p", String(process.pid)], { encoding: "utf8" }).stdout.trim();
} catch {
  // no taskset
}
const cpus = os.cpus();
const result = {
  machine: { cpuModel: cpus[0]?.model ?? "unknown", cpus: cpus.length, kernel: `${os.type()} ${os.release()}`, memBytes: os.totalmem() },
  started: started.toISOString(),
  finished: new Date().toISOString(),
  settings: { rounds: ROUNDS, durationS: DURATION, warmupS: WARMUP, connections: CONNECTIONS, serverCpu: HAVE_TASKSET ? SERVER_CPU : null, scrapeEveryS: SCRAPE_EVERY, variants: VARIANTS },
  loadGenerator: { node: process.version, affinity },
  runs,
};
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${args.out}`);
