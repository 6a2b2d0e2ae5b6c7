// The shipped Prometheus and Alertmanager files pass the real tools: `promtool check
// rules`, `promtool test rules` (the unit tests in deploy/prometheus), `promtool check
// config` on the example scrape config, `amtool check-config` on the Alertmanager
// example, and `amtool config routes test` sends each kind of alert where the example
// says it goes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AM_CONFIG, KIT, PROM_CONFIG, RULES, RULES_TEST, needTool, run, tempDir } from "./helpers.mjs";

const AM_EXISTING = join(KIT, "fixtures", "alertmanager-existing.yml");

const PROMTOOL_HINT = "Debian: apt-get install prometheus";
const AMTOOL_HINT = "Debian: apt-get install prometheus-alertmanager";

test("promtool check rules accepts memwatchdog-rules.yml", () => {
  const promtool = needTool("promtool", PROMTOOL_HINT);
  const r = run(promtool, ["check", "rules", RULES]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: 8 rules found/);
});

test("promtool test rules: the rule unit tests pass", () => {
  const promtool = needTool("promtool", PROMTOOL_HINT);
  const r = run(promtool, ["test", "rules", RULES_TEST], { cwd: dirname(RULES_TEST) });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
  assert.doesNotMatch(r.stdout + r.stderr, /FAILED/);
});

test("the rule unit tests cover every alert, firing and not firing", async () => {
  // Plain text checks on the test file: each alert of the rules file appears in an
  // alert_rule_test with expected alerts, and in one with `exp_alerts: []`.
  const rules = readFileSync(RULES, "utf8");
  const tests = readFileSync(RULES_TEST, "utf8");
  const alerts = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]);
  assert.equal(alerts.length, 8, alerts.join(", "));
  const cases = [...tests.matchAll(/alertname: (\w+)\n\s+exp_alerts:( \[\])?/g)];
  for (const name of alerts) {
    assert.ok(cases.some((m) => m[1] === name && !m[2]), `${name}: no firing case in ${RULES_TEST}`);
    assert.ok(cases.some((m) => m[1] === name && m[2]), `${name}: no not-firing case in ${RULES_TEST}`);
  }
  // Rules use the base-unit twin, never the legacy _ms name.
  assert.doesNotMatch(rules.replace(/^\s*#.*$/gm, ""), /memwatchdog_heap_slope_bytes_per_ms/);
});

test("promtool check config accepts the example prometheus.yml (and the rule file it loads)", () => {
  const promtool = needTool("promtool", PROMTOOL_HINT);
  const r = run(promtool, ["check", "config", PROM_CONFIG], { cwd: dirname(PROM_CONFIG) });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS: 8 rules found/);
});

test("amtool check-config accepts the example alertmanager.yml", () => {
  const amtool = needTool("amtool", AMTOOL_HINT);
  const r = run(amtool, ["check-config", AM_CONFIG]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
  assert.match(r.stdout, /4 inhibit rules/);
  assert.match(r.stdout, /5 receivers/);
});

/**
 * `existing` with the MemWatchdog blocks of `example` pasted at its `# <MemWatchdog ...>` lines,
 * each block re-indented to its line: what the example's header tells users to do.
 */
function mergeMemWatchdog(example, existing) {
  const lines = example.split("\n");
  const block = (name) => {
    const begin = lines.findIndex((l) => l.trim() === `# --- MemWatchdog ${name}: begin ---`);
    const end = lines.findIndex((l) => l.trim() === `# --- MemWatchdog ${name}: end ---`);
    assert.ok(begin >= 0 && end > begin, `no "${name}" block in the example`);
    const indent = lines[begin].length - lines[begin].trimStart().length;
    return { body: lines.slice(begin, end + 1), indent };
  };
  return existing
    .split("\n")
    .flatMap((line) => {
      const m = /^(\s*)# <MemWatchdog (.+)>$/.exec(line);
      if (!m) return [line];
      const { body, indent } = block(m[2]);
      const shift = m[1].length - indent;
      return body.map((l) => (l.trim() === "" ? l : shift >= 0 ? " ".repeat(shift) + l : l.slice(-shift)));
    })
    .join("\n");
}

/** Which receiver `amtool config routes test` picks in `config` for `labels`. */
function receiverOf(amtool, config, labels) {
  const r = run(amtool, ["config", "routes", "test", `--config.file=${config}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)]);
  assert.equal(r.code, 0, `${JSON.stringify(labels)}: ${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

test("the MemWatchdog blocks merge into an existing Alertmanager tree: amtool accepts it, both trees route as before", () => {
  const amtool = needTool("amtool", AMTOOL_HINT);
  const merged = join(tempDir(), "alertmanager.yml");
  writeFileSync(merged, mergeMemWatchdog(readFileSync(AM_CONFIG, "utf8"), readFileSync(AM_EXISTING, "utf8")));
  const r = run(amtool, ["check-config", merged]);
  assert.equal(r.code, 0, r.stdout + r.stderr + readFileSync(merged, "utf8"));
  assert.match(r.stdout, /5 inhibit rules/);
  assert.match(r.stdout, /7 receivers/);
  const watchdog = { service: "checkout", instance: "checkout-1:9469", team: "web" };
  for (const [alertname, severity, receiver] of [
    ["MemoryLeak", "critical", "memwatchdog-page"],
    ["MemoryLeak", "warning", "memwatchdog-team"],
    ["MemWatchdogDown", "critical", "memwatchdog-page"],
    ["MemWatchdogSnapshotRefused", "info", "memwatchdog-tickets"],
  ]) {
    assert.equal(receiverOf(amtool, merged, { alertname, severity, ...watchdog }), receiver, alertname);
  }
  // The team's own alerts are not caught by the MemWatchdog subtree.
  assert.equal(receiverOf(amtool, merged, { alertname: "HighLatency", team: "web" }), "web-team");
  assert.equal(receiverOf(amtool, merged, { alertname: "NodeDown", severity: "critical" }), "ops-pager");
  assert.equal(receiverOf(amtool, merged, { alertname: "DiskFull" }), "ops-default");
});

test("the example Alertmanager route sends each alert to the documented receiver", () => {
  const amtool = needTool("amtool", AMTOOL_HINT);
  const cases = [
    ["MemoryLeak", "warning", "memwatchdog-team"],
    ["MemoryLeak", "critical", "memwatchdog-page"],
    ["MemWatchdogLeaking", "warning", "memwatchdog-team"],
    ["MemWatchdogExternalLeaking", "warning", "memwatchdog-team"],
    ["MemWatchdogRssLeaking", "warning", "memwatchdog-team"],
    ["MemWatchdogOomRisk", "critical", "memwatchdog-page"],
    ["MemWatchdogDown", "critical", "memwatchdog-page"],
    ["MemWatchdogSnapshotRefused", "info", "memwatchdog-tickets"],
    ["MemWatchdogSnapshotFailing", "warning", "memwatchdog-tickets"],
    ["MemWatchdogAlertDeliveryFailing", "warning", "memwatchdog-tickets"],
  ];
  for (const [alertname, severity, receiver] of cases) {
    const r = run(amtool, [
      "config",
      "routes",
      "test",
      `--config.file=${AM_CONFIG}`,
      `--verify.receivers=${receiver}`,
      `alertname=${alertname}`,
      `severity=${severity}`,
      "service=checkout",
      "instance=checkout-1:9469",
    ]);
    assert.equal(r.code, 0, `${alertname}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout.trim(), receiver, alertname);
  }
});
