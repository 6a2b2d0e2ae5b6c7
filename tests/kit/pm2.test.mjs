// Zero-code under PM2: real pm2 (installed by `npm ci` in tests/kit) starts
// examples/pm2/ecosystem.config.cjs with its own PM2_HOME. The unchanged app.cjs must
// serve its HTTP requests and, through `-r` and MEMWATCHDOG_* variables alone, the
// watchdog's /metrics: on one port in fork mode, and on one port per worker in cluster
// mode. `pm2 kill` (also run on failure and on exit) leaves no process behind.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import {
  CI,
  KIT,
  REPO,
  childEnv,
  cleanupAll,
  freeConsecutivePorts,
  needCoreBuilt,
  onCleanup,
  run,
  sleep,
  tempDir,
  tryExec,
  waitFor,
} from "./helpers.mjs";

const EXAMPLE = join(REPO, "examples", "pm2");
const PM2_JS = join(KIT, "node_modules", "pm2", "bin", "pm2");
const HAVE_PM2 = existsSync(PM2_JS);
const SKIP = !HAVE_PM2 && !CI ? "pm2 is not installed: run `npm ci` in tests/kit; skipped (it would fail under CI=true)" : false;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

async function get(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, text: await res.text() };
}

describe("PM2 ecosystem example runs the unchanged app under the watchdog", { skip: SKIP, timeout: 180_000 }, () => {
  let env;
  let appPort;
  let metricsPort;
  let pm2Home;
  const pids = new Set();

  const pm2 = (...args) => run(process.execPath, [PM2_JS, ...args], { env, cwd: EXAMPLE, timeout: 60_000 });
  const jlist = () => {
    const r = pm2("jlist");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const list = JSON.parse(r.stdout.slice(r.stdout.indexOf("[")));
    for (const p of list) if (p.pid) pids.add(p.pid);
    return list;
  };
  const daemonPid = () => {
    const f = join(pm2Home, "pm2.pid");
    return existsSync(f) ? Number(readFileSync(f, "utf8").trim()) : null;
  };
  /** Kills the daemon and every app process we saw, whatever state they are in. */
  const killEverything = () => {
    // `pm2 kill` with no daemon would start one first: only ask a running daemon.
    const god = pm2Home && daemonPid();
    if (env && god && alive(god)) tryExec(process.execPath, [PM2_JS, "kill"], { env, cwd: EXAMPLE });
    for (const pid of [...pids, god].filter(Boolean)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  };

  before(async () => {
    if (!HAVE_PM2) throw new Error("pm2 is not installed (run `npm ci` in tests/kit); CI=true, so this is a failure");
    needCoreBuilt();
    pm2Home = tempDir("mw-kit-pm2-");
    appPort = await freeConsecutivePorts(2);
    metricsPort = await freeConsecutivePorts(3);
    env = childEnv({
      PM2_HOME: pm2Home,
      PORT: String(appPort),
      MEMWATCHDOG_PROMETHEUS_PORT: String(metricsPort),
      MEMWATCHDOG_PROMETHEUS_HOST: "127.0.0.1",
      MEMWATCHDOG_SNAPSHOT_DIR: join(pm2Home, "heapsnapshots"),
    });
    // Registered before the daemon exists: runs even if this file's process is killed.
    onCleanup(killEverything);
  });

  after(() => {
    killEverything();
    cleanupAll();
  });

  test("app.cjs knows nothing about MemWatchdog", () => {
    const app = readFileSync(join(EXAMPLE, "app.cjs"), "utf8").replace(/^\s*\/\/.*$/gm, "");
    assert.doesNotMatch(app, /memwatchdog|require\(["'][^"']*core/i);
  });

  test("pm2 start: fork and cluster apps online, HTTP answered, /metrics served per process", async () => {
    const r = pm2("start", join(EXAMPLE, "ecosystem.config.cjs"));
    assert.equal(r.code, 0, r.stdout + r.stderr);

    const procs = await waitFor("3 PM2 processes online", 30_000, () => {
      const list = jlist();
      return list.length === 3 && list.every((p) => p.pm2_env.status === "online") ? list : null;
    });
    assert.deepEqual(procs.map((p) => `${p.name}:${p.pm2_env.exec_mode}`).sort(), [
      "hello-cluster:cluster_mode",
      "hello-cluster:cluster_mode",
      "hello:fork_mode",
    ]);

    // The app itself works, in both modes.
    const hello = JSON.parse((await waitFor("the fork app's HTTP", 20_000, () => get(`http://127.0.0.1:${appPort}/ping`).then((x) => x.status === 200 && x))).text);
    assert.equal(hello.hello, "world");
    const fromCluster = JSON.parse((await waitFor("the cluster app's HTTP", 20_000, () => get(`http://127.0.0.1:${appPort + 1}/`).then((x) => x.status === 200 && x))).text);
    assert.equal(fromCluster.hello, "world");

    // The watchdog was injected: fork app on the configured port, each cluster worker
    // on its own (increment_var), with real GC counts and the configured service label.
    const expected = [
      [metricsPort, "hello"],
      [metricsPort + 1, "hello-cluster"],
      [metricsPort + 2, "hello-cluster"],
    ];
    for (const [port, service] of expected) {
      const m = await waitFor(`/metrics on ${port}`, 30_000, async () => {
        const x = await get(`http://127.0.0.1:${port}/metrics`);
        return x.status === 200 && /memwatchdog_gc_total\{[^}]*kind="minor"\} [1-9]/.test(x.text) ? x.text : null;
      });
      assert.match(m, new RegExp(`^memwatchdog_info\\{service="${service}",version="[^"]+"\\} 1$`, "m"), `port ${port}`);
      for (const name of ["memwatchdog_heap_used_bytes", "memwatchdog_rss_bytes", "memwatchdog_detector_state", "memwatchdog_heap_growth_bytes_per_second"]) {
        assert.match(m, new RegExp(`^# TYPE ${name} `, "m"), `port ${port}: ${name}`);
      }
    }

    // The settings came from the ecosystem file's env, per process.
    for (const p of jlist()) {
      assert.ok(Array.isArray(p.pm2_env.node_args) && p.pm2_env.node_args[0] === "-r", JSON.stringify(p.pm2_env.node_args));
    }
    const clusterPorts = jlist()
      .filter((p) => p.name === "hello-cluster")
      .map((p) => Number(p.pm2_env.MEMWATCHDOG_PROMETHEUS_PORT))
      .sort();
    assert.deepEqual(clusterPorts, [metricsPort + 1, metricsPort + 2]);
  });

  test("pm2 kill stops the daemon and every app process", async () => {
    const god = daemonPid();
    assert.ok(god && alive(god), "the PM2 daemon runs");
    const appPids = jlist().map((p) => p.pid);
    assert.equal(appPids.length, 3);
    const r = pm2("kill");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    await waitFor("PM2 and its apps to exit", 15_000, () => ![god, ...appPids].some(alive));
    await sleep(200);
    for (const port of [metricsPort, metricsPort + 1, metricsPort + 2, appPort, appPort + 1]) {
      await assert.rejects(get(`http://127.0.0.1:${port}/`), `port ${port} still answers`);
    }
  });
});
