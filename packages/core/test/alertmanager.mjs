// A real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, for tests.
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, tempDir, waitReady } from "./helpers.mjs";

export const ALERTMANAGER = "/usr/bin/prometheus-alertmanager";

/**
 * Starts Alertmanager (on `port`, or a free one) with `config` (default: one route to a
 * receiver that drops everything); throws with what to install when it is missing
 * (locally as in CI).
 */
export async function startAlertmanager({ port: wanted, config: text } = {}) {
  if (!existsSync(ALERTMANAGER)) {
    throw new Error(`${ALERTMANAGER} is missing: install it with apt-get install -y prometheus-alertmanager`);
  }
  const dir = tempDir("mw-am-");
  const config = join(dir, "alertmanager.yml");
  writeFileSync(config, text ?? 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n');
  const port = wanted ?? (await freePort());
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
  try {
    await waitReady("Alertmanager", url, proc, () => log, 20_000, 1000);
  } catch (err) {
    proc.kill("SIGKILL");
    throw err;
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
