/**
 * Zero-code start: `node -r @memwatchdog/core/register app.js` or
 * `node --import @memwatchdog/core/register app.mjs`, configured by `MEMWATCHDOG_*`
 * environment variables. `MEMWATCHDOG_DISABLED=1` turns it off. A bad setting is
 * reported on stderr and the application runs unwatched rather than not at all.
 */
import { MemWatchdog } from "./index.js";

const disabled = process.env["MEMWATCHDOG_DISABLED"];
if (!disabled || ["0", "false", "no", "off"].includes(disabled.trim().toLowerCase())) {
  try {
    MemWatchdog.start();
  } catch (err) {
    process.stderr.write(`[memwatchdog] not started: ${(err as Error).message}\n`);
  }
}
