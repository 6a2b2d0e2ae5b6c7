// The watchdog's metrics through the service's own prom-client registry (`prometheus.registry`,
// `registerMetrics()`): the real prom-client, the merged output checked by the real promtool.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { after, test } from "node:test";
import { runNode, scrape } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const client = require("prom-client");
const { MemWatchdog } = require("../dist/cjs/index.js");

const PROMTOOL = "/usr/bin/promtool";
/** The lints promtool raises on this output that are not ours to fix: the mandated `_ms` name, prom-client's own gauges. */
const KNOWN_LINTS = [
  "memwatchdog_heap_slope_bytes_per_ms metric names should not contain abbreviated units",
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
];
/** What `processMetrics: false` leaves to prom-client's default metrics. */
const DUPLICATES = [
  "memwatchdog_heap_used_bytes",
  "memwatchdog_heap_total_bytes",
  "memwatchdog_external_bytes",
  "memwatchdog_rss_bytes",
  "memwatchdog_gc_total",
  "memwatchdog_gc_duration_seconds",
];

after(() => MemWatchdog.stop());

/** `promtool check metrics` on `text`: its problems, one per line. */
function promtool(text) {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: install it with apt-get install -y prometheus`);
  const r = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8" });
  assert.equal(r.error, undefined);
  return `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "");
}

/** The `# TYPE` names of a text exposition. */
function families(text) {
  return text.split("\n").flatMap((l) => (l.startsWith("# TYPE ") ? [l.split(" ")[2]] : []));
}

/** A few GCs, so that the histograms and the floor have values. */
async function someGcs() {
  const junk = [];
  for (let i = 0; i < 30; i++) {
    junk.push(new Array(50_000).fill(i));
    await new Promise((r) => setImmediate(r));
  }
  return junk.length;
}

test("with collectDefaultMetrics and processMetrics false, one registry serves each series once and promtool accepts it", async () => {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  MemWatchdog.start({ env: false, logger: false, prometheus: { registry, processMetrics: false } });
  try {
    assert.equal(MemWatchdog.metricsPort, null, "a registry alone opens no port");
    await someGcs();
    const text = await registry.metrics();
    assert.deepEqual(promtool(text), KNOWN_LINTS, text);

    const names = families(text);
    assert.equal(new Set(names).size, names.length, "a family appears twice");
    for (const gone of DUPLICATES) assert.ok(!names.includes(gone), `${gone} is exported next to prom-client's`);
    for (const theirs of ["nodejs_heap_size_used_bytes", "nodejs_external_memory_bytes", "process_resident_memory_bytes", "nodejs_gc_duration_seconds"]) {
      assert.ok(names.includes(theirs), `prom-client's ${theirs} is missing`);
    }
    for (const ours of ["memwatchdog_heap_floor_bytes", "memwatchdog_detector_state", "memwatchdog_heap_exhaustion_seconds"]) {
      assert.ok(names.includes(ours), `${ours} is missing`);
    }
    assert.match(text, /^memwatchdog_heap_floor_bytes\{service="[^"]+"\} \d+$/m, "the floor has a value after major GCs");
  } finally {
    MemWatchdog.stop();
  }
});

test("the families prom-client serves are the watchdog's own /metrics, line for line", async () => {
  const registry = new client.Registry();
  MemWatchdog.start({ env: false, logger: false, prometheus: { registry, port: 0, host: "127.0.0.1" } });
  try {
    assert.notEqual(MemWatchdog.metricsPort, null, "an explicit port still opens the endpoint");
    await someGcs();
    // Both reads in one synchronous run: no GC callback runs in between.
    const merged = registry.metrics();
    const own = MemWatchdog.metrics();
    const lines = (text) => text.split("\n").filter((l) => l !== "").map((l) => l.replace(/ Nan$/, " NaN"));
    assert.deepEqual(lines(await merged), lines(own));
    for (const name of DUPLICATES) assert.ok(families(own).includes(name), `${name} missing by default`);
    const served = await scrape(MemWatchdog.metricsPort);
    assert.deepEqual(families(served.text), families(own));
  } finally {
    MemWatchdog.stop();
  }
});

test("registry default labels apply, and an OpenMetrics registry gets its counters' _total once", async () => {
  const registry = new client.Registry(client.Registry.OPENMETRICS_CONTENT_TYPE);
  registry.setDefaultLabels({ pod: "checkout-7d9f" });
  MemWatchdog.start({ env: false, logger: false, prometheus: { registry } });
  try {
    await someGcs();
    const text = await registry.metrics();
    assert.match(text, /^# TYPE memwatchdog_gc counter$/m);
    assert.match(text, /^memwatchdog_gc_total\{service="[^"]+",kind="major",pod="checkout-7d9f"\} \d+$/m);
    assert.doesNotMatch(text, /_total_total/);
    assert.match(text, /^memwatchdog_gc_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d+$/m);
  } finally {
    MemWatchdog.stop();
  }
});

test("stop() takes the families out of the registry and start() puts them back; a taken name fails start() cleanly", async () => {
  const registry = new client.Registry();
  MemWatchdog.start({ env: false, logger: false, prometheus: { registry } });
  MemWatchdog.stop();
  assert.deepEqual(families(await registry.metrics()), []);
  MemWatchdog.start({ env: false, logger: false, prometheus: { registry } });
  assert.ok(families(await registry.metrics()).includes("memwatchdog_info"));
  MemWatchdog.stop();

  const taken = new client.Registry();
  new client.Gauge({ name: "memwatchdog_rss_bytes", help: "someone else's", registers: [taken] });
  assert.throws(
    () => MemWatchdog.start({ env: false, logger: false, prometheus: { registry: taken } }),
    /cannot add the watchdog's metrics to the prom-client registry: A metric with the name memwatchdog_rss_bytes has already been registered/,
  );
  assert.equal(MemWatchdog.running, false);
  assert.deepEqual(families(await taken.metrics()), ["memwatchdog_rss_bytes"], "nothing of the watchdog is left behind");
  MemWatchdog.start({ env: false, logger: false, prometheus: false });
  assert.ok(MemWatchdog.running, "the failed registry is forgotten: the next start() does not try it again");
  MemWatchdog.stop();

  assert.throws(() => MemWatchdog.start({ env: false, prometheus: { registry: {} } }), {
    name: "MemWatchdogConfigError",
    message: /^prometheus\.registry must be a prom-client Registry/,
  });
});

test("a watchdog started by register joins the app's registry through registerMetrics(); the variable drops the duplicates", async () => {
  const app = `
    const http = require("node:http");
    const client = require("prom-client");
    const { MemWatchdog } = require("@memwatchdog/core");
    client.collectDefaultMetrics();
    MemWatchdog.registerMetrics(client.register);
    http.createServer(async (req, res) => {
      res.setHeader("Content-Type", client.register.contentType);
      res.end(await client.register.metrics());
    }).listen(0, "127.0.0.1", function () {
      console.log(JSON.stringify({ port: this.address().port, running: MemWatchdog.running, own: MemWatchdog.metricsPort }));
    });
  `;
  const proc = runNode(["-r", "@memwatchdog/core/register", "-e", app], {
    env: { MEMWATCHDOG_PROMETHEUS_PORT: "false", MEMWATCHDOG_PROMETHEUS_PROCESS_METRICS: "false" },
  });
  try {
    const { port, ...ready } = await proc.waitFor((e) => e.port, 10_000, "the app listening");
    assert.deepEqual(ready, { running: true, own: null });
    const { status, text: body } = await scrape(port);
    assert.equal(status, 200);
    const names = families(body);
    assert.ok(names.includes("memwatchdog_detector_state") && names.includes("nodejs_heap_size_used_bytes"), body);
    for (const gone of DUPLICATES) assert.ok(!names.includes(gone), gone);
    assert.deepEqual(promtool(body), KNOWN_LINTS, body);
  } finally {
    proc.kill();
  }
});
