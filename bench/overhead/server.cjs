// The service under load for the overhead benchmark: a small JSON API of the usual
// kind (service.cjs: a bounded cache lookup, ~40 orders built, JSON.stringify), so each
// request allocates ~25 kB and a busy process sees tens of GC events a second, as real
// services do.
//
//   VARIANT=none|memwatchdog|prom-client PORT=0 node server.cjs
//
//   none         the service alone
//   memwatchdog  + @memwatchdog/core started in code (adaptive detection, /metrics from
//                its Rust thread on METRICS_PORT, no alerts, no snapshots)
//   prom-client  + prom-client's collectDefaultMetrics() and a /metrics route on the
//                service's own port (what many services already run)
//
// Prints one JSON line when listening: {"event":"listening","port":..,"metricsPort":..}.
// MW_BENCH_CORE: where @memwatchdog/core is (default: packages/core of this repository).
"use strict";
const http = require("node:http");
const path = require("node:path");

const variant = process.env.VARIANT || "none";
let metricsPort = null;
let promRegister = null;

if (variant === "memwatchdog") {
  const { MemWatchdog } = require(process.env.MW_BENCH_CORE || path.join(__dirname, "..", "..", "packages", "core"));
  MemWatchdog.start({
    prometheus: { port: Number(process.env.METRICS_PORT || 0), host: "127.0.0.1" },
    labels: { service: "bench-overhead" },
    env: false,
  });
  metricsPort = MemWatchdog.metricsPort;
} else if (variant === "prom-client") {
  const client = require("prom-client");
  client.collectDefaultMetrics();
  promRegister = client.register;
} else if (variant !== "none") {
  throw new Error(`VARIANT must be none, memwatchdog or prom-client, got ${variant}`);
}

const { respond } = require("./service.cjs");

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/api/orders") {
    const body = respond(Number(url.searchParams.get("customer")));
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  } else if (url.pathname === "/metrics" && promRegister) {
    promRegister.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": promRegister.contentType });
        res.end(text);
      },
      (err) => {
        res.writeHead(500);
        res.end(String(err));
      },
    );
  } else if (url.pathname === "/health") {
    res.end("ok");
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ event: "listening", variant, pid: process.pid, port: server.address().port, metricsPort })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
