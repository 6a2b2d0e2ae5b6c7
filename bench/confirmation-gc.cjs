// What a confirmation GC costs: the pause of `HeapProfiler.collectGarbage` (run through an
// in-process inspector session, as the watchdog does) on heaps of small objects of three sizes.
//
//   node bench/confirmation-gc.cjs
//
// Prints, per heap size, the median and largest pause of the major GCs it causes (V8's
// "collect all available garbage": a pair of mark-compacts) and the time from the request to
// its answer. Figures go to docs/detection.md ("Confirmation GCs").
"use strict";
const inspector = require("node:inspector");
const { PerformanceObserver } = require("node:perf_hooks");

let pauses = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === 4) pauses.push(e.duration);
}).observe({ entryTypes: ["gc"] });

function collect() {
  return new Promise((resolve) => {
    const session = new inspector.Session();
    session.connect();
    const t0 = process.hrtime.bigint();
    session.post("HeapProfiler.collectGarbage", () => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      setImmediate(() => session.disconnect()); // not inside the callback: see watchdog.ts
      resolve(ms);
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const keep = [];
const alive = setInterval(() => {}, 1000); // an answer does not keep the process alive
(async () => {
  for (const objects of [4e5, 2e6, 5e6]) {
    while (keep.length < objects) keep.push({ id: keep.length, name: `x${keep.length}`, tags: [1, 2, 3] });
    const heapMb = process.memoryUsage().heapUsed / 1e6;
    const answers = [];
    pauses = [];
    for (let i = 0; i < 5; i++) {
      answers.push(await collect());
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(
      `${heapMb.toFixed(0)} MB heap (${objects / 1e6} M objects): ${pauses.length} majors, pause median ${median(pauses).toFixed(1)} ms ` +
        `(max ${Math.max(...pauses).toFixed(1)}), request to answer median ${median(answers).toFixed(1)} ms`,
    );
  }
  clearInterval(alive);
})();
