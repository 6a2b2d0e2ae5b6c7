// A real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, for tests.
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { once } from "node:events";
import { join } from "node:path";
import { tempDir } from "./helpers.mjs";

export const ALERTMANAGER = "/usr/bin/prometheus-alertmanager";

export async function freePort() {
  const s = createServer();
  s.listen(0, "127.0.0.1");
  await once(s, "listening");
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts Alertmanager; returns null when it is not installed. */
export async function startAlertmanager() {
  if (!existsSync(ALERTMANAGER)) {
    if (process.env.CI === "true") {
      throw new Error(`${ALERTMANAGER} is missing: install it with apt-get install -y prometheus-alertmanager`);
    }
    return null;
  }
  const dir = tempDir("mw-am-");
  const config = join(dir, "alertmanager.yml");
  writeFileSync(config, 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n');
  const port = await freePort();
  const proc = spawn(
    ALERTMANAGER,
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (c) => (log += c));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill("SIGKILL");
      throw new Error(`Alertmanager did not become ready:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async alerts() {
      const res = await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(2000) });
      return res.json();
    },
    stop() {
      proc.kill("SIGTERM");
    },
  };
}
