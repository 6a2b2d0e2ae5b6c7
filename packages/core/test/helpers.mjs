// Test helpers: run real Node child processes and read their JSON-line reports.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PKG = dirname(dirname(fileURLToPath(import.meta.url)));
export const FIXTURES = join(PKG, "test", "fixtures");

export function tempDir(prefix = "mw-core-") {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The parent's environment without MEMWATCHDOG_* settings, plus test defaults and `env`. */
export function childEnv(env = {}) {
  const base = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("MEMWATCHDOG_") && !k.startsWith("NODE_OPTIONS")) base[k] = v;
  }
  return { ...base, MEMWATCHDOG_PROMETHEUS_PORT: "0", MEMWATCHDOG_PROMETHEUS_HOST: "127.0.0.1", ...env };
}

/** Calls `fn` with each complete line of the readable `stream`, decoded as UTF-8. */
export function onLines(stream, fn) {
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      fn(line);
    }
  });
}

/**
 * Spawns `node ...args` (the same Node binary that runs the tests). Collects stdout
 * JSON lines into `events` and stderr into `stderr`.
 */
export function runNode(args, opts = {}) {
  return runCommand(process.execPath, args, opts);
}

/** Spawns `command ...args` (npm, a tool) with {@link childEnv}; the rest as {@link runNode}. */
export function runCommand(command, args, { env = {}, cwd = PKG } = {}) {
  const child = spawn(command, args, { cwd, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  const proc = { child, events: [], stdout: "", stderr: "", waiters: [] };
  child.stdout.on("data", (chunk) => (proc.stdout += chunk));
  onLines(child.stdout, (line) => {
    let ev;
    try {
      ev = JSON.parse(line);
    } catch {
      return;
    }
    proc.events.push(ev);
    for (const w of [...proc.waiters]) w(ev);
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    proc.stderr += chunk;
  });
  proc.exited = once(child, "close").then(([code, signal]) => ({ code, signal }));
  /** Resolves with the first event matching `pred` (already seen or future). */
  proc.waitFor = (pred, timeoutMs, what = "event") =>
    new Promise((resolve, reject) => {
      const seen = proc.events.find(pred);
      if (seen) return resolve(seen);
      const timer = setTimeout(() => {
        proc.waiters = proc.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr:\n${proc.stderr}\nstdout:\n${proc.stdout}`));
      }, timeoutMs);
      const waiter = (ev) => {
        if (pred(ev)) {
          clearTimeout(timer);
          proc.waiters = proc.waiters.filter((w) => w !== waiter);
          resolve(ev);
        }
      };
      proc.waiters.push(waiter);
      proc.exited.then(() => {
        // Give buffered stdout a moment, then fail if still waiting.
        setTimeout(() => {
          if (proc.waiters.includes(waiter)) {
            clearTimeout(timer);
            proc.waiters = proc.waiters.filter((w) => w !== waiter);
            reject(new Error(`child exited while waiting for ${what}; stderr:\n${proc.stderr}\nstdout:\n${proc.stdout}`));
          }
        }, 200);
      });
    });
  /** Resolves when stderr matches `re` (stderr and stdout are separate pipes: order between them is not kept). */
  proc.waitForStderr = async (re, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(proc.stderr)) {
      if (Date.now() > deadline) throw new Error(`stderr did not match ${re} within ${timeoutMs} ms:\n${proc.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return proc.stderr;
  };
  proc.kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  return proc;
}

/** Runs `node ...args` to completion. */
export async function runToEnd(args, opts = {}, timeoutMs = 30_000) {
  const p = runNode(args, opts);
  const timer = setTimeout(p.kill, timeoutMs);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  return { ...p, code, signal };
}

export async function scrape(port, path = "/metrics") {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

/** A TCP port that is free on 127.0.0.1 right now. */
export async function freePort() {
  const s = createServer();
  s.listen(0, "127.0.0.1");
  await once(s, "listening");
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Waits until `GET {url}/-/ready` answers 2xx: Prometheus and Alertmanager answer 503 until
 * they are ready. Throws, with `log()` (the server's output), when the child process `proc`
 * exits first or `timeoutMs` passes. Each probe may take `probeMs`.
 */
export async function waitReady(name, url, proc, log, timeoutMs, probeMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(probeMs) }).then((r) => r.ok, () => false);
    if (ready) return;
    if (proc.exitCode !== null) throw new Error(`${name} exited before it was ready:\n${log()}`);
    if (Date.now() > deadline) throw new Error(`${name} not ready within ${timeoutMs / 1000} s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `count` consecutive TCP ports that are free on 127.0.0.1 right now; returns the first. */
export async function freeConsecutivePorts(count) {
  const listen = (port) =>
    new Promise((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(null));
      s.listen(port, "127.0.0.1", () => resolve(s));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await listen(0);
    const base = first.address().port;
    const servers = [first];
    let ok = base + count - 1 <= 65535;
    for (let i = 1; ok && i < count; i++) {
      const s = await listen(base + i);
      if (s) servers.push(s);
      else ok = false;
    }
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
