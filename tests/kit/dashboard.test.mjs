// The Grafana dashboard and the alert rules against a real Prometheus scraping real Node
// processes under @memwatchdog/core:
// - a healthy service (churn, a flat cache, snapshots enabled): every query of the
//   dashboard (panel targets, template variables, annotations) parses and, for panels,
//   returns at least one series with a real number; every rule loads and evaluates;
// - a leaking service: the detector-state and leak panels show the leak, and the
//   MemWatchdogLeaking rule goes pending and then fires, its annotations filled in
//   from live series.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import {
  DASHBOARD,
  KIT,
  RULES,
  allPanels,
  childEnv,
  cleanupAll,
  needCoreBuilt,
  startPrometheus,
  startProcess,
  substitute,
  tempDir,
  waitFor,
  which,
} from "./helpers.mjs";

const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8"));
const APP = join(KIT, "fixtures", "watched-app.cjs");
const JOB = "memwatchdog";
/** The target labels a ServiceMonitor gives a pod (`job`: the Service's name). */
const POD = { job: "checkout", namespace: "shop", service: "checkout", pod: "checkout-7d9f4-x2k8q" };
const PROMETHEUS = which("prometheus");

/** Every PromQL expression of the dashboard, with where it comes from. */
function dashboardQueries() {
  const out = [];
  for (const p of allPanels(dashboard)) {
    for (const t of p.targets ?? []) out.push({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr, target: t, kind: "panel" });
  }
  for (const a of dashboard.annotations?.list ?? []) {
    if (a.expr) out.push({ where: `annotation "${a.name}"`, expr: a.expr, kind: "annotation" });
  }
  return out;
}

describe("dashboard JSON structure", () => {
  test("schema, ids, layout, datasource and variables", () => {
    assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `schemaVersion ${dashboard.schemaVersion}`);
    assert.equal(dashboard.uid, "memwatchdog");
    assert.equal(dashboard.id, null, "a provisioned dashboard must not carry a database id");
    const vars = dashboard.templating.list;
    const names = vars.map((v) => v.name);
    assert.deepEqual(names, ["datasource", "job", "service", "instance"]);
    assert.equal(vars[0].type, "datasource");
    assert.equal(vars[0].query, "prometheus");
    for (const v of vars.slice(1)) {
      assert.equal(v.type, "query");
      assert.deepEqual(v.datasource, { type: "prometheus", uid: "${datasource}" }, v.name);
      assert.match(v.definition, /^label_values\(/);
      assert.equal(v.query, v.definition, `${v.name}: the query is the classic label_values() string`);
    }
    const panels = allPanels(dashboard);
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
    for (const p of panels) {
      const g = p.gridPos;
      assert.ok(g && g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `panel ${p.id} gridPos ${JSON.stringify(g)}`);
      if (p.type === "row") continue;
      assert.ok(p.title && p.description, `panel ${p.id} has a title and a description`);
      assert.deepEqual(p.datasource, { type: "prometheus", uid: "${datasource}" }, `panel ${p.id} datasource`);
      assert.ok(p.targets?.length, `panel ${p.id} has targets`);
      const refIds = p.targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `panel ${p.id} refIds are unique`);
      for (const t of p.targets) {
        assert.deepEqual(t.datasource, { type: "prometheus", uid: "${datasource}" }, `panel ${p.id} ${t.refId} datasource`);
        assert.ok(typeof t.expr === "string" && t.expr.length > 0, `panel ${p.id} ${t.refId} expr`);
      }
    }
    // Panels do not overlap.
    const cells = new Set();
    for (const p of panels) {
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          const k = `${x},${y}`;
          assert.ok(!cells.has(k), `panel ${p.id} overlaps another at ${k}`);
          cells.add(k);
        }
      }
    }
  });

  test("every query uses only known variables and the base-unit growth metric", () => {
    for (const q of dashboardQueries()) {
      substitute(q.expr, { job: JOB, service: "s", instance: "i" }); // throws on an unknown variable
      assert.doesNotMatch(q.expr, /memwatchdog_heap_slope_bytes_per_ms/, q.where);
    }
    const text = JSON.stringify(dashboard);
    for (const needed of [
      "memwatchdog_heap_growth_bytes_per_second",
      "memwatchdog_heap_floor_bytes",
      "memwatchdog_heap_used_bytes",
      "memwatchdog_heap_total_bytes",
      "memwatchdog_external_bytes",
      "memwatchdog_array_buffers_bytes",
      "memwatchdog_rss_bytes",
      "memwatchdog_gc_duration_seconds_bucket",
      "memwatchdog_gc_total",
      "memwatchdog_detector_state",
      "memwatchdog_leak_alert_total",
      "memwatchdog_snapshot_total",
      "memwatchdog_snapshot_refused_total",
      "memwatchdog_snapshot_failures_total",
      "memwatchdog_snapshot_duration_seconds",
      "memwatchdog_heap_limit_bytes",
      "memwatchdog_heap_exhaustion_seconds",
    ]) {
      assert.ok(text.includes(needed), `the dashboard shows ${needed}`);
    }
  });
});

describe("dashboard and rules on a real Prometheus scraping real watched processes", { timeout: 420_000 }, () => {
  let prom = null;
  let healthy = null;
  let leaky = null;
  /** Leaks like `leaky`, scraped the way a Kubernetes ServiceMonitor scrapes a pod. */
  let podLeaky = null;

  before(async () => {
    if (!PROMETHEUS) throw new Error("prometheus is not installed: this test runs a real Prometheus (Debian: apt-get install prometheus)");
    needCoreBuilt();
    const snapDir = tempDir("mw-kit-snap-");
    const common = { MEMWATCHDOG_PROMETHEUS_PORT: "0", MEMWATCHDOG_PROMETHEUS_HOST: "127.0.0.1" };
    healthy = startProcess(process.execPath, ["--expose-gc", APP], {
      env: childEnv({ ...common, MEMWATCHDOG_SERVICE: "kit-healthy", MEMWATCHDOG_SNAPSHOT_DIR: snapDir, FORCE_GC_MS: "250" }),
    });
    // A fast leak (3 MB/s against an adaptive threshold of 64 B/ms and up); no
    // snapshots, so writing one of a growing heap does not freeze it.
    leaky = startProcess(process.execPath, ["--expose-gc", APP], {
      env: childEnv({ ...common, MEMWATCHDOG_SERVICE: "kit-leaky", MEMWATCHDOG_SNAPSHOT_ENABLED: "false", LEAK_BYTES_PER_SEC: "3000000", FORCE_GC_MS: "500" }),
    });
    // Set up as docs/prometheus.md, "Kubernetes labels", says: no service label of its own on
    // the metrics (the target has one), the same service name on its own alerts.
    podLeaky = startProcess(process.execPath, ["--expose-gc", APP], {
      env: childEnv({
        ...common,
        MEMWATCHDOG_SERVICE: POD.service,
        MEMWATCHDOG_PROMETHEUS_SERVICE_LABEL: "false",
        MEMWATCHDOG_SNAPSHOT_ENABLED: "false",
        LEAK_BYTES_PER_SEC: "3000000",
        FORCE_GC_MS: "500",
      }),
    });
    const [h, l, k] = await Promise.all([
      healthy.waitEvent("the healthy app to start", 20_000, (e) => e.event === "started"),
      leaky.waitEvent("the leaky app to start", 20_000, (e) => e.event === "started"),
      podLeaky.waitEvent("the pod's leaky app to start", 20_000, (e) => e.event === "started"),
    ]);
    healthy.target = `127.0.0.1:${h.port}`;
    leaky.target = `127.0.0.1:${l.port}`;
    podLeaky.target = `127.0.0.1:${k.port}`;
    // What the Prometheus Operator generates for a ServiceMonitor: target labels from the
    // pod and its Service, the job named after the Service.
    const serviceMonitor = [
      `  - job_name: serviceMonitor/${POD.namespace}/${POD.service}/0`,
      "    scrape_interval: 1s",
      "    scrape_timeout: 1s",
      "    static_configs:",
      `      - targets: ${JSON.stringify([podLeaky.target])}`,
      "    relabel_configs:",
      ...Object.entries(POD).flatMap(([label, value]) => [`      - target_label: ${label}`, `        replacement: ${JSON.stringify(value)}`]),
    ];
    prom = await startPrometheus(PROMETHEUS, { targets: [healthy.target, leaky.target], ruleFiles: [RULES], scrapeConfigs: serviceMonitor });
  });

  after(async () => {
    await Promise.all([prom?.stop(), healthy?.stop(), leaky?.stop(), podLeaky?.stop()]);
    cleanupAll();
  });

  /** The instant-query result vector of `expr`, asserting the query parsed and ran. */
  async function vector(expr, where = expr) {
    const r = await prom.query(expr);
    assert.equal(r.status, "success", `${where}: ${expr}\n${r.errorType}: ${r.error}`);
    return r.data.result;
  }

  test("the rules load and evaluate without errors", async () => {
    const groups = await waitFor("every rule evaluated", 30_000, async () => {
      const r = await prom.api("/api/v1/rules");
      assert.equal(r.status, "success");
      const g = r.data.groups.find((x) => x.name === "memwatchdog");
      if (!g || g.rules.some((rule) => rule.health === "unknown")) return null;
      return r.data.groups;
    });
    assert.equal(groups.length, 1);
    const [g] = groups;
    assert.ok(g.file.endsWith("memwatchdog-rules.yml"), g.file);
    assert.deepEqual(
      g.rules.map((r) => r.name).sort(),
      [
        "MemWatchdogAlertDeliveryFailing",
        "MemWatchdogDown",
        "MemWatchdogExternalLeaking",
        "MemWatchdogLeaking",
        "MemWatchdogOomRisk",
        "MemWatchdogRssLeaking",
        "MemWatchdogSnapshotFailing",
        "MemWatchdogSnapshotRefused",
      ],
    );
    for (const rule of g.rules) {
      assert.equal(rule.type, "alerting", rule.name);
      assert.equal(rule.health, "ok", `${rule.name}: ${rule.lastError}`);
      assert.ok(!rule.lastError, `${rule.name}: ${rule.lastError}`);
    }
  });

  test("every dashboard query returns data for a healthy process", async () => {
    // Wait for the healthy process to be well under way: its baseline snapshot written
    // (after the detector's warm-up), a fitted growth rate, and 20+ scrapes of it.
    await healthy.waitEvent("the healthy app's baseline snapshot", 120_000, (e) => e.event === "snapshot" && e.kind === "baseline");
    const sel = `job="${JOB}", instance="${healthy.target}"`;
    await waitFor("20 scrapes and the snapshot in Prometheus", 60_000, async () => {
      const [scrapes] = await vector(`count_over_time(up{${sel}}[5m])`);
      const [snap] = await vector(`memwatchdog_snapshot_duration_seconds{${sel}}`);
      const [growth] = await vector(`memwatchdog_heap_growth_bytes_per_second{${sel}}`);
      // Both are there from the first scrape, NaN until known.
      return scrapes && Number(scrapes.value[1]) >= 20 && snap?.value[1] !== "NaN" && growth?.value[1] !== "NaN" && snap && growth;
    });

    const vars = { job: JOB, service: "kit-healthy", instance: healthy.target };
    const now = Date.now() / 1000;
    let checked = 0;
    for (const q of dashboardQueries()) {
      const expr = substitute(q.expr, vars);
      const result = await vector(expr, q.where);
      if (q.kind === "annotation") continue; // parses; empty unless a leak was declared
      assert.ok(result.length > 0, `${q.where} returned no series: ${expr}`);
      for (const s of result) {
        assert.equal(s.metric.instance ?? healthy.target, healthy.target, `${q.where} leaks another instance: ${JSON.stringify(s.metric)}`);
      }
      // A number: +Inf is one (memwatchdog_heap_exhaustion_seconds while the heap does not grow).
      assert.ok(
        result.some((s) => s.value[1] !== "NaN"),
        `${q.where} has no value: ${JSON.stringify(result)}`,
      );
      if (q.target.range !== false) {
        // Grafana runs time-series targets as range queries.
        const r = await prom.queryRange(expr, now - 30, now, 1);
        assert.equal(r.status, "success", `${q.where} (range): ${r.error}`);
        assert.ok(r.data.result.length > 0, `${q.where} (range) returned no series: ${expr}`);
      }
      checked++;
    }
    assert.ok(checked >= 20, `checked ${checked} panel queries`);

    // Spot checks of what a healthy process shows.
    const state = await vector(substitute(allPanels(dashboard).find((p) => p.title === "Detector state").targets[0].expr, vars));
    assert.deepEqual(state.map((s) => s.metric.signal).sort(), ["external", "heap", "rss"]);
    for (const s of state) assert.ok(!["2", "4"].includes(s.value[1]), `healthy process, ${s.metric.signal} leaking? state ${s.value[1]}`);
    const [exhaustion] = await vector(`memwatchdog_heap_exhaustion_seconds{${sel}}`);
    assert.equal(exhaustion.value[1], "+Inf", "a healthy heap has no projected exhaustion");
    const [limit] = await vector(`memwatchdog_heap_limit_bytes{${sel}}`);
    assert.ok(Number(limit.value[1]) > 100 * 2 ** 20, `heap limit ${limit.value[1]}`);
    const written = await vector(`memwatchdog_snapshot_total{${sel}}`);
    assert.equal(written[0].value[1], "1", "the baseline snapshot is counted");

    // The template variables' label_values() queries list this process.
    for (const v of dashboard.templating.list.filter((x) => x.type === "query")) {
      const m = /^label_values\((.*),\s*(\w+)\)$/.exec(substitute(v.definition, vars));
      assert.ok(m, v.definition);
      const r = await prom.api(`/api/v1/label/${m[2]}/values`, { "match[]": m[1] });
      assert.equal(r.status, "success", `${v.name}: ${r.error}`);
      assert.ok(r.data.includes({ job: JOB, service: "kit-healthy", instance: healthy.target }[v.name]), `${v.name}: ${JSON.stringify(r.data)}`);
    }
  });

  test("a leaking process: the panels show it, MemWatchdogLeaking and MemWatchdogOomRisk fire", async (t) => {
    const sel = `job="${JOB}", instance="${leaky.target}"`;
    // 3 MB/s into a ~4 GiB heap: full in about 20 minutes, within the 1 h horizon.
    await leaky.waitEvent("the leaky app's heap leak", 150_000, (e) => e.event === "state" && e.signal === "heap" && e.state === "oom_risk");
    await waitFor("the leak in Prometheus", 30_000, async () => (await vector(`memwatchdog_detector_state{${sel}, signal="heap"} == 4`)).length > 0);

    const vars = { job: JOB, service: "kit-leaky", instance: leaky.target };
    const panel = (title) => allPanels(dashboard).find((p) => p.title === title);
    const state = await vector(substitute(panel("Detector state").targets[0].expr, vars));
    assert.equal(state.find((s) => s.metric.signal === "heap")?.value[1], "4", JSON.stringify(state));
    const left = await vector(substitute(panel("Time to heap exhaustion").targets[0].expr, vars));
    assert.ok(Number(left[0]?.value[1]) > 0 && Number(left[0]?.value[1]) < 3600, `time to exhaustion: ${JSON.stringify(left)}`);
    const headroom = await vector(substitute(panel("Heap headroom").targets[0].expr, vars));
    assert.ok(Number(headroom[0]?.value[1]) > 2 ** 30, `headroom: ${JSON.stringify(headroom)}`);
    const leaks = await vector(substitute(panel("Leaks in time range").targets[0].expr, vars));
    assert.ok(Number(leaks[0]?.value[1]) >= 1, `leaks in range: ${JSON.stringify(leaks)}`);
    const growth = await vector(substitute(panel("Heap growth rate").targets[0].expr, vars));
    assert.ok(Number(growth[0]?.value[1]) > 102400, `growth: ${JSON.stringify(growth)}`);
    const marks = await vector(substitute(dashboard.annotations.list.find((a) => a.expr).expr, { ...vars }, { __interval: "5m" }));
    assert.equal(marks.length, 1, `the "Leak declared" annotation query finds the leak: ${JSON.stringify(marks)}`);

    // The rule goes pending at once and fires after its 1m `for`.
    const alertOf = async (name = "MemWatchdogLeaking") => {
      const r = await prom.api("/api/v1/alerts");
      assert.equal(r.status, "success");
      return r.data.alerts.find((a) => a.labels.alertname === name && a.labels.instance === leaky.target);
    };
    // The page fires at once (no `for`), with the time left in its summary.
    const page = await waitFor("MemWatchdogOomRisk firing", 60_000, async () => {
      const a = await alertOf("MemWatchdogOomRisk");
      return a?.state === "firing" ? a : null;
    }, 1000);
    assert.deepEqual(
      { ...page.labels },
      { alertname: "MemWatchdogOomRisk", job: JOB, instance: leaky.target, service: "kit-leaky", signal: "heap", severity: "critical" },
    );
    t.diagnostic(`page: ${JSON.stringify(page.annotations)}`);
    assert.match(page.annotations.summary, new RegExp(`^kit-leaky on ${leaky.target} runs out of memory in ~\\d+m \\d+s \\(heap leak\\)$`));
    const pending = await waitFor("MemWatchdogLeaking pending or firing", 30_000, alertOf);
    assert.ok(["pending", "firing"].includes(pending.state), pending.state);
    const firing = await waitFor("MemWatchdogLeaking firing", 100_000, async () => {
      const a = await alertOf();
      return a?.state === "firing" ? a : null;
    }, 1000);
    assert.deepEqual(
      { ...firing.labels },
      { alertname: "MemWatchdogLeaking", job: JOB, instance: leaky.target, service: "kit-leaky", signal: "heap", severity: "warning" },
    );
    assert.equal(firing.value, "4e+00");
    assert.equal(firing.annotations.summary, `kit-leaky on ${leaky.target} is leaking JS heap memory`);
    // The description's query templates found the live floor and growth rate.
    t.diagnostic(`firing: ${JSON.stringify(firing.annotations)}`);
    assert.match(firing.annotations.description, /Heap floor now \d+(\.\d+)?[kMG]iB, growing \d+(\.\d+)?[kMG]iB\/s\./);

    // The healthy neighbour raised no alert at all.
    const r = await prom.api("/api/v1/alerts");
    assert.deepEqual(r.data.alerts.filter((a) => a.labels.instance === healthy.target), []);
  });

  test("behind a ServiceMonitor's target labels (no service label of the watchdog's own): the panels and the rules work", async () => {
    const sel = `job="${POD.job}", instance="${podLeaky.target}"`;
    await podLeaky.waitEvent("the pod's heap leak", 150_000, (e) => e.event === "state" && e.signal === "heap" && e.state === "oom_risk");
    const [series] = await waitFor("the pod's leak in Prometheus", 30_000, async () => {
      const v = await vector(`memwatchdog_detector_state{${sel}, signal="heap"} == 4`);
      return v.length ? v : null;
    });
    assert.deepEqual(
      { ...series.metric },
      { __name__: "memwatchdog_detector_state", ...POD, instance: podLeaky.target, signal: "heap" },
      "the target's labels, no exported_service",
    );

    const services = await prom.api("/api/v1/label/service/values", { "match[]": "memwatchdog_info" });
    assert.ok(services.data.includes(POD.service), `the dashboard's service variable lists the Service: ${JSON.stringify(services.data)}`);
    const vars = { job: POD.job, service: POD.service, instance: podLeaky.target };
    const panel = (title) => allPanels(dashboard).find((p) => p.title === title);
    for (const title of ["Detector state", "Time to heap exhaustion", "Heap growth rate", "JS heap used / total", "Resident set size (RSS)"]) {
      assert.ok(panel(title), `no panel "${title}"`);
      const v = await vector(substitute(panel(title).targets[0].expr, vars), title);
      assert.ok(v.length > 0 && Number.isFinite(Number(v[0].value[1])), `${title}: ${JSON.stringify(v)}`);
    }

    const alertOf = async (name) => {
      const a = (await prom.api("/api/v1/alerts")).data.alerts;
      return a.find((x) => x.labels.alertname === name && x.labels.instance === podLeaky.target && x.state === "firing") ?? null;
    };
    const page = await waitFor("MemWatchdogOomRisk firing for the pod", 60_000, () => alertOf("MemWatchdogOomRisk"), 1000);
    assert.deepEqual({ ...page.labels }, { ...POD, alertname: "MemWatchdogOomRisk", instance: podLeaky.target, signal: "heap", severity: "critical" });
    assert.match(page.annotations.summary, new RegExp(`^${POD.service} on ${podLeaky.target} runs out of memory in ~\\d+m \\d+s \\(heap leak\\)$`));
    const ticket = await waitFor("MemWatchdogLeaking firing for the pod", 100_000, () => alertOf("MemWatchdogLeaking"), 1000);
    assert.equal(ticket.labels.service, POD.service, "the inhibit rules match the watchdog's own alerts on this service label");
    assert.match(ticket.annotations.description, /Heap floor now \d+(\.\d+)?[kMG]iB, growing \d+(\.\d+)?[kMG]iB\/s\./);
  });
});
