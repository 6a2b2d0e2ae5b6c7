// Real services for the mw agent tests: moto's S3 server, `mw agent` itself (its JSON log
// lines collected), and a webhook sink that records what the agent forwards.
import { spawn, spawnSync } from "node:child_process";
import http from "node:http";
import { join } from "node:path";
import { freePort, onLines } from "../../packages/core/test/helpers.mjs";

export const REPO = join(import.meta.dirname, "..", "..");
export const MW = join(REPO, "target", "release", "mw");
export const S3_ENV = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test-secret", AWS_REGION: "us-east-1" };

const running = new Set();
/** Kills every process started here (call from `after`). */
export function stopAll() {
  for (const p of running) p.kill("SIGKILL");
  running.clear();
}

/**
 * moto's S3 server (PyPI `moto[server]`, installed by .ci/run) on `port` (default: a free
 * one), with `bucket` created. Throws with the install command when moto is missing.
 */
export async function startS3({ port, bucket = "fleet" } = {}) {
  const which = spawnSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" });
  if (which.status !== 0) throw new Error("moto_server is missing: pip install 'moto[server]==5.2.1' (.ci/run does)");
  port ??= await freePort();
  const proc = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  running.add(proc);
  let log = "";
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (c) => (log += c));
  const url = `http://127.0.0.1:${port}`;
  await waitHttp("moto_server", `${url}/`, proc, () => log, 30_000);
  const made = await fetch(`${url}/${bucket}`, { method: "PUT" });
  if (!made.ok) throw new Error(`cannot create bucket ${bucket}: ${made.status}`);
  return {
    url,
    port,
    bucket,
    /** Every object in the bucket: [{ key, size }]. */
    async list(prefix = "") {
      const res = await fetch(`${url}/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
      const xml = await res.text();
      return [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map(([, c]) => ({
        key: c.match(/<Key>(.*?)<\/Key>/)[1],
        size: Number(c.match(/<Size>(\d+)<\/Size>/)[1]),
      }));
    },
    /** An object's bytes, read with a signed request (objects the agent wrote are private). */
    async get(key) {
      const script = [
        "import boto3, sys",
        `s3 = boto3.client("s3", endpoint_url=${JSON.stringify(url)}, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test-secret")`,
        `sys.stdout.buffer.write(s3.get_object(Bucket=${JSON.stringify(bucket)}, Key=sys.argv[1])["Body"].read())`,
      ].join("\n");
      const r = spawnSync("python3", ["-c", script, key], { maxBuffer: 1 << 30 });
      if (r.status !== 0) throw new Error(`GET ${key}: ${r.stderr}`);
      return r.stdout;
    },
    stop() {
      proc.kill("SIGKILL");
      running.delete(proc);
    },
  };
}

/** Runs `mw agent ...args` with `env`; its JSON log lines are collected in `lines`. */
export async function startAgent(args, env = {}) {
  const port = await freePort();
  const proc = spawn(MW, ["agent", "--listen", `127.0.0.1:${port}`, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  running.add(proc);
  const agent = { proc, port, url: `http://127.0.0.1:${port}`, lines: [], stderr: "" };
  proc.stderr.on("data", (chunk) => (agent.stderr += chunk));
  onLines(proc.stderr, (line) => {
    try {
      agent.lines.push(JSON.parse(line));
    } catch {
      agent.lines.push({ msg: line, unparsed: true });
    }
  });
  agent.exited = new Promise((resolve) => proc.on("close", (code, signal) => resolve({ code, signal })));
  /** The first log line matching `pred`, waiting up to `timeoutMs`. */
  agent.waitLine = async (pred, timeoutMs, what) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = agent.lines.find(pred);
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent log:\n${agent.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  agent.metrics = async () => (await fetch(`${agent.url}/metrics`)).text();
  agent.stop = async () => {
    proc.kill("SIGTERM");
    running.delete(proc);
    return agent.exited;
  };
  await waitHttp("mw agent", `${agent.url}/healthz`, proc, () => agent.stderr, 20_000);
  return agent;
}

/** Waits until `url` answers 2xx; throws with `log()` when `proc` exits first or time runs out. */
async function waitHttp(name, url, proc, log, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ok) return;
    if (proc.exitCode !== null) throw new Error(`${name} exited before it answered:\n${log()}`);
    if (Date.now() > deadline) throw new Error(`${name} did not answer within ${timeoutMs / 1000} s:\n${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** An HTTP server recording the JSON bodies POSTed to it (the "Slack" the agent forwards to). */
export async function startSink() {
  const bodies = [];
  const server = http.createServer((req, res) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (data += c));
    req.on("end", () => {
      try {
        bodies.push(JSON.parse(data));
      } catch {
        bodies.push({ unparsed: data });
      }
      res.end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    bodies,
    stop: () => server.close(),
  };
}
