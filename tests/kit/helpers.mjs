// Helpers for the observability-kit tests: real binaries (promtool, amtool, prometheus,
// pm2), real Node child processes, free loopback ports, and cleanup that leaves no
// process behind even when a test fails or the runner kills this file.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const KIT = dirname(fileURLToPath(import.meta.url));
export const REPO = join(KIT, "..", "..");
export const CORE = join(REPO, "packages", "core");
export const RULES = join(REPO, "deploy", "prometheus", "memwatchdog-rules.yml");
export const RULES_TEST = join(REPO, "deploy", "prometheus", "memwatchdog-rules.test.yml");
export const PROM_CONFIG = join(REPO, "deploy", "prometheus", "prometheus.yml");
export const AM_CONFIG = join(REPO, "deploy", "alertmanager", "alertmanager.yml");
export const DASHBOARD = join(REPO, "docs", "grafana", "memwatchdog-dashboard.json");

/** Absolute path of an executable on PATH (or the given absolute path), or null. */
export function which(name) {
  const candidates = name.includes("/")
    ? [name]
    : [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), "/usr/bin", "/usr/local/bin"].map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return null;
}

/** The path of a tool a test needs; missing, the test fails with what to install. */
export function needTool(name, installHint) {
  const path = which(name);
  if (path) return path;
  throw new Error(`${name} is not installed (${installHint}): this test runs the real tool`);
}

/** Fails with the build command when packages/core is not built. */
export function needCoreBuilt() {
  const dist = join(CORE, "dist", "cjs", "index.js");
  const nativeDir = join(CORE, "native");
  const addon = existsSync(nativeDir) && readdirSync(nativeDir).some((f) => f.endsWith(".node"));
  if (!existsSync(dist) || !addon) {
    throw new Error(
      `@memwatchdog/core is not built (${existsSync(dist) ? "no native addon" : "no dist/"}): run ` +
        "`cd packages/core && npm ci && npm run build` first",
    );
  }
}

/** Runs a command to completion; returns { code, stdout, stderr }. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 120_000, ...opts });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = "mw-kit-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort() {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address();
  srv.close();
  await once(srv, "close");
  return port;
}

/** `n` consecutive TCP ports on 127.0.0.1 that were free a moment ago; returns the first. */
export async function freeConsecutivePorts(n) {
  const canListen = async (port) => {
    const srv = createServer();
    try {
      srv.listen(port, "127.0.0.1");
      await once(srv, "listening");
      return true;
    } catch {
      return false;
    } finally {
      if (srv.listening) {
        srv.close();
        await once(srv, "close");
      }
    }
  };
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + n > 65535) continue;
    let ok = true;
    for (let i = 1; i < n && ok; i++) ok = await canListen(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws). */
export async function waitFor(what, timeoutMs, fn, everyMs = 500) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await sleep(everyMs);
  }
}

// ---- Processes -------------------------------------------------------------------

const children = new Set();
const cleanups = [];

function killAll() {
  for (const c of children) {
    try {
      if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
  while (cleanups.length) {
    try {
      cleanups.pop()();
    } catch {
      // best effort
    }
  }
}
// Last line of defence: the runner may kill this file's process on a timeout.
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Registers a synchronous cleanup that also runs if this process is killed. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

/** Kills every child started here and runs the cleanups (use in `after`). */
export function cleanupAll() {
  killAll();
}

/**
 * Spawns a long-running child. stdout JSON lines go to `events`; `output` keeps
 * stdout+stderr for error messages. `stop()` kills it (SIGTERM, then SIGKILL).
 */
export function startProcess(cmd, args, { env = process.env, cwd = REPO } = {}) {
  const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const proc = { child, events: [], output: "" };
  let buf = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    proc.output += chunk;
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        proc.events.push(JSON.parse(line));
      } catch {
        // not a JSON line
      }
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    proc.output += chunk;
    if (proc.output.length > 200_000) proc.output = proc.output.slice(-100_000);
  });
  proc.exited = once(child, "exit").then(([code, signal]) => {
    children.delete(child);
    return { code, signal };
  });
  proc.running = () => child.exitCode === null && child.signalCode === null;
  proc.waitEvent = (what, timeoutMs, pred) =>
    waitFor(what, timeoutMs, () => {
      const ev = proc.events.find(pred);
      if (ev) return ev;
      if (!proc.running()) throw new Error(`process exited (${child.exitCode ?? child.signalCode}); output:\n${proc.output}`);
      return null;
    }, 100).catch((err) => {
      throw new Error(`${err.message}\noutput:\n${proc.output.slice(-4000)}`);
    });
  proc.stop = async () => {
    if (!proc.running()) return proc.exited;
    child.kill("SIGTERM");
    const timer = setTimeout(() => proc.running() && child.kill("SIGKILL"), 5000);
    const r = await proc.exited;
    clearTimeout(timer);
    return r;
  };
  return proc;
}

/** The environment of a child Node process: ours without MEMWATCHDOG_* and NODE_OPTIONS, plus `env`. */
export function childEnv(env = {}) {
  const base = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("MEMWATCHDOG_") && k !== "NODE_OPTIONS" && !k.startsWith("NODE_TEST")) base[k] = v;
  }
  return { ...base, ...env };
}

// ---- Prometheus ------------------------------------------------------------------

/**
 * Starts a real Prometheus on a free loopback port with a temporary TSDB, scraping
 * `targets` (host:port strings) every second as job `memwatchdog`, plus `scrapeConfigs` (more
 * `scrape_configs` entries, as YAML lines), and loading `ruleFiles`. Resolves when it is ready.
 */
export async function startPrometheus(binary, { targets, ruleFiles = [], interval = "1s", scrapeConfigs = [] }) {
  const dir = tempDir("mw-kit-prom-");
  const port = await freePort();
  const config = [
    "global:",
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    "rule_files:",
    ...(ruleFiles.length ? ruleFiles.map((f) => `  - ${JSON.stringify(f)}`) : ["  []"]),
    "scrape_configs:",
    "  - job_name: memwatchdog",
    `    scrape_interval: ${interval}`,
    `    scrape_timeout: ${interval}`,
    "    static_configs:",
    `      - targets: ${JSON.stringify(targets)}`,
    ...scrapeConfigs,
    "",
  ].join("\n");
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, config);
  const proc = startProcess(binary, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--log.level=warn",
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor("Prometheus to be ready", 30_000, async () => {
    if (!proc.running()) throw new Error(`prometheus exited:\n${proc.output}`);
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  }, 200).catch((err) => {
    throw new Error(`${err.message}\nprometheus output:\n${proc.output}`);
  });
  const api = async (path, params = {}) => {
    const qs = new URLSearchParams(params).toString();
    const res = await fetch(`${url}${path}${qs ? `?${qs}` : ""}`, { signal: AbortSignal.timeout(10_000) });
    const body = await res.json();
    return { httpStatus: res.status, ...body };
  };
  return {
    url,
    proc,
    api,
    /** Instant query; returns the API's JSON ({ status, data: { resultType, result } } or { status, error }). */
    query: (expr, time) => api("/api/v1/query", time ? { query: expr, time: String(time) } : { query: expr }),
    queryRange: (expr, start, end, step) =>
      api("/api/v1/query_range", { query: expr, start: String(start), end: String(end), step: String(step) }),
    stop: () => proc.stop(),
  };
}

// ---- Dashboard -------------------------------------------------------------------

/** Every panel (rows' nested panels included) of a Grafana dashboard. */
export function allPanels(dashboard) {
  const out = [];
  const walk = (panels) => {
    for (const p of panels ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/**
 * Replaces Grafana's variables in a PromQL expression: dashboard variables from `vars`
 * ($name, ${name}, ${name:format} and [[name]] spellings) and Grafana's built-in
 * intervals. Throws on any variable left over.
 */
export function substitute(expr, vars, builtins = { __rate_interval: "20s", __interval: "5s", __range: "2m", __range_s: "120", __interval_ms: "5000" }) {
  const all = { ...builtins, ...vars };
  const out = expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (m, a, b, c) => {
    const name = a ?? b ?? c;
    if (!(name in all)) throw new Error(`unknown variable ${m} in ${expr}`);
    return all[name];
  });
  return out;
}

/** A binary installed from tests/kit/package.json (npm ci in tests/kit), or null. */
export function kitBin(name) {
  const p = join(KIT, "node_modules", ".bin", name);
  return existsSync(p) ? p : null;
}

/** Runs a command synchronously, ignoring failures (for cleanup paths). */
export function tryExec(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000, ...opts });
  } catch (err) {
    return `${err.stdout ?? ""}${err.stderr ?? ""}`;
  }
}
