// A tiny HTTP service that knows nothing about MemWatchdog: ecosystem.config.cjs starts
// it under the watchdog with `-r @memwatchdog/core/register` and MEMWATCHDOG_* variables,
// without a line of it changing.
"use strict";
const http = require("node:http");

const port = Number(process.env.PORT || 3000);
const server = http.createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ hello: "world", pid: process.pid, path: req.url }));
});
server.listen(port, () => {
  console.log(`listening on :${port} (pid ${process.pid})`);
});
process.on("SIGINT", () => server.close(() => process.exit(0)));
