// The shipped Prometheus and Alertmanager files pass the real tools: `promtool check
// rules`, `promtool test rules` (the unit tests in deploy/prometheus), `promtool check
// config` on the example scrape config, `amtool check-config` on the Alertmanager
// example, and `amtool config routes test` sends each kind of alert where the example
// says it goes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { dirname } from "node:path";
import { AM_CONFIG, PROM_CONFIG, RULES, RULES_TEST, needTool, run } from "./helpers.mjs";

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
  const { readFileSync } = await import("node:fs");
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
  assert.match(r.stdout, /3 receivers/);
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
