// PM2 cluster mode, as PM2 starts a worker: `node -r @memwatchdog/core/register
// ProcessContainer.js` with the app's settings packed into the JSON variable `pm2_env`
// (its top-level keys with the app's `env` merged in, the instance number, `pm_id`,
// `name`...) and none of them in process.env yet: PM2 copies them there only after the
// preloads ran (fixtures/pm2-worker.cjs does what PM2's ProcessContainer does). The
// shape of `pm2_env` below is what PM2 7 gives a worker (checked against a real one).
// tests/kit/pm2.test.mjs runs the ecosystem example under a real PM2.
import assert from "node:assert/strict";
import { test } from "node:test";
import { join } from "node:path";
import { FIXTURES, freeConsecutivePorts, runNode, runToEnd, scrape } from "./helpers.mjs";

const WORKER = join(FIXTURES, "pm2-worker.cjs");
const APP = join(FIXTURES, "app.cjs");

/** `pm2_env` as PM2's God.nodeApp() passes it to cluster.fork(), for app `name`, instance `instance`. */
function pm2Env({ name = "api", instance = 0, pmId = instance, appEnv = {}, top = {} } = {}) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...appEnv };
  return JSON.stringify({
    ...env, // PM2 merges the app's env into the top level
    name,
    namespace: "default",
    env,
    exec_mode: "cluster_mode",
    instances: 2,
    instance_var: "NODE_APP_INSTANCE",
    node_args: ["-r", "@memwatchdog/core/register"],
    pm_exec_path: APP,
    pm_cwd: FIXTURES,
    pm_id: pmId,
    NODE_APP_INSTANCE: instance,
    autorestart: true,
    axm_options: {},
    unique_id: "0c5f4b1e-8a33-4e0c-9d3e-4f4a0b1c2d3e",
    ...top,
  });
}

/** A PM2 cluster worker: the daemon's own environment (`daemonEnv`) plus `pm2_env`. */
function worker(pm2EnvJson, daemonEnv = {}, runMs = "500") {
  // childEnv() adds MEMWATCHDOG_PROMETHEUS_PORT=0 and HOST=127.0.0.1 unless overridden:
  // here the port must come from pm2_env, so the daemon's environment holds none (or a
  // stale one, when the test says so).
  return runNode(["-r", "@memwatchdog/core/register", WORKER], {
    env: { MEMWATCHDOG_PROMETHEUS_PORT: undefined, RUN_MS: runMs, ...daemonEnv, pm2_env: pm2EnvJson },
  });
}

test("PM2 cluster workers: settings from pm2_env, one port each from MEMWATCHDOG_PROMETHEUS_PORT_BASE + NODE_APP_INSTANCE", async () => {
  const base = await freeConsecutivePorts(2);
  const appEnv = {
    MEMWATCHDOG_PROMETHEUS_PORT_BASE: String(base),
    MEMWATCHDOG_PROMETHEUS_HOST: "127.0.0.1",
    MEMWATCHDOG_THRESHOLD: "384",
  };
  // The daemon was started from a shell that exported a port: the app's settings win,
  // as they do once PM2 has copied them into process.env.
  const daemon = { MEMWATCHDOG_PROMETHEUS_PORT: "1", MEMWATCHDOG_THRESHOLD: "1" };
  const workers = [0, 1].map((instance) => worker(pm2Env({ instance, appEnv }), daemon, "2500"));
  try {
    const apps = await Promise.all(workers.map((w, i) => w.waitFor((e) => e.event === "app", 15_000, `worker ${i}`)));
    for (const [i, app] of apps.entries()) {
      assert.equal(app.running, true, `worker ${i}: ${workers[i].stderr}`);
      assert.equal(app.port, base + i, `worker ${i}`);
      assert.deepEqual(app.options.prometheus, { port: base + i, host: "127.0.0.1", registry: null, processMetrics: true, serviceLabel: "service", labels: {} });
      assert.equal(app.options.threshold, 384);
      assert.equal(app.options.labels.service, "api", "service defaults to the PM2 app name");
    }
    // Both serve /metrics at the same time, each on its own port.
    for (const i of [0, 1]) {
      const res = await scrape(base + i);
      assert.equal(res.status, 200);
      assert.match(res.text, /^memwatchdog_info\{service="api",version="[^"]+"\} 1$/m);
    }
    for (const w of workers) {
      const { code } = await w.exited;
      assert.equal(code, 0, w.stderr);
      assert.match(w.stderr, /\[memwatchdog\] watching api \(/);
    }
  } finally {
    for (const w of workers) w.kill();
  }
});

test("PM2 cluster worker with increment_var: MEMWATCHDOG_PROMETHEUS_PORT and the rest from pm2_env's env", async () => {
  const port = await freeConsecutivePorts(1);
  // increment_var writes the worker's port into both the top level and `env`; the
  // service and the snapshot switch are only in the app's `env` object here.
  const json = JSON.parse(pm2Env({ instance: 1, top: { MEMWATCHDOG_PROMETHEUS_PORT: port, increment_var: "MEMWATCHDOG_PROMETHEUS_PORT" } }));
  json.env = { ...json.env, MEMWATCHDOG_PROMETHEUS_PORT: port, MEMWATCHDOG_SERVICE: "from-env-object", MEMWATCHDOG_SNAPSHOT_ENABLED: "false" };
  const w = worker(JSON.stringify(json), { MEMWATCHDOG_PROMETHEUS_HOST: "127.0.0.1", MEMWATCHDOG_PROMETHEUS_PORT: "1" });
  try {
    const app = await w.waitFor((e) => e.event === "app", 15_000, "app");
    assert.equal(app.running, true, w.stderr);
    assert.equal(app.port, port);
    assert.equal(app.options.labels.service, "from-env-object");
    assert.equal(app.options.snapshot, null);
    assert.equal((await w.exited).code, 0, w.stderr);
  } finally {
    w.kill();
  }
});

test("PM2 instance_var renames the instance number; MEMWATCHDOG_DISABLED in pm2_env is obeyed", async () => {
  const base = await freeConsecutivePorts(3);
  const renamed = pm2Env({
    instance: 0,
    appEnv: { MEMWATCHDOG_PROMETHEUS_PORT_BASE: String(base), MEMWATCHDOG_PROMETHEUS_HOST: "127.0.0.1" },
    top: { instance_var: "INSTANCE_ID", INSTANCE_ID: 2, NODE_APP_INSTANCE: undefined },
  });
  const r = await runToEnd(["-r", "@memwatchdog/core/register", WORKER], {
    env: { MEMWATCHDOG_PROMETHEUS_PORT: undefined, pm2_env: renamed },
  });
  assert.equal(r.code, 0, r.stderr);
  const app = r.events.find((e) => e.event === "app");
  assert.equal(app.running, true, r.stderr);
  assert.equal(app.port, base + 2);

  const off = pm2Env({ appEnv: { MEMWATCHDOG_DISABLED: "true" } });
  const r2 = await runToEnd(["-r", "@memwatchdog/core/register", WORKER], { env: { pm2_env: off } });
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.events.find((e) => e.event === "app").running, false);
  assert.doesNotMatch(r2.stderr, /\[memwatchdog\]/);
});

test("an unreadable pm2_env is reported and the process environment is used", async () => {
  const r = await runToEnd(["-r", "@memwatchdog/core/register", APP], {
    env: { pm2_env: "{not json", MEMWATCHDOG_SERVICE: "plain" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[memwatchdog\] cannot read PM2's pm2_env variable: .*; using the process environment as it is/);
  const app = r.events.find((e) => e.event === "app");
  assert.equal(app.running, true);
  assert.equal(app.options.labels.service, "plain");
});

test("MEMWATCHDOG_PROMETHEUS_PORT_BASE: instance 0 without PM2, the option wins, bad values name the variable", async () => {
  const code = `const { MemWatchdog } = require("@memwatchdog/core");
    const emit = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
    const tries = {
      noInstance: { env: { MEMWATCHDOG_PROMETHEUS_PORT_BASE: "9400" } },
      withInstance: { env: { MEMWATCHDOG_PROMETHEUS_PORT_BASE: "9400", NODE_APP_INSTANCE: "3", MEMWATCHDOG_PROMETHEUS_PORT: "9000" } },
      optionWins: { prometheus: { port: 9555 }, env: { MEMWATCHDOG_PROMETHEUS_PORT_BASE: "9400", NODE_APP_INSTANCE: "3" } },
      disabledWins: { env: { MEMWATCHDOG_PROMETHEUS_PORT_BASE: "9400", MEMWATCHDOG_PROMETHEUS_PORT: "false" } },
      pm2Service: { env: { pm_id: "4", name: "billing", npm_package_name: "other" } },
      badBase: { env: { MEMWATCHDOG_PROMETHEUS_PORT_BASE: "0" } },
      badInstance: { env: { MEMWATCHDOG_PROMETHEUS_PORT_BASE: "9400", NODE_APP_INSTANCE: "x" } },
      tooHigh: { env: { MEMWATCHDOG_PROMETHEUS_PORT_BASE: "65535", NODE_APP_INSTANCE: "1" } },
    };
    for (const [name, options] of Object.entries(tries)) {
      try {
        const r = require("@memwatchdog/core").resolveOptions(options);
        emit({ name, port: r.prometheus && r.prometheus.port, service: r.labels.service });
      } catch (e) {
        emit({ name, error: e.name, message: e.message });
      }
    }`;
  const r = await runToEnd(["-e", code]);
  assert.equal(r.code, 0, r.stderr);
  const by = Object.fromEntries(r.events.map((e) => [e.name, e]));
  assert.equal(by.noInstance.port, 9400);
  assert.equal(by.withInstance.port, 9403);
  assert.equal(by.optionWins.port, 9555);
  assert.equal(by.disabledWins.port, null);
  assert.equal(by.pm2Service.service, "billing");
  assert.equal(by.badBase.error, "MemWatchdogConfigError");
  assert.match(by.badBase.message, /^MEMWATCHDOG_PROMETHEUS_PORT_BASE must be a port number from 1 to 65535, got "0"/);
  assert.match(by.badInstance.message, /^NODE_APP_INSTANCE must be a whole number of 0 or more/);
  assert.match(by.tooHigh.message, /^MEMWATCHDOG_PROMETHEUS_PORT_BASE 65535 \+ NODE_APP_INSTANCE 1 = 65536 is not a port number/);
});
