// Alertmanager faults, end to end: a real host application (test/fixtures/host-app.cjs) leaks,
// the watchdog declares it within seconds (a detector tuned for tests) and sends its alert to
// an Alertmanager that is down, slow or failing. Each test asserts that the alert reaches a
// real Alertmanager once it is reachable (nothing lost, nothing dropped from the queue), that
// the host application answers HTTP and /metrics answers during the fault, and that the
// failures are counted and logged once per backoff step.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { once } from "node:events";
import { join } from "node:path";
import { test } from "node:test";
import { FIXTURES, freePort, runNode, scrape } from "./helpers.mjs";
import { startAlertmanager } from "./alertmanager.mjs";

/** Declares a 5 MB/s leak about 3 s after start (the defaults need 20 s of evidence). */
const FAST_DETECTOR = {
  short: { bucket_ms: 500, min_points: 5, min_span_ms: 3000, confirm_evaluations: 1 },
  fast_path: { min_span_ms: 3000 },
  growth_allowance: { bytes: 4194304, fraction: 0.01, headroom_fraction: 0 },
};

/** Starts the leaking host app with its alerts going to `url`; resolves once it listens. */
async function leakingApp(url, service) {
  const options = {
    env: false,
    labels: { service },
    prometheus: { port: 0, host: "127.0.0.1" },
    alert: { url },
    profile: false,
    native: { threshold: 64, detector: FAST_DETECTOR },
  };
  const p = runNode(["--expose-gc", join(FIXTURES, "host-app.cjs")], {
    env: { HOST_OPTIONS: JSON.stringify(options), LEAK_MS: "8000", RUN_MS: "120000" },
  });
  const started = await p.waitFor((e) => e.event === "started", 10_000, "the host app to listen");
  return { p, started };
}

/** The host app answers HTTP and its /metrics answers: returns the metrics text. */
async function stillServing({ started }) {
  const res = await fetch(`http://127.0.0.1:${started.app}/`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /^ok \d+$/m);
  const m = await scrape(started.port);
  assert.equal(m.status, 200);
  assert.match(m.text, /^memwatchdog_heap_used_bytes\{/m);
  return m.text;
}

const metric = (text, name) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);

/** Polls `probe` every 200 ms until it returns a truthy value or `ms` pass. */
async function until(what, ms, probe) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Every alert the watchdog fired is in Alertmanager: the warning for the `leak` event, and
 * the critical page if the detector reached oom_risk. Nothing was dropped from the queue.
 */
async function allDelivered(am, app, service) {
  const fired = ["warning"];
  if (app.p.events.some((e) => e.event === "state" && e.state === "oom_risk")) fired.push("critical");
  for (const severity of fired) {
    await until(`the ${severity} MemoryLeak alert of ${service} in Alertmanager`, 40_000, async () =>
      (await am.alerts()).find(
        (a) => a.labels.alertname === "MemoryLeak" && a.labels.service === service && a.labels.severity === severity,
      ),
    );
  }
  const text = await stillServing(app);
  assert.equal(metric(text, "memwatchdog_alert_queue_dropped_total"), 0, "no alert dropped from the queue");
  assert.ok(metric(text, "memwatchdog_alerts_sent_total") >= fired.length, text);
  return text;
}

/**
 * A real HTTP server in front of a real Alertmanager: Alertmanager cannot be made slow or made
 * to fail on demand, so this stand-in answers each POST as `plan(n)` says (n = 0, 1, ...):
 * `{ status }` answers at once with that status and no forwarding, `{ holdMs }` holds the
 * request that long (beyond the watchdog's 5 s request timeout: it gives up) and then
 * forwards it, `{}` forwards it at once. Forwarded requests reach Alertmanager byte for byte.
 */
async function frontOf(amUrl, plan) {
  const attempts = [];
  const holding = new Set();
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const n = attempts.length;
    attempts.push({ at: performance.now(), path: req.url });
    const step = plan(n);
    if (step.status) {
      res.writeHead(step.status, { "content-type": "text/plain" }).end("injected failure\n");
      return;
    }
    if (step.holdMs) {
      holding.add(n);
      await new Promise((r) => setTimeout(r, step.holdMs));
      holding.delete(n);
    }
    try {
      const up = await fetch(amUrl + req.url, {
        method: req.method,
        headers: { "content-type": req.headers["content-type"] ?? "application/json" },
        body: Buffer.concat(chunks),
        signal: AbortSignal.timeout(5000),
      });
      res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "text/plain" }).end(await up.text());
    } catch {
      res.destroy(); // the watchdog gave up on this request long ago
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    attempts,
    holding,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

test("Alertmanager down, then up: the alert is delivered once it is up, the app serves meanwhile", async () => {
  const port = await freePort(); // nothing listens here until Alertmanager starts on it
  const app = await leakingApp(`http://127.0.0.1:${port}`, "am-down");
  let am;
  try {
    await app.p.waitFor((e) => e.event === "leak", 60_000, "the leak event");
    // At least two failed attempts (1 s apart at first), while the app and /metrics answer.
    await until("two failed sends", 30_000, async () => metric(await stillServing(app), "memwatchdog_alert_send_failures_total") >= 2);
    assert.match(app.p.stderr, /cannot send \d+ alert\(s\) to http:\/\/127\.0\.0\.1:\d+\/api\/v2\/alerts: .*; retrying in \d+\.\ds/);
    am = await startAlertmanager({ port });
    await allDelivered(am, app, "am-down");
    await app.p.waitForStderr(/Alertmanager at \S+ answers again; delivered \d+ alert\(s\) after \d+ failed attempt\(s\)/, 10_000);
  } finally {
    app.p.kill();
    am?.stop();
  }
});

test("Alertmanager slow: a request that hangs past the timeout is retried, the app and /metrics answer meanwhile", async () => {
  const am = await startAlertmanager();
  // The first request hangs for 8 s (the watchdog's request timeout is 5 s); later ones
  // are forwarded after 1 s, slow but in time.
  const slow = await frontOf(am.url, (n) => (n < 1 ? { holdMs: 8000 } : { holdMs: 1000 }));
  const app = await leakingApp(slow.url, "am-slow");
  try {
    await app.p.waitFor((e) => e.event === "leak", 60_000, "the leak event");
    await until("a request held by the slow Alertmanager", 30_000, () => slow.holding.size > 0);
    // While the sender thread waits on the hanging request, the service and /metrics answer.
    for (let i = 0; i < 5; i++) await stillServing(app);
    assert.ok(slow.holding.size > 0 || slow.attempts.length > 1, "the checks above ran during the hang");
    const text = await allDelivered(am, app, "am-slow");
    assert.ok(metric(text, "memwatchdog_alert_send_failures_total") >= 1, "the timed-out request is counted as a failure");
    assert.match(app.p.stderr, /cannot send \d+ alert\(s\) to .*: .*timed? ?out.*; retrying in/i);
  } finally {
    app.p.kill();
    slow.close();
    am.stop();
  }
});

test("Alertmanager answering 500: retried with growing delays, delivered when it recovers", async () => {
  const am = await startAlertmanager();
  const failing = await frontOf(am.url, (n) => (n < 3 ? { status: 500 } : {}));
  const app = await leakingApp(failing.url, "am-500");
  try {
    await app.p.waitFor((e) => e.event === "leak", 60_000, "the leak event");
    const text = await allDelivered(am, app, "am-500");
    assert.equal(metric(text, "memwatchdog_alert_send_failures_total"), 3, text);
    // Backoff: delay n is 1 s × 2^n with ±20 % jitter, so the gaps after the 1st, 2nd and
    // 3rd failure are at least 0.8, 1.6 and 3.2 s (lower bounds only: a busy machine may add).
    const at = failing.attempts.map((a) => a.at);
    assert.ok(at.length >= 4, `attempts: ${at.length}`);
    const gaps = [1, 2, 3].map((i) => (at[i] - at[i - 1]) / 1000);
    for (const [i, min] of [0.8, 1.6, 3.2].entries()) assert.ok(gaps[i] >= min, `gap ${i + 1}: ${gaps[i].toFixed(2)} s, want >= ${min} s (gaps ${gaps})`);
    assert.match(app.p.stderr, /cannot send \d+ alert\(s\) to .*: HTTP 500 Internal Server Error: injected failure; retrying in \d/);
    await app.p.waitForStderr(/answers again; delivered \d+ alert\(s\) after 3 failed attempt\(s\)/, 10_000);
  } finally {
    app.p.kill();
    failing.close();
    am.stop();
  }
});
