// A real Prometheus (Debian's /usr/bin/prometheus) scraping a real watched Node process
// returns `memwatchdog_heap_slope_bytes_per_ms` through its HTTP API, consistent with its
// base-unit twin. (tests/kit/dashboard.test.mjs does the same for the twin and every
// dashboard query; users' existing dashboards query the `_per_ms` name.)
// Missing Prometheus: a failure that says what to install.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { FIXTURES, freePort, runNode, tempDir, waitReady } from "./helpers.mjs";

const PROMETHEUS = process.env.PROMETHEUS_BIN || "/usr/bin/prometheus";
const HAVE = existsSync(PROMETHEUS);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("a real Prometheus returns memwatchdog_heap_slope_bytes_per_ms of a watched process", { timeout: 180_000 }, async () => {
  assert.ok(HAVE, `${PROMETHEUS} not found: this test runs a real Prometheus (Debian: apt-get install prometheus)`);
  const app = runNode(["--expose-gc", join(FIXTURES, "service.cjs")], {
    // Outlives every wait below (30 + 90 + 30 s), so a slow start on a loaded machine still
    // leaves the app running while the last queries need fresh scrapes.
    env: { RUN_SECONDS: "160", FORCE_GC_MS: "200", MEMWATCHDOG_SERVICE: "prom-e2e" },
  });
  let prom = null;
  let promOut = "";
  try {
    const { port } = await app.waitFor((e) => e.event === "started", 30_000, "the app to start");
    const dir = tempDir("mw-core-prom-");
    mkdirSync(join(dir, "data"));
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "scrape_configs:",
        "  - job_name: watched",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${port}"]`,
        "",
      ].join("\n"),
    );
    const promPort = await freePort();
    prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    prom.stdout.on("data", (d) => (promOut += d));
    prom.stderr.on("data", (d) => (promOut += d));
    const base = `http://127.0.0.1:${promPort}`;
    // Prometheus answers 503 "Service Unavailable" to queries until it is ready.
    await waitReady("prometheus", base, prom, () => promOut, 60_000);
    const query = async (expr) => {
      const res = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: expr })}`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) assert.fail(`${expr}: HTTP ${res.status} ${await res.text()}`);
      const body = await res.json();
      assert.equal(body.status, "success", `${expr}: ${JSON.stringify(body)}`);
      return body.data.result;
    };

    // The series (set once the detector has fitted a slope: a few seconds).
    let series = null;
    const deadline = Date.now() + 90_000;
    while (!series) {
      assert.ok(Date.now() < deadline, `no memwatchdog_heap_slope_bytes_per_ms in Prometheus within 90 s; prometheus output:\n${promOut}\napp stderr:\n${app.stderr}`);
      assert.equal(prom.exitCode, null, `prometheus exited:\n${promOut}`);
      try {
        // The series is there from the first scrape, NaN until the first fit: `x == x` drops NaN.
        const result = await query('memwatchdog_heap_slope_bytes_per_ms{job="watched"} == memwatchdog_heap_slope_bytes_per_ms{job="watched"}');
        if (result.length > 0) series = result;
      } catch (err) {
        if (!/fetch failed|ECONNREFUSED|aborted|timeout/i.test(String(err.cause ?? err))) throw err;
      }
      if (!series) await sleep(500);
    }

    assert.equal(series.length, 1, JSON.stringify(series));
    const [s] = series;
    assert.equal(s.metric.__name__, "memwatchdog_heap_slope_bytes_per_ms");
    assert.equal(s.metric.job, "watched");
    assert.equal(s.metric.instance, `127.0.0.1:${port}`);
    assert.equal(s.metric.service, "prom-e2e");
    assert.ok(Number.isFinite(Number(s.value[1])), `value ${s.value[1]}`);

    // Same scrape, same number: the twin is 1000 × the per-ms gauge.
    const [diff] = await query(
      'memwatchdog_heap_growth_bytes_per_second{job="watched"} - on(job, instance, service) 1000 * memwatchdog_heap_slope_bytes_per_ms{job="watched"}',
    );
    assert.ok(diff, "the twin is in Prometheus too");
    assert.ok(Math.abs(Number(diff.value[1])) < 1e-6 * Math.max(1, Math.abs(Number(s.value[1])) * 1000), `twin - 1000 × per_ms = ${diff.value[1]}`);

    // And it is a time series (several scrapes), usable in range queries like dashboards use.
    const deadline2 = Date.now() + 30_000;
    let count = 0;
    while (count < 3) {
      assert.ok(Date.now() < deadline2, `fewer than 3 samples in 30 s: ${count}`);
      const [c] = await query('count_over_time(memwatchdog_heap_slope_bytes_per_ms{job="watched"}[1m])');
      count = c ? Number(c.value[1]) : 0;
      if (count < 3) await sleep(500);
    }
    const [avg] = await query('avg_over_time(memwatchdog_heap_slope_bytes_per_ms{job="watched"}[1m])');
    assert.ok(Number.isFinite(Number(avg.value[1])));
  } finally {
    if (prom && prom.exitCode === null) prom.kill("SIGKILL");
    app.kill();
  }
});
