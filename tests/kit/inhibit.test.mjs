// The shipped Alertmanager inhibit rules on a real Alertmanager, with the labels alerts really
// carry: the watchdog's own MemoryLeak alert (service from MEMWATCHDOG_SERVICE, instance host:pid,
// extra labels from MEMWATCHDOG_LABELS) mutes the rule-based alert of the same service and signal
// whether that alert carries the watchdog's own labels (job memwatchdog) or a ServiceMonitor
// target's (job = the Service, namespace, pod, service = the Service), and nothing else.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { join } from "node:path";
import { AM_CONFIG, cleanupAll, freePort, needTool, startProcess, tempDir, waitFor } from "./helpers.mjs";

let am = null;
let url = null;

before(async () => {
  const binary = needTool("prometheus-alertmanager", "Debian: apt-get install prometheus-alertmanager");
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  am = startProcess(binary, [
    `--config.file=${AM_CONFIG}`,
    `--storage.path=${join(tempDir("mw-kit-am-"), "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=",
  ]);
  await waitFor("Alertmanager to be ready", 30_000, async () => {
    if (!am.running()) throw new Error(`alertmanager exited:\n${am.output}`);
    return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok;
  }, 200);
});

after(async () => {
  await am?.stop();
  cleanupAll();
});

/** POSTs alerts (labels only, firing for 10 minutes) to Alertmanager's API v2. */
async function post(alerts) {
  const endsAt = new Date(Date.now() + 600_000).toISOString();
  const res = await fetch(`${url}/api/v2/alerts`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(alerts.map((labels) => ({ labels, endsAt }))),
  });
  assert.equal(res.status, 200, await res.text());
}

test("the watchdog's own MemoryLeak mutes the rule alert of its service and signal, with either label style", async () => {
  const own = { alertname: "MemoryLeak", service: "checkout", instance: "checkout-7d9f4-x2k8q:1", signal: "heap", severity: "warning", team: "payments", namespace: "shop" };
  const fromServiceMonitor = {
    alertname: "MemWatchdogLeaking",
    job: "checkout",
    namespace: "shop",
    pod: "checkout-7d9f4-x2k8q",
    service: "checkout",
    instance: "10.0.0.7:9469",
    signal: "heap",
    severity: "warning",
  };
  const fromOwnLabels = { alertname: "MemWatchdogLeaking", job: "memwatchdog", service: "checkout", instance: "10.0.0.8:9469", signal: "heap", severity: "warning" };
  const otherService = { ...fromOwnLabels, service: "search", instance: "10.0.0.9:9469" };
  const otherSignal = { ...fromServiceMonitor, alertname: "MemWatchdogRssLeaking", signal: "rss" };
  await post([own, fromServiceMonitor, fromOwnLabels, otherService, otherSignal]);

  const status = await waitFor("the five alerts in Alertmanager", 10_000, async () => {
    const alerts = await (await fetch(`${url}/api/v2/alerts`)).json();
    return alerts.length === 5 ? alerts : null;
  });
  const of = (labels) => status.find((a) => a.labels.alertname === labels.alertname && a.labels.instance === labels.instance);
  const muted = (labels) => of(labels).status.inhibitedBy.length > 0;
  assert.ok(muted(fromServiceMonitor), `ServiceMonitor-style rule alert not muted: ${JSON.stringify(of(fromServiceMonitor))}`);
  assert.ok(muted(fromOwnLabels), `own-label rule alert not muted: ${JSON.stringify(of(fromOwnLabels))}`);
  assert.ok(!muted(otherService), "another service's rule alert is muted");
  assert.ok(!muted(otherSignal), "another signal's rule alert is muted");
  assert.ok(!muted(own), "the watchdog's own alert is muted");
});
