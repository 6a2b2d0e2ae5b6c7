// PM2 ecosystem template: your service, unchanged, under @memwatchdog/core.
//
//   npm install @memwatchdog/core        # in the service's directory
//   pm2 start ecosystem.config.cjs
//   curl http://localhost:9469/metrics
//
// Copy this file next to your service and set `name` and `script`. The watchdog is
// preloaded with Node's `-r` and configured only by the MEMWATCHDOG_* variables below
// (the full list: packages/core/README.md). If @memwatchdog/core is installed somewhere
// else, point NODE_PATH at the node_modules directory that holds it
// (`env: { NODE_PATH: "/opt/shared/node_modules" }`), or give `-r` the absolute path of
// its dist/cjs/register.js. A runnable copy of this set-up, including PM2 cluster mode
// (same `-r`; give each worker its port with MEMWATCHDOG_PROMETHEUS_PORT_BASE or
// increment_var), is in examples/pm2/.
module.exports = {
  apps: [
    {
      name: "my-service",
      script: "./server.js",
      exec_mode: "fork",
      node_args: "-r @memwatchdog/core/register",
      env: {
        NODE_ENV: "production",
        // Labels of every metric and alert.
        MEMWATCHDOG_SERVICE: "my-service",
        // /metrics for Prometheus (one port per process; "false" turns it off).
        MEMWATCHDOG_PROMETHEUS_PORT: "9469",
        MEMWATCHDOG_PROMETHEUS_HOST: "0.0.0.0",
        // Heap snapshots on a leak (mode 0600, after memory/disk safety checks).
        MEMWATCHDOG_SNAPSHOT_DIR: "./heapsnapshots",
        MEMWATCHDOG_SNAPSHOT_MAX_FILES: "6",
        // The watchdog's own alerts, straight to Alertmanager (API v2); remove to rely on
        // the Prometheus rules (deploy/prometheus/memwatchdog-rules.yml) alone.
        MEMWATCHDOG_ALERT_URL: "http://alertmanager:9093",
        // Optional: a fixed leak threshold in bytes/ms instead of the adaptive one.
        // MEMWATCHDOG_THRESHOLD: "256",
        // MEMWATCHDOG_DISABLED: "1",   // keeps the preload from starting the watchdog
      },
    },
  ],
};
