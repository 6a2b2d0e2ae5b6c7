// A healthy child under heavy allocation churn, with a cache that fills then stays flat,
// sampled as densely as the leaky one, gets no leak event in ~20 s.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";
import { join } from "node:path";
import { FIXTURES, runNode, scrape, tempDir } from "./helpers.mjs";

test("a healthy child with churn and a warm-up cache gets no leak event", async () => {
  const dir = join(tempDir(), "snaps");
  const p = runNode(["--expose-gc", join(FIXTURES, "service.cjs")], {
    env: {
      LEAK_BYTES_PER_SEC: "0",
      CACHE_BYTES: "40000000",
      FORCE_GC_MS: "1000",
      RUN_SECONDS: "20",
      STOP_AT_END: "0",
      LINGER_MS: "3000",
      MEMWATCHDOG_SERVICE: "healthy",
      MEMWATCHDOG_SNAPSHOT_DIR: dir,
    },
  });
  try {
    const started = await p.waitFor((e) => e.event === "started", 10_000, "start");
    const done = await p.waitFor((e) => e.event === "done", 60_000, "the end of the run");
    assert.ok(done.cached > 1000, "the cache was filled");
    const m = (await scrape(started.port)).text;
    assert.match(m, /^memwatchdog_gc_total\{service="healthy",kind="major"\} [1-9]\d+$/m, "sampled major GCs");
    assert.match(m, /^memwatchdog_leak_alert_total\{service="healthy"\} 0$/m);
    assert.doesNotMatch(m, /^memwatchdog_detector_state\{service="healthy",signal="\w+"\} 2$/m);
    assert.deepEqual(
      p.events.filter((e) => e.event === "leak"),
      [],
      "no leak event",
    );
    assert.ok(!readdirSync(dir).some((f) => f.endsWith("-leak.heapsnapshot")), "no leak snapshot");
    const { code } = await p.exited;
    assert.equal(code, 0, p.stderr);
  } finally {
    p.kill();
  }
});
