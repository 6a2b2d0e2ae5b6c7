// PM2 ecosystem file: runs the unchanged app.cjs under @memwatchdog/core, zero code.
//
//   pm2 start ecosystem.config.cjs          # then: curl http://localhost:9469/metrics
//
// The watchdog is preloaded with Node's `-r` (`node_args`) and configured only by
// MEMWATCHDOG_* environment variables (all of them: packages/core/README.md).
//
// In your own project, after `npm install @memwatchdog/core`, write simply
//
//   node_args: "-r @memwatchdog/core/register",
//
// (Node resolves it from the app's node_modules). This file also runs from a clone of
// the MemWatchdog repository, where the package is not installed but built in
// packages/core (`cd packages/core && npm ci && npm run build`): `register` below
// falls back to that build. The other way to do the same is NODE_PATH, e.g.
// `env: { NODE_PATH: "/path/to/dir/containing/@memwatchdog" }` with the plain
// `-r @memwatchdog/core/register`.
//
// Settings read from the environment of `pm2 start` (defaults in brackets) so one file
// serves every host: PORT [3000], MEMWATCHDOG_PROMETHEUS_PORT [9469],
// MEMWATCHDOG_PROMETHEUS_HOST [0.0.0.0], MEMWATCHDOG_ALERT_URL [none: no alerts],
// MEMWATCHDOG_SNAPSHOT_DIR [./heapsnapshots next to this file].
"use strict";
const path = require("node:path");

function register() {
  try {
    return require.resolve("@memwatchdog/core/register", { paths: [__dirname] });
  } catch {
    return path.join(__dirname, "..", "..", "packages", "core", "dist", "cjs", "register.js");
  }
}

const env = process.env;
const metricsPort = Number(env.MEMWATCHDOG_PROMETHEUS_PORT || 9469);
const watchdog = {
  MEMWATCHDOG_PROMETHEUS_HOST: env.MEMWATCHDOG_PROMETHEUS_HOST || "0.0.0.0",
  // Heap snapshots (mode 0600) on a leak, after safety checks; keep the directory private.
  MEMWATCHDOG_SNAPSHOT_DIR: env.MEMWATCHDOG_SNAPSHOT_DIR || path.join(__dirname, "heapsnapshots"),
  MEMWATCHDOG_SNAPSHOT_MAX_FILES: "6",
  // Alertmanager base URL (API v2); unset: the watchdog sends no alerts itself.
  ...(env.MEMWATCHDOG_ALERT_URL ? { MEMWATCHDOG_ALERT_URL: env.MEMWATCHDOG_ALERT_URL } : {}),
};

module.exports = {
  apps: [
    {
      // One process: /metrics on MEMWATCHDOG_PROMETHEUS_PORT.
      name: "hello",
      script: path.join(__dirname, "app.cjs"),
      cwd: __dirname,
      exec_mode: "fork",
      instances: 1,
      node_args: ["-r", register()],
      env: {
        PORT: String(env.PORT || 3000),
        MEMWATCHDOG_SERVICE: "hello",
        MEMWATCHDOG_PROMETHEUS_PORT: String(metricsPort),
        ...watchdog,
      },
    },
    {
      // Cluster mode: every worker is its own process with its own watchdog, so each needs
      // its own metrics port: `increment_var` gives the workers consecutive ports (9470,
      // 9471 by default here); list them all as Prometheus targets. The workers share
      // PORT + 1. PM2 applies a cluster worker's env only after the preloads ran; the
      // register entry reads the MEMWATCHDOG_* settings out of PM2's pm2_env itself.
      name: "hello-cluster",
      script: path.join(__dirname, "app.cjs"),
      cwd: __dirname,
      exec_mode: "cluster",
      instances: 2,
      increment_var: "MEMWATCHDOG_PROMETHEUS_PORT",
      node_args: ["-r", register()],
      env: {
        PORT: String(Number(env.PORT || 3000) + 1),
        MEMWATCHDOG_SERVICE: "hello-cluster",
        MEMWATCHDOG_PROMETHEUS_PORT: String(metricsPort + 1),
        ...watchdog,
      },
    },
  ],
};
