/**
 * Zero-code start: `node -r @memwatchdog/core/register app.js` or
 * `node --import @memwatchdog/core/register app.mjs`, configured by `MEMWATCHDOG_*`
 * environment variables. `MEMWATCHDOG_DISABLED=1` turns it off. A bad setting is
 * reported on stderr and the application runs unwatched rather than not at all.
 *
 * PM2 cluster mode: a worker gets its app's `env` (and its instance number) from PM2 only
 * after the preloads ran, packed meanwhile into the JSON variable `pm2_env`; the settings
 * are read from there (see `pm2Environment`), so `-r @memwatchdog/core/register` works
 * in cluster mode as it does in fork mode. `MEMWATCHDOG_PROMETHEUS_PORT_BASE` gives each
 * worker its own port: base + `NODE_APP_INSTANCE`.
 */
import { MemWatchdog } from "./index.js";
import { pm2Environment, registerDisabled } from "./options.js";

function register(): void {
  let env: Record<string, string | undefined> = process.env;
  try {
    env = pm2Environment(process.env);
  } catch (err) {
    process.stderr.write(`[memwatchdog] ${(err as Error).message}; using the process environment as it is\n`);
  }
  try {
    if (registerDisabled(env)) return;
    MemWatchdog.start(env === process.env ? {} : { env });
  } catch (err) {
    process.stderr.write(`[memwatchdog] not started: ${(err as Error).message}\n`);
  }
}

register();
