// Preload for PM2 *cluster* mode: `node_args: ["-r", "/path/to/memwatchdog-cluster.cjs"]`.
//
// In cluster mode PM2 starts each worker with the app's settings packed into one JSON
// variable, `pm2_env`, and copies them into process.env only after the preloads have
// run. A plain `-r @memwatchdog/core/register` would therefore start with none of the
// MEMWATCHDOG_* variables (every worker on the default port 9469, the second one
// failing to bind). This file copies the MEMWATCHDOG_* settings out of `pm2_env`
// first (overriding what the PM2 daemon's own environment may hold, as PM2 itself does
// later), then loads the register entry. Fork mode does not need it.
"use strict";
const path = require("node:path");

const packed = process.env.pm2_env;
if (packed) {
  try {
    const settings = JSON.parse(packed);
    for (const [key, value] of Object.entries(settings)) {
      // As PM2 does after the preloads: the app's settings win over the daemon's env.
      if (key.startsWith("MEMWATCHDOG_") && value !== null && typeof value !== "object") {
        process.env[key] = String(value);
      }
    }
  } catch (err) {
    process.stderr.write(`[memwatchdog] cannot read PM2's pm2_env: ${err.message}\n`);
  }
}

let register;
try {
  register = require.resolve("@memwatchdog/core/register", { paths: [process.cwd(), __dirname] });
} catch {
  // A clone of the MemWatchdog repository: the package built in packages/core.
  register = path.join(__dirname, "..", "..", "packages", "core", "dist", "cjs", "register.js");
}
require(register);
