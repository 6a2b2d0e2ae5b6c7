// Zero-code under PM2: real pm2 (installed by `npm ci` in tests/kit) starts
// examples/pm2/ecosystem.config.cjs with its own PM2_HOME. The unchanged app.cjs must
// serve its HTTP requests and, through `-r` and MEMWATCHDOG_* variables alone, the
// watchdog's /metrics: on one port in fork mode, and on one port per worker in cluster
// mode. `pm2 kill` (also run on failure and on exit) leaves no process behind.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import {
  CORE,
  KIT,
  REPO,
  childEnv,
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
const TEMPLATE = join(REPO, "deploy", "pm2", "ecosystem.config.cjs");
const PM2_JS = join(KIT, "node_modules", "pm2", "bin", "pm2");
const HAVE_PM2 = existsSync(PM2_JS);
const NO_PM2 = "pm2 is not installed: run `npm ci` in tests/kit";

/** Whether `pid` runs (a zombie awaiting its reaper counts as gone). */
function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function get(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, text: await res.text() };
}

/**
 * A PM2 with its own PM2_HOME (a temp dir) and environment. `killEverything()` stops
 * the daemon (only if one runs: `pm2 kill` would start one) and SIGKILLs every process
 * it ever listed; it is also registered to run if this file's process is killed.
 */
function pm2Session(extraEnv, cwd) {
  const home = tempDir("mw-kit-pm2-");
  const env = childEnv({ PM2_HOME: home, ...extraEnv });
  const pids = new Set();
  const s = {
    home,
    env,
    pm2: (...args) => run(process.execPath, [PM2_JS, ...args], { env, cwd, timeout: 60_000 }),
    jlist() {
      const r = s.pm2("jlist");
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const list = JSON.parse(r.stdout.slice(r.stdout.indexOf("[")));
      for (const p of list) if (p.pid) pids.add(p.pid);
      return list;
    },
    daemonPid() {
      const f = join(home, "pm2.pid");
      return existsSync(f) ? Number(readFileSync(f, "utf8").trim()) : null;
    },
    /** Whether `pid` is a live process of this PM2 (its environment has our PM2_HOME). */
    ours(pid) {
      try {
        return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`PM2_HOME=${home}`);
      } catch {
        return false;
      }
    },
    killEverything() {
      const god = s.daemonPid();
      if (god && s.ours(god)) tryExec(process.execPath, [PM2_JS, "kill"], { env, cwd });
      // Whatever survived (a hung daemon, orphaned workers): SIGKILL, but only processes
      // that are still ours, never a recycled pid.
      for (const pid of [...pids, god].filter(Boolean)) {
        if (!s.ours(pid)) continue;
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    },
  };
  onCleanup(() => s.killEverything());
  return s;
}

describe("PM2 ecosystem example runs the unchanged app under the watchdog", { timeout: 180_000 }, () => {
  let appPort;
  let metricsPort;
  let session;
  const pm2 = (...args) => session.pm2(...args);
  const jlist = () => session.jlist();

  before(async () => {
    if (!HAVE_PM2) throw new Error(NO_PM2);
    needCoreBuilt();
    appPort = await freeConsecutivePorts(2);
    metricsPort = await freeConsecutivePorts(3);
    const snapshots = tempDir("mw-kit-snap-");
    session = pm2Session(
      {
        PORT: String(appPort),
        MEMWATCHDOG_PROMETHEUS_PORT: String(metricsPort),
        MEMWATCHDOG_PROMETHEUS_HOST: "127.0.0.1",
        MEMWATCHDOG_SNAPSHOT_DIR: snapshots,
      },
      EXAMPLE,
    );
  });

  after(() => {
    session?.killEverything();
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
    const god = session.daemonPid();
    assert.ok(god && session.ours(god), "the PM2 daemon runs");
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

describe("PM2 template deploy/pm2 with the package found through NODE_PATH", { timeout: 120_000 }, () => {
  let session;
  let dir;
  let metricsPort;
  let appPort;

  before(async () => {
    if (!HAVE_PM2) throw new Error(NO_PM2);
    needCoreBuilt();
    // What a user does: the template next to their (unchanged) server.js, the package
    // installed elsewhere and found through NODE_PATH (here a node_modules holding
    // @memwatchdog/core as a link to packages/core).
    dir = tempDir("mw-kit-pm2-app-");
    const shared = join(dir, "shared", "node_modules");
    mkdirSync(join(shared, "@memwatchdog"), { recursive: true });
    symlinkSync(CORE, join(shared, "@memwatchdog", "core"), "dir");
    const app = join(dir, "app");
    mkdirSync(app);
    copyFileSync(join(EXAMPLE, "app.cjs"), join(app, "server.js"));
    metricsPort = await freeConsecutivePorts(1);
    appPort = await freeConsecutivePorts(1);
    // The template as a user adapts it: a free port, loopback, no Alertmanager here.
    const template = readFileSync(TEMPLATE, "utf8");
    const adapted = template
      .replace('MEMWATCHDOG_PROMETHEUS_PORT: "9469"', `MEMWATCHDOG_PROMETHEUS_PORT: "${metricsPort}"`)
      .replace('MEMWATCHDOG_PROMETHEUS_HOST: "0.0.0.0"', 'MEMWATCHDOG_PROMETHEUS_HOST: "127.0.0.1"')
      .replace(/^\s*MEMWATCHDOG_ALERT_URL: .*$/m, "")
      .replace('NODE_ENV: "production",', `NODE_ENV: "production", PORT: "${appPort}",`);
    for (const needle of [String(metricsPort), "127.0.0.1", String(appPort)]) assert.ok(adapted.includes(needle), needle);
    assert.doesNotMatch(adapted, /MEMWATCHDOG_ALERT_URL:/);
    writeFileSync(join(app, "ecosystem.config.cjs"), adapted);
    session = pm2Session({ NODE_PATH: shared }, app);
  });

  after(() => {
    session?.killEverything();
  });

  test("the template's literal `-r @memwatchdog/core/register` starts the watchdog", async () => {
    const r = session.pm2("start", "ecosystem.config.cjs");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [proc] = await waitFor("my-service online", 30_000, () => {
      const list = session.jlist();
      return list.length === 1 && list[0].pm2_env.status === "online" ? list : null;
    });
    assert.equal(proc.name, "my-service");
    assert.equal(proc.pm2_env.node_args.join(" "), "-r @memwatchdog/core/register");
    const hello = await waitFor("server.js answering", 20_000, () => get(`http://127.0.0.1:${appPort}/`).then((x) => x.status === 200 && x));
    assert.equal(JSON.parse(hello.text).hello, "world");
    const m = await waitFor(`/metrics on ${metricsPort}`, 30_000, async () => {
      const x = await get(`http://127.0.0.1:${metricsPort}/metrics`);
      return x.status === 200 && /memwatchdog_gc_total\{[^}]*kind="minor"\} [1-9]/.test(x.text) ? x.text : null;
    });
    assert.match(m, /^memwatchdog_info\{service="my-service",version="[^"]+"\} 1$/m);
    // The snapshot directory of the template, relative to the app's directory, was prepared (0700).
    assert.equal(statSync(join(dir, "app", "heapsnapshots")).mode & 0o777, 0o700);
    const god = session.daemonPid();
    assert.equal(session.pm2("kill").code, 0);
    await waitFor("PM2 to exit", 15_000, () => !alive(god) && !alive(proc.pid));
  });
});
