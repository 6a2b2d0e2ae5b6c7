/**
 * Zero-code start: `node -r @memwatchdog/core/register app.js` or
 * `node --import @memwatchdog/core/register app.mjs`, configured by `MEMWATCHDOG_*`
 * environment variables. `MEMWATCHDOG_DISABLED=1` turns it off. A bad setting is
 * reported on stderr and the application runs unwatched rather than not at all.
 *
 * Only the intended process is watched (`process-role.ts`): with `NODE_OPTIONS="-r ..."`
 * every Node process of the tree loads this file, but package managers and tools (npm, npx,
 * yarn, pnpm, corepack, nodemon, PM2's CLI and daemon...) never start the watchdog, and by
 * default neither do Node children of a watched process (`MEMWATCHDOG_PROCESSES`). Why a
 * process was skipped or watched goes to Node's debug log: `NODE_DEBUG=memwatchdog`.
 *
 * PM2 cluster mode: a worker gets its app's `env` (and its instance number) from PM2 only
 * after the preloads ran, packed meanwhile into the JSON variable `pm2_env`; the settings
 * are read from there (see `pm2Environment`), so `-r @memwatchdog/core/register` works
 * in cluster mode as it does in fork mode. `MEMWATCHDOG_PROMETHEUS_PORT_BASE` gives each
 * worker its own port: base + `NODE_APP_INSTANCE`.
 */
import { realpathSync } from "node:fs";
import { debuglog } from "node:util";
import { isMainThread } from "node:worker_threads";
import { MemWatchdog } from "./index.js";
import { pm2Environment, registerDisabled } from "./options.js";
import { processRole } from "./process-role.js";

const debug = debuglog("memwatchdog");

function realpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function register(): void {
  let env: Record<string, string | undefined> = process.env;
  try {
    env = pm2Environment(process.env);
  } catch (err) {
    process.stderr.write(`[memwatchdog] ${(err as Error).message}; using the process environment as it is\n`);
  }
  try {
    const role = processRole({ argv: process.argv, env, pid: process.pid, realpath, isMainThread });
    if (!role.watch) {
      debug(`skipped: ${role.reason}`);
      return;
    }
    if (registerDisabled(env)) {
      debug("skipped: MEMWATCHDOG_DISABLED");
      return;
    }
    debug(`watching: ${role.reason}`);
    MemWatchdog.start(env === process.env ? {} : { env });
  } catch (err) {
    process.stderr.write(`[memwatchdog] not started: ${(err as Error).message}\n`);
  }
}

register();
