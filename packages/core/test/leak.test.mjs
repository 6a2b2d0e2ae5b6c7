// A leaky child gets a 'leak' event, a baseline + leak snapshot pair (0600 files in a 0700
// dir), metrics and a real Alertmanager alert naming the snapshot; a child whose memory
// limit leaves no headroom gets refusals instead of snapshots.
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { test } from "node:test";
import { join } from "node:path";
import { FIXTURES, runNode, runToEnd, scrape, tempDir, PKG } from "./helpers.mjs";

/** The heap snapshots in `dir` (allocation profiles share the directory by default). */
const snapshotsIn = (dir) => readdirSync(dir).filter((f) => f.endsWith(".heapsnapshot") || f.endsWith(".partial"));
import { startAlertmanager } from "./alertmanager.mjs";

// The fixture forces a major GC every second (as a busy service has them); see service.cjs.
const LEAKY = {
  LEAK_BYTES_PER_SEC: "5000000",
  FORCE_GC_MS: "1000",
  RUN_SECONDS: "120",
};

test("a leaking child gets a leak event, a snapshot pair, metrics and an alert", async (t) => {
  const am = await startAlertmanager();
  const dir = join(tempDir(), "snaps");
  const p = runNode(["--expose-gc", join(FIXTURES, "service.cjs")], {
    env: {
      ...LEAKY,
      MEMWATCHDOG_SERVICE: "leaky",
      MEMWATCHDOG_SNAPSHOT_DIR: dir,
      MEMWATCHDOG_ALERT_URL: am.url,
      MEMWATCHDOG_LABELS: "team=payments,namespace=shop",
    },
  });
  try {
    const started = await p.waitFor((e) => e.event === "started", 10_000, "start");
    const leak = await p.waitFor((e) => e.event === "leak", 90_000, "the leak event");
    assert.equal(leak.signal, "heap");
    assert.equal(leak.state, "leaking");
    assert.ok(leak.slopeBytesPerMs > 1000, `slope ${leak.slopeBytesPerMs}`);
    const snap = await p.waitFor((e) => e.event === "snapshot" && e.kind === "leak", 90_000, "the leak snapshot");
    const baseline = p.events.find((e) => e.event === "snapshot" && e.kind === "baseline");
    assert.ok(baseline, "a baseline snapshot was written before the leak snapshot");

    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const s of [baseline, snap]) {
      assert.ok(s.path.startsWith(dir + "/"), s.path);
      assert.match(s.path, new RegExp(`/leaky-${started.pid}-\\d{4}-\\d\\d-\\d\\dT[\\d-]+\\.\\d{3}Z-${s.kind}\\.heapsnapshot$`));
      const st = statSync(s.path);
      assert.equal(st.mode & 0o777, 0o600, `${s.path} mode ${(st.mode & 0o777).toString(8)}`);
      assert.equal(st.size, s.bytes);
      assert.ok(s.nodes > 1000);
    }
    assert.deepEqual(snapshotsIn(dir).sort(), [baseline.path, snap.path].map((x) => x.slice(dir.length + 1)).sort());
    await p.waitForStderr(/\[memwatchdog\] wrote heap snapshot \S+-leak\.heapsnapshot \(\d+(\.\d)? MB, \d+\.\d s, \d+ objects\)/);

    // The pair is analyzed on a Rust thread: the top suspect is the module's `leaked` array.
    const analysis = await p.waitFor((e) => e.event === "analysis", 60_000, "the snapshot pair analysis");
    assert.equal(analysis.outcome, "found", JSON.stringify(analysis));
    assert.match(analysis.topSuspect, /^Array ×\d[\d,]* \(\+[\d.]+ [kMG]?B\) held by .*leaked > \[\] > Array$/);
    await p.waitForStderr(/\[memwatchdog\] snapshot pair analyzed: top suspect Array/);

    const m = (await scrape(started.port)).text;
    assert.match(m, /^memwatchdog_leak_alert_total\{service="leaky"\} 1$/m);
    // 5 MB/s into a ~4 GiB heap: full in well under an hour, so the leak is an oom_risk (4).
    assert.match(m, /^memwatchdog_detector_state\{service="leaky",signal="heap"\} 4$/m);
    const risk = p.events.find((e) => e.event === "state" && e.state === "oom_risk");
    assert.ok(risk, "an oom_risk state event");
    assert.ok(risk.exhaustionMs > 60_000 && risk.exhaustionMs < 3_600_000, `exhaustion ${risk.exhaustionMs}`);
    assert.ok(risk.limitBytes > 2 ** 30, `limit ${risk.limitBytes}`);
    assert.match(m, /^memwatchdog_heap_exhaustion_seconds\{service="leaky"\} \d/m);
    assert.match(m, /^memwatchdog_heap_limit_bytes\{service="leaky"\} [1-9]/m);
    assert.match(m, /^memwatchdog_snapshot_total\{service="leaky"\} 2$/m);
    assert.match(m, /^memwatchdog_snapshot_duration_seconds\{service="leaky"\} \d/m);
    assert.match(m, /^memwatchdog_heap_growth_bytes_per_second\{service="leaky"\} [1-9]/m);

    // Two alerts: the warning ("you have a leak") and the critical page ("runs out of
    // memory in ~N min"), both annotated with the snapshot and the top suspect.
    const of = (severity) => async () =>
      (await am.alerts()).find(
        (a) =>
          a.labels.alertname === "MemoryLeak" &&
          a.labels.service === "leaky" &&
          a.labels.severity === severity &&
          a.annotations.snapshot === snap.path &&
          a.annotations.top_suspect === analysis.topSuspect,
      );
    for (const severity of ["warning", "critical"]) {
      let alert;
      const deadline = Date.now() + 20_000;
      while (!alert && Date.now() < deadline) {
        alert = await of(severity)();
        if (!alert) await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(alert, `no ${severity} alert naming ${snap.path} and the top suspect in Alertmanager: ${JSON.stringify(await am.alerts())}`);
      assert.equal(alert.labels.signal, "heap");
      assert.equal(alert.labels.team, "payments", "alert.labels reach Alertmanager, for its routing tree");
      assert.equal(alert.labels.namespace, "shop");
      assert.match(alert.labels.instance, new RegExp(`:${started.pid}$`));
      assert.ok(Number(alert.annotations.slope_bytes_per_ms) > 1000);
      assert.ok(Number(alert.annotations.limit_bytes) > 2 ** 30, JSON.stringify(alert.annotations));
      assert.ok(Number(alert.annotations.exhaustion_seconds) > 0, JSON.stringify(alert.annotations));
      assert.ok(Date.parse(alert.annotations.exhaustion_at) > Date.now(), alert.annotations.exhaustion_at);
      if (severity === "warning") assert.match(alert.annotations.summary, /^leaky is leaking memory: heap grows /);
      else assert.match(alert.annotations.summary, /^leaky runs out of memory in ~\d+ (s|min): heap grows .* towards its limit of /);
    }
  } finally {
    p.kill();
    am?.stop();
  }
});

test("snapshots are refused when the memory limit leaves no headroom", async (t) => {
  const am = await startAlertmanager();
  const dir = join(tempDir(), "snaps");
  const p = runNode(["--expose-gc", join(FIXTURES, "service.cjs")], {
    env: {
      ...LEAKY,
      MEMWATCHDOG_SERVICE: "tight",
      MEMWATCHDOG_SNAPSHOT_DIR: dir,
      MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT: "64MiB",
      MEMWATCHDOG_ALERT_URL: am.url,
    },
  });
  try {
    const started = await p.waitFor((e) => e.event === "started", 10_000, "start");
    await p.waitFor((e) => e.event === "leak", 90_000, "the leak event");
    const refused = await p.waitFor((e) => e.event === "snapshotRefused" && e.kind === "leak", 60_000, "the refusal");
    assert.equal(refused.reason, "memory_headroom");
    assert.match(refused.message, /^memory headroom too small: writing needs ~.* but only 0 B is available \(snapshot\.memoryLimitBytes minus RSS\)/);
    await p.waitForStderr(/\[memwatchdog\] heap snapshot \(leak\) refused: memory headroom too small/);
    assert.deepEqual(snapshotsIn(dir), []);
    const m = (await scrape(started.port)).text;
    assert.match(m, /^memwatchdog_snapshot_refused_total\{service="tight",reason="memory_headroom"\} 2$/m);
    assert.match(m, /^memwatchdog_snapshot_total\{service="tight"\} 0$/m);
    let alert;
    const deadline = Date.now() + 20_000;
    while (!alert && Date.now() < deadline) {
      alert = (await am.alerts()).find((a) => a.labels.service === "tight" && a.annotations.snapshot_refused);
      if (!alert) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(alert, "the alert carries the refusal");
    assert.match(alert.annotations.snapshot_refused, /^memory headroom too small/);
  } finally {
    p.kill();
    am?.stop();
  }
});

test("writeSnapshot() obeys the guard and the cooldown; maxFiles keeps the newest", async () => {
  const dir = join(tempDir(), "snaps");
  const code = `const { MemWatchdog } = require(${JSON.stringify(PKG)});
    const emit = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
    MemWatchdog.start({ prometheus: false, snapshot: { dir: ${JSON.stringify(dir)}, maxFiles: 2, cooldownMs: 0 } });
    for (let i = 0; i < 3; i++) emit({ event: "leak" + i, ...MemWatchdog.writeSnapshot("leak") });
    MemWatchdog.stop();
    MemWatchdog.start({ prometheus: false, snapshot: { dir: ${JSON.stringify(dir)}, memoryLimitBytes: 1024 } });
    emit({ event: "tight", ...MemWatchdog.writeSnapshot("leak") });
    MemWatchdog.stop();
    MemWatchdog.start({ prometheus: false, snapshot: { dir: ${JSON.stringify(dir)}, maxFiles: 2, cooldownMs: 60000 } });
    emit({ event: "first", ...MemWatchdog.writeSnapshot("leak") });
    emit({ event: "second", ...MemWatchdog.writeSnapshot("leak") });
    emit({ event: "metrics", text: MemWatchdog.metrics() });
    MemWatchdog.stop();`;
  const r = await runToEnd(["-e", code], {}, 60_000);
  assert.equal(r.code, 0, r.stderr);
  const ev = Object.fromEntries(r.events.map((e) => [e.event, e]));
  assert.ok(ev.leak0.path && ev.leak1.path && ev.leak2.path);
  assert.equal(ev.tight.reason, "memory_headroom");
  assert.ok(ev.first.path);
  assert.equal(ev.second.reason, "cooldown");
  assert.match(ev.second.message, /^cooldown: the previous snapshot is recent, next allowed in \d+s/);
  assert.match(ev.metrics.text, /memwatchdog_snapshot_refused_total\{service="[^"]+",reason="cooldown"\} 1/);
  // maxFiles 2: leak0 was deleted when leak2 was written; "first" then deleted leak1.
  const files = snapshotsIn(dir).sort();
  assert.deepEqual(files, [ev.leak2.path, ev.first.path].map((x) => x.slice(dir.length + 1)).sort());
  assert.match(r.stderr, /deleted old heap snapshot .*-leak\.heapsnapshot \(snapshot\.maxFiles = 2\)/);
});
