// /metrics served by the Rust thread: names, format, and answers while JS is blocked.
import assert from "node:assert/strict";
import { test } from "node:test";
import { join } from "node:path";
import { FIXTURES, runNode, scrape } from "./helpers.mjs";

const REQUIRED = [
  "memwatchdog_info",
  "memwatchdog_heap_slope_bytes_per_ms",
  "memwatchdog_heap_growth_bytes_per_second",
  "memwatchdog_heap_floor_bytes",
  "memwatchdog_heap_used_bytes",
  "memwatchdog_heap_total_bytes",
  "memwatchdog_external_bytes",
  "memwatchdog_array_buffers_bytes",
  "memwatchdog_rss_bytes",
  "memwatchdog_heap_limit_bytes",
  "memwatchdog_memory_limit_bytes",
  "memwatchdog_heap_exhaustion_seconds",
  "memwatchdog_memory_exhaustion_seconds",
  "memwatchdog_leak_alert_total",
  "memwatchdog_detector_state",
  "memwatchdog_gc_total",
  "memwatchdog_gc_duration_seconds",
  "memwatchdog_snapshot_total",
  "memwatchdog_snapshot_duration_seconds",
  "memwatchdog_snapshot_failures_total",
  "memwatchdog_snapshot_refused_total",
];

test("/metrics during a run has the required metrics with live values", async () => {
  const p = runNode([join(FIXTURES, "service.cjs")], {
    env: { RUN_SECONDS: "4", MEMWATCHDOG_SERVICE: "scraped" },
  });
  try {
    const started = await p.waitFor((e) => e.event === "started", 10_000, "start");
    await new Promise((r) => setTimeout(r, 2000));
    const res = await scrape(started.port);
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    for (const name of REQUIRED) {
      assert.match(res.text, new RegExp(`^# TYPE ${name} `, "m"), `missing ${name}`);
    }
    assert.match(res.text, /^memwatchdog_gc_total\{service="scraped",kind="minor"\} [1-9]\d*$/m);
    assert.match(res.text, /^memwatchdog_heap_used_bytes\{service="scraped"\} [1-9]\d*$/m);
    assert.match(res.text, /^memwatchdog_rss_bytes\{service="scraped"\} [1-9]\d*$/m);
    // The heap limit is known from the first GC; a healthy heap projects no exhaustion; the
    // slope is NaN until the detector's first fit, but its sample is there from the start.
    assert.match(res.text, /^memwatchdog_heap_limit_bytes\{service="scraped"\} [1-9]\d*$/m);
    assert.match(res.text, /^memwatchdog_heap_exhaustion_seconds\{service="scraped"\} \+Inf$/m);
    assert.match(res.text, /^memwatchdog_heap_slope_bytes_per_ms\{service="scraped"\} (NaN|-?\d)/m);
    assert.match(res.text, /^memwatchdog_detector_state\{service="scraped",signal="heap"\} 0$/m);
    assert.match(res.text, /^memwatchdog_leak_alert_total\{service="scraped"\} 0$/m);
    // The snapshot reasons the addon can produce are there at 0 before the first event,
    // so that Prometheus's increase() counts that first one.
    for (const reason of ["cooldown", "disk", "memory_headroom", "memory_unknown"]) {
      assert.match(res.text, new RegExp(`^memwatchdog_snapshot_refused_total\\{service="scraped",reason="${reason}"\\} 0$`, "m"), reason);
    }
    assert.match(res.text, /^memwatchdog_snapshot_failures_total\{service="scraped",reason="io"\} 0$/m);
    const notFound = await scrape(started.port, "/heapsnapshot");
    assert.equal(notFound.status, 404);
    const { code } = await p.exited;
    assert.equal(code, 0, p.stderr);
  } finally {
    p.kill();
  }
});

test("/metrics answers while the event loop is blocked", async () => {
  const p = runNode([join(FIXTURES, "blocker.cjs")], { env: { BLOCK_MS: "3000" } });
  try {
    const blocking = await p.waitFor((e) => e.event === "blocking", 10_000, "blocking");
    const t0 = Date.now();
    const res = await scrape(blocking.port);
    const answeredAt = Date.now();
    assert.equal(res.status, 200);
    assert.match(res.text, /^memwatchdog_gc_total\{.*kind="minor"\} [1-9]/m);
    const unblocked = await p.waitFor((e) => e.event === "unblocked", 10_000, "unblocked");
    assert.ok(
      answeredAt < unblocked.to,
      `answered at ${answeredAt}, the loop was blocked ${unblocked.from}..${unblocked.to} (asked at ${t0})`,
    );
    assert.ok(answeredAt - t0 < 1000, `took ${answeredAt - t0} ms`);
    await p.exited;
  } finally {
    p.kill();
  }
});

test("metrics carry prometheus.labels, and the service under prometheus.serviceLabel or not at all", async () => {
  for (const [serviceLabel, expected] of [
    ["app", 'memwatchdog_leak_alert_total{app="checkout",cluster="eu-1",team="payments"} 0'],
    ["false", 'memwatchdog_leak_alert_total{cluster="eu-1",team="payments"} 0'],
  ]) {
    const p = runNode([join(FIXTURES, "service.cjs")], {
      env: { RUN_SECONDS: "3", MEMWATCHDOG_SERVICE: "checkout", MEMWATCHDOG_PROMETHEUS_SERVICE_LABEL: serviceLabel, MEMWATCHDOG_PROMETHEUS_LABELS: "team=payments,cluster=eu-1" },
    });
    try {
      const started = await p.waitFor((e) => e.event === "started", 10_000, "start");
      const text = (await scrape(started.port)).text;
      assert.ok(text.split("\n").includes(expected), text);
      assert.doesNotMatch(text, /service="checkout"/);
    } finally {
      p.kill();
    }
  }
});
