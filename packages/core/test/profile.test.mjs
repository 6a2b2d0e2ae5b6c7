// Allocation profiles: a real leaky child under the watchdog, V8's sampling heap profiler
// through a same-process inspector session, the diff on a Rust thread, a real
// Alertmanager alert naming the planted leak's allocating function with file:line, the
// `leak` event carrying the sites, valid .heapprofile files and the JSON report.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { join } from "node:path";
import { FIXTURES, PKG, runNode, runToEnd, scrape, tempDir } from "./helpers.mjs";
import { startAlertmanager } from "./alertmanager.mjs";

const FIXTURE = join(FIXTURES, "profiled.cjs");
// The profiler names a function by its definition: line and column (1-based) of
// `function recordAuditEntries` in the fixture.
const SOURCE_LINES = readFileSync(FIXTURE, "utf8").split("\n");
const LEAK_LINE = SOURCE_LINES.findIndex((l) => l.startsWith("function recordAuditEntries")) + 1;
// `+12 MB in recordAuditEntries (profiled.cjs:22:28) < ...`: the summary heading the alert.
const LEAK_AT = new RegExp(`^\\+[\\d.]+ [kMG]?B in recordAuditEntries \\(profiled\\.cjs:${LEAK_LINE}:\\d+\\)`);
const MW = join(PKG, "..", "..", "target", "release", "mw");

const LEAKY = { LEAK_BYTES_PER_SEC: "4000000", FORCE_GC_MS: "1000", RUN_SECONDS: "120" };

/** The first alert in Alertmanager for `service` that satisfies `pred`, polled for 20 s. */
async function alertWhere(am, service, pred) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const alerts = await am.alerts();
    const hit = alerts.find((a) => a.labels.service === service && pred(a));
    if (hit || Date.now() > deadline) return { hit, alerts };
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `site` names the planted leak: its application frame is `recordAuditEntries` at its definition. */
function assertPlanted(site) {
  assert.ok(site, "no allocation site");
  const leaf = site.stack[site.userFrame];
  assert.equal(leaf.functionName, "recordAuditEntries", JSON.stringify(site));
  assert.equal(leaf.kind, "user");
  assert.match(site.site, new RegExp(`^recordAuditEntries \\(profiled\\.cjs:${LEAK_LINE}:\\d+\\)$`));
  assert.ok(leaf.url.endsWith("/test/fixtures/profiled.cjs"), leaf.url);
  assert.equal(leaf.line, LEAK_LINE);
  assert.ok(leaf.column >= 1, JSON.stringify(leaf));
  assert.ok(site.deltaBytes > 1_000_000, `delta ${site.deltaBytes}`);
}

/** A `.heapprofile` as Chrome DevTools reads it: a call tree under `head` and the live samples. */
function assertHeapProfile(path) {
  const st = statSync(path);
  assert.equal(st.mode & 0o777, 0o600, `${path} mode ${(st.mode & 0o777).toString(8)}`);
  const p = JSON.parse(readFileSync(path, "utf8"));
  assert.equal(typeof p.head.callFrame.functionName, "string");
  assert.ok(Array.isArray(p.head.children) && Array.isArray(p.samples), path);
  const ids = new Set();
  const walk = (n) => {
    ids.add(n.id);
    assert.ok(Number.isInteger(n.selfSize) && n.selfSize >= 0);
    n.children.forEach(walk);
  };
  walk(p.head);
  for (const s of p.samples) {
    assert.ok(Number.isInteger(s.nodeId) && Number.isInteger(s.size) && s.size > 0, JSON.stringify(s));
  }
  // V8 may list a sample whose node is not in the tree (seen once in CI under Node 22, as
  // `HeapProfiler.getSamplingProfile` returned it); `mw` skips such samples (see
  // crates/heapprofile, `flattens_in_pre_order_and_counts_samples`). Most must be in the tree.
  const known = p.samples.filter((s) => ids.has(s.nodeId)).length;
  assert.ok(known * 10 >= p.samples.length * 9, `${p.samples.length - known} of ${p.samples.length} samples name no node`);
  return p;
}

/** A real Alertmanager (when installed) and the leaky fixture sending alerts to it, as `service` with `env`. */
async function leakyChild(t, service, env) {
  const am = await startAlertmanager();
  const p = runNode(["--expose-gc", FIXTURE], {
    env: { ...LEAKY, MEMWATCHDOG_SERVICE: service, ...env, MEMWATCHDOG_ALERT_URL: am.url },
  });
  return { am, p };
}

test("without snapshots, the leak alert and event name the allocating function; profiles and report are written", async (t) => {
  const dir = join(tempDir(), "profiles");
  const { am, p } = await leakyChild(t, "profiled", { MEMWATCHDOG_PROFILE_DIR: dir });
  try {
    const started = await p.waitFor((e) => e.event === "started", 10_000, "start");
    const leak = await p.waitFor((e) => e.event === "leak", 90_000, "the leak event");
    assert.equal(leak.signal, "heap");
    assert.ok(Array.isArray(leak.allocationSites) && leak.allocationSites.length > 0, JSON.stringify(leak));
    assertPlanted(leak.allocationSites[0]);
    assert.match(leak.allocationSites[0].summary, LEAK_AT);
    assert.ok(leak.allocationReport.startsWith(dir + "/"), leak.allocationReport);

    const profiles = p.events.filter((e) => e.event === "allocationProfile");
    const diffed = profiles.find((e) => e.kind !== "baseline" && e.reportPath === leak.allocationReport);
    assert.ok(diffed, `no profile event for ${leak.allocationReport}`);
    assertPlanted(diffed.sites[0]);
    const report = JSON.parse(readFileSync(diffed.reportPath, "utf8"));
    // The baseline: taken at start() (nearly empty), replaced when warm-up ended.
    const baseline = profiles.find((e) => e.kind === "baseline" && e.path === report.files.baseline);
    assert.ok(baseline, `no baseline profile event for ${report.files.baseline}: ${JSON.stringify(profiles)}`);
    assert.deepEqual(baseline.sites, []);
    assert.equal(p.events.filter((e) => e.event === "snapshot").length, 0);

    // Files: 0600 in a 0700 dir, named like snapshots, valid profiles, a report naming both.
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const e of [baseline, diffed]) {
      assert.match(e.path, new RegExp(`^${dir}/profiled-${started.pid}-\\d{4}-\\d\\d-\\d\\dT[\\d-]+\\.\\d{3}Z-${e.kind}\\.heapprofile$`));
      assertHeapProfile(e.path);
    }
    assert.equal(statSync(diffed.reportPath).mode & 0o777, 0o600);
    assert.equal(report.schema_version, 1);
    assert.equal(report.kind, "heapprofile");
    assert.equal(report.profiles.length, 2);
    assert.equal(readFileSync(diffed.reportPath, "utf8").match(/^  "profiles":/gm).length, 1, "no duplicate key");
    assert.deepEqual(report.files, { baseline: baseline.path, profile: diffed.path });
    assert.ok(report.sites.length > 0);
    assert.ok(!readdirSync(dir).some((f) => f.endsWith(".partial")), readdirSync(dir).join(" "));

    await p.waitForStderr(/\[memwatchdog\] allocation profile \((suspect|leak)\): top allocation site \+[\d.]+ [kMG]?B in recordAuditEntries /);
    const m = (await scrape(started.port)).text;
    assert.match(m, /^memwatchdog_heap_profile_total\{service="profiled"\} [2-9]$/m);
    assert.match(m, /^memwatchdog_heap_profile_failures_total\{service="profiled",reason="io"\} 0$/m);
    assert.doesNotMatch(m, /recordAuditEntries|profiled\.cjs/, "nothing per site in /metrics");

    if (existsSync(MW)) {
      const r = spawnSync(MW, ["analyze", "--json", baseline.path, diffed.path], { encoding: "utf8" });
      if (r.status === 0) {
        // The same diff, offline: the planted function ranks first.
        const [top] = JSON.parse(r.stdout).sites;
        assert.equal(top.frames[top.user_frame].function, "recordAuditEntries", r.stdout.slice(0, 2000));
      } else {
        t.diagnostic(`mw analyze does not read .heapprofile files yet: ${r.stderr.split("\n")[0]}`);
      }
    }

    const { hit, alerts } = await alertWhere(am, "profiled", (a) => a.annotations.top_allocation_site !== undefined);
    assert.ok(hit, `no alert with top_allocation_site: ${JSON.stringify(alerts)}`);
    assert.match(hit.annotations.top_allocation_site, LEAK_AT);
    assert.ok(hit.annotations.allocation_profile.startsWith(dir + "/"), hit.annotations.allocation_profile);
    assert.ok(existsSync(hit.annotations.allocation_profile));
    assert.equal(hit.annotations.top_suspect, undefined);
    assert.equal(hit.labels.alertname, "MemoryLeak");
    const { code, signal } = await p.exited;
    assert.equal(signal, null, "the child exits by itself after stop()");
    assert.equal(code, 0, p.stderr);
  } finally {
    p.kill();
    am?.stop();
  }
});

test("with snapshots on too, the alert carries both the top suspect and the allocation site", async (t) => {
  const dir = join(tempDir(), "snaps");
  const { am, p } = await leakyChild(t, "both", { MEMWATCHDOG_SNAPSHOT_DIR: dir });
  try {
    const leak = await p.waitFor((e) => e.event === "leak", 90_000, "the leak event");
    assertPlanted(leak.allocationSites[0]);
    const analysis = await p.waitFor((e) => e.event === "analysis", 90_000, "the snapshot pair analysis");
    assert.equal(analysis.outcome, "found", JSON.stringify(analysis));
    // profile.dir defaults to snapshot.dir.
    assert.ok(leak.allocationReport.startsWith(dir + "/"), leak.allocationReport);
    const names = readdirSync(dir);
    assert.ok(names.some((f) => f.endsWith("-leak.heapsnapshot")) && names.some((f) => f.endsWith(".heapprofile")), names.join(" "));
    const { hit, alerts } = await alertWhere(
      am,
      "both",
      (a) => a.annotations.top_suspect === analysis.topSuspect && a.annotations.top_allocation_site !== undefined,
    );
    assert.ok(hit, `no alert with both annotations: ${JSON.stringify(alerts)}`);
    assert.match(hit.annotations.top_allocation_site, LEAK_AT);
    assert.match(hit.annotations.top_suspect, /auditLog/);
  } finally {
    p.kill();
    am?.stop();
  }
});

const prelude = `const { MemWatchdog } = require(${JSON.stringify(PKG)});
const emit = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
const inspector = require("node:inspector");
/** Whether V8's sampling heap profiler runs: stopping it from a second session fails when it does not. */
function sampling() {
  const s = new inspector.Session();
  s.connect();
  let running = false;
  s.post("HeapProfiler.getSamplingProfile", (err) => { running = !err; });
  s.disconnect();
  return running;
}`;

test("stop() stops sampling and disconnects the session: the process exits, no handle left", async () => {
  const code = `${prelude}
    MemWatchdog.start({ prometheus: false, logger: false });
    const during = sampling();
    MemWatchdog.stop();
    emit({ during, after: sampling(), handles: process.getActiveResourcesInfo() });`;
  const r = await runToEnd(["-e", code]);
  assert.equal(r.code, 0, r.stderr);
  const [ev] = r.events;
  assert.equal(ev.during, true, "sampling runs while the watchdog does");
  assert.equal(ev.after, false, "sampling stopped by stop()");
  assert.deepEqual(ev.handles, []);
});

test("a profiler stopped by another inspector session: one clear log line, a metric, the watchdog runs on", async () => {
  const code = `${prelude}
    const lines = [];
    MemWatchdog.start({ prometheus: false, logger: (l) => lines.push(l) });
    // A debugger's session stops V8's (per-isolate) sampling profiler under us.
    const other = new inspector.Session();
    other.connect();
    other.post("HeapProfiler.stopSampling", () => {});
    other.disconnect();
    const took = MemWatchdog["profiles"].take("baseline");
    emit({ took, running: MemWatchdog.running, lines, metrics: MemWatchdog.metrics(), after: sampling() });
    MemWatchdog.stop();`;
  const r = await runToEnd(["-e", code]);
  assert.equal(r.code, 0, r.stderr);
  const [ev] = r.events;
  assert.equal(ev.took, false);
  assert.equal(ev.running, true);
  const off = ev.lines.filter((l) => l.startsWith("allocation profiles are off: "));
  assert.equal(off.length, 1, ev.lines.join("\n"));
  assert.match(off[0], /cannot read the sampling heap profile \(.*not started.*\); another inspector session \(a debugger\?\) may have stopped it/);
  assert.match(ev.metrics, /^memwatchdog_heap_profile_failures_total\{service="[^"]+",reason="inspector"\} 1$/m);
  assert.equal(ev.after, false);
});

test("profile options and variables: defaults, dir from snapshot.dir, errors naming them", async () => {
  const code = `${prelude}
    const { resolveOptions } = require(${JSON.stringify(PKG)});
    emit({ d: resolveOptions({ env: {} }).profile });
    emit({ s: resolveOptions({ env: { MEMWATCHDOG_SNAPSHOT_DIR: "/tmp/snaps" } }).profile });
    emit({ e: resolveOptions({ env: { MEMWATCHDOG_PROFILE_ENABLED: "off" } }).profile, f: resolveOptions({ profile: false, env: {} }).profile });
    emit({ v: resolveOptions({ env: { MEMWATCHDOG_PROFILE_SAMPLING_INTERVAL: "65536", MEMWATCHDOG_PROFILE_DIR: "/tmp/p", MEMWATCHDOG_PROFILE_MAX_FILES: "4", MEMWATCHDOG_PROFILE_COOLDOWN_MS: "0" } }).profile });
    for (const o of [{ profile: { samplingInterval: 0 } }, { env: { MEMWATCHDOG_PROFILE_SAMPLING_INTERVAL: "lots" } }, { profile: { maxFiles: 1 } }, { env: { MEMWATCHDOG_PROFILE_ENABLED: "maybe" } }]) {
      try { resolveOptions({ env: {}, ...o }); emit({ ok: true }); } catch (e) { emit({ name: e.name, message: e.message }); }
    }`;
  const r = await runToEnd(["-e", code]);
  assert.equal(r.code, 0, r.stderr);
  const [d, s, e, v, ...errors] = r.events;
  assert.deepEqual(d.d, { samplingInterval: 1048576, dir: null, maxFiles: 10, cooldownMs: 60000 });
  assert.equal(s.s.dir, "/tmp/snaps");
  assert.equal(e.e, null);
  assert.equal(e.f, null);
  assert.deepEqual(v.v, { samplingInterval: 65536, dir: "/tmp/p", maxFiles: 4, cooldownMs: 0 });
  assert.ok(errors.every((x) => x.name === "MemWatchdogConfigError"), JSON.stringify(errors));
  assert.match(errors[0].message, /^profile\.samplingInterval must be a whole number of bytes/);
  assert.match(errors[1].message, /^MEMWATCHDOG_PROFILE_SAMPLING_INTERVAL must be a whole number of bytes .*got "lots"/);
  assert.match(errors[2].message, /^profile\.maxFiles must be a whole number of at least 2/);
  assert.match(errors[3].message, /^MEMWATCHDOG_PROFILE_ENABLED must be true or false/);
});
