// Where the watchdog's CPU goes inside a busy service: the benchmark service's request
// work (service.cjs) runs for --seconds under the watchdog with V8's sampling CPU
// profiler on (--cpu-prof), and every sample is put in one of:
//   watchdog     a frame of @memwatchdog/core called from Node's delivery of `gc`
//                entries: its GC callback, including the calls into the addon
//                (detector, metrics) and getHeapStatistics()
//   node gc      Node's delivery of `gc` performance entries to observers
//                (node:internal/perf/* on the stack, without a watchdog frame) - what
//                any GC observer costs, prom-client's default metrics included
//   startup      loading and starting the watchdog, once (not counted in the shares)
//   gc           V8's garbage collector
//   app          everything else
// and reported per GC event (the watchdog's own gc_total counts them) and as a share
// of all CPU samples. Sampling error: a category with n samples is known to about
// ±1/sqrt(n).
//
//   node profile.mjs [--seconds 10] [--interval-us 250] [--json]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const CORE = process.env.MW_BENCH_CORE || join(HERE, "..", "..", "packages", "core");
const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    "interval-us": { type: "string", default: "250" },
    json: { type: "boolean", default: false },
    child: { type: "boolean", default: false },
  },
});

if (args.child) {
  // The profiled process: request work in a loop, yielding to the event loop every 20
  // requests as a server does between requests.
  const require = createRequire(import.meta.url);
  const { respond } = require("./service.cjs");
  const { MemWatchdog } = require(CORE);
  MemWatchdog.start({ prometheus: { port: 0, host: "127.0.0.1" }, logger: false, env: false });
  let sink = 0;
  const t0 = Date.now();
  const end = t0 + Number(args.seconds) * 1000;
  let requests = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 20; i++) sink += respond(0).length;
    requests += 20;
    await new Promise((r) => setImmediate(r));
  }
  let gcEvents = 0;
  for (const m of MemWatchdog.metrics().matchAll(/^memwatchdog_gc_total\{[^}]*\} (\d+)$/gm)) gcEvents += Number(m[1]);
  MemWatchdog.stop();
  console.log(JSON.stringify({ gcEvents, requests, seconds: (Date.now() - t0) / 1000, sink: sink > 0 }));
} else {
  const dir = mkdtempSync(join(tmpdir(), "mw-overhead-prof-"));
  try {
    const r = spawnSync(
      process.execPath,
      ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${args["interval-us"]}`, fileURLToPath(import.meta.url), "--child", "--seconds", args.seconds],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`profiled child failed (${r.status}):\n${r.stderr}`);
    const run = JSON.parse(r.stdout.trim().split("\n").pop());
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));

    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const category = new Map();
    const classify = (id) => {
      if (category.has(id)) return category.get(id);
      const self = byId.get(id).callFrame;
      let cat = "app";
      if (self.functionName === "(garbage collector)") cat = "gc";
      else if (self.functionName === "(idle)") cat = "idle";
      else {
        let perf = false;
        let core = false;
        for (let at = id; at !== undefined; at = parent.get(at)) {
          const url = byId.get(at).callFrame.url;
          if (url.includes("/packages/core/") || url.startsWith(CORE)) core = true;
          else if (url.includes("internal/perf/")) perf = true;
        }
        if (core) cat = perf ? "watchdog" : "startup";
        else if (perf) cat = "node gc";
      }
      category.set(id, cat);
      return cat;
    };
    const us = {};
    const samples = {};
    let total = 0;
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      const cat = classify(id);
      us[cat] = (us[cat] ?? 0) + dt;
      samples[cat] = (samples[cat] ?? 0) + 1;
      total += dt;
    });
    const busy = total - (us.idle ?? 0) - (us.startup ?? 0);
    const result = {
      node: process.version,
      seconds: run.seconds,
      intervalUs: Number(args["interval-us"]),
      gcEvents: run.gcEvents,
      gcEventsPerSec: run.gcEvents / run.seconds,
      requests: run.requests,
      categories: Object.fromEntries(
        ["app", "gc", "node gc", "watchdog"].map((c) => [
          c,
          {
            samples: samples[c] ?? 0,
            sharePct: (100 * (us[c] ?? 0)) / busy,
            usPerGcEvent: (us[c] ?? 0) / run.gcEvents,
          },
        ]),
      ),
    };
    const lines = [
      `node ${process.version}: ${run.seconds.toFixed(1)} s, ${run.gcEvents} GC events (${result.gcEventsPerSec.toFixed(0)}/s), ${run.requests} requests`,
      ...Object.entries(result.categories).map(
        ([c, v]) => `${c.padEnd(9)} ${v.sharePct.toFixed(3).padStart(7)} % of CPU  ${v.usPerGcEvent.toFixed(1).padStart(8)} µs per GC event  (${v.samples} samples)`,
      ),
    ];
    if (args.json) {
      process.stderr.write(`${lines.join("\n")}\n`);
      console.log(JSON.stringify(result));
    } else {
      console.log(lines.join("\n"));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
