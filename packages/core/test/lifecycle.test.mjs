// start()/stop() behaviour, configuration errors, and that nothing keeps the process alive.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { once } from "node:events";
import { test } from "node:test";
import { join } from "node:path";
import { PKG, runNode, runToEnd, tempDir } from "./helpers.mjs";

const prelude = `const { MemWatchdog } = require(${JSON.stringify(PKG)});
const emit = (o) => process.stdout.write(JSON.stringify(o) + "\\n");`;

/**
 * Calls `MemWatchdog.start(OPTIONS)` for each options source text in one child process;
 * resolves to one event per call: `{ ok: true }` or the thrown error's `{ name, message }`.
 */
async function tryStarts(options) {
  const code = `${prelude}
    for (const options of [${options.join(",\n")}]) {
      try { MemWatchdog.start(options); emit({ ok: true }); MemWatchdog.stop(); } catch (e) { emit({ name: e.name, message: e.message }); }
    }`;
  const r = await runToEnd(["-e", code]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.events.length, options.length, r.stdout);
  return r.events;
}

test("start() twice is harmless; different options only warn", async () => {
  const code = `${prelude}
    const a = MemWatchdog.start({ native: { threshold: 300 } });
    const port = MemWatchdog.metricsPort;
    const b = MemWatchdog.start({ native: { threshold: 300 } });
    const c = MemWatchdog.start({ native: { threshold: 999 } });
    emit({ same: a === b && b === c && a === MemWatchdog, port, portAfter: MemWatchdog.metricsPort,
           threshold: MemWatchdog.options.threshold });
    MemWatchdog.stop();`;
  const r = await runToEnd(["-e", code]);
  assert.equal(r.code, 0, r.stderr);
  const [ev] = r.events;
  assert.equal(ev.same, true);
  assert.equal(ev.port, ev.portAfter);
  assert.equal(ev.threshold, 300);
  const warnings = r.stderr.split("\n").filter((l) => l.includes("called again with different options"));
  assert.equal(warnings.length, 1, r.stderr);
});

test("stop() frees the port and start() can take it again", async () => {
  const code = `${prelude}
    MemWatchdog.start();
    const port = MemWatchdog.metricsPort;
    MemWatchdog.stop();
    emit({ running: MemWatchdog.running });
    MemWatchdog.start({ prometheus: { port } });
    emit({ port, again: MemWatchdog.metricsPort });
    MemWatchdog.stop();`;
  const r = await runToEnd(["-e", code]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.events[0].running, false);
  assert.equal(r.events[1].again, r.events[1].port);
});

for (const stop of [true, false]) {
  test(`the process exits on its own when work ends (${stop ? "after stop()" : "without stop()"})`, async () => {
    const dir = tempDir();
    const code = `${prelude}
      MemWatchdog.start({
        alert: { url: "http://127.0.0.1:9" },
        snapshot: { dir: ${JSON.stringify(join(dir, "snaps"))} },
        trace: { path: ${JSON.stringify(join(dir, "trace.csv"))} },
      });
      let junk = [];
      const t = setInterval(() => { junk = []; for (let i = 0; i < 50000; i++) junk.push({ i }); }, 10);
      setTimeout(() => {
        clearInterval(t);
        ${stop ? "MemWatchdog.stop();" : ""}
        emit({ event: "done", at: Date.now() });
      }, 1000);`;
    const p = runNode(["-e", code]);
    const timer = setTimeout(p.kill, 15_000);
    await p.waitFor((e) => e.event === "done", 10_000, "done");
    const doneAt = Date.now();
    const { code: exitCode, signal } = await p.exited;
    clearTimeout(timer);
    const lingered = Date.now() - doneAt;
    assert.equal(signal, null, `killed: the child did not exit by itself; stderr:\n${p.stderr}`);
    assert.equal(exitCode, 0, p.stderr);
    assert.ok(lingered < 1000, `exited ${lingered} ms after its work ended`);
  });
}

test("a taken port gives a clear error naming the setting", async () => {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  try {
    const code = `${prelude}
      try { MemWatchdog.start({ prometheus: { port: ${port}, host: "127.0.0.1" } }); emit({ started: true }); }
      catch (e) { emit({ error: e.message, name: e.name, running: MemWatchdog.running }); }`;
    const r = await runToEnd(["-e", code]);
    assert.equal(r.code, 0, r.stderr);
    const [ev] = r.events;
    assert.equal(ev.running, false);
    // The environment's doing, not a bad setting: a plain Error.
    assert.equal(ev.name, "Error");
    assert.match(ev.error, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.match(ev.error, /MEMWATCHDOG_PROMETHEUS_PORT/);
  } finally {
    server.close();
  }
});

test("bad options and env vars throw errors naming them", async () => {
  const events = await tryStarts([
    `{ snapshot: { dir: "/tmp/x", maxFiles: 1 } }`,
    `{ native: { threshold: -5 } }`,
    `{ alert: { url: "alertmanager:9093" } }`,
    `{ env: { MEMWATCHDOG_SNAPSHOT_DIR: "/tmp/x", MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT: "lots" } }`,
    `{ env: { MEMWATCHDOG_THRESHOLD: "fast" } }`,
    `{ env: { MEMWATCHDOG_SNAPSHOT_ENABLED: "maybe" } }`,
  ]);
  const msgs = events.map((e) => e.message);
  assert.match(msgs[0], /^snapshot\.maxFiles must be a whole number of at least 2/);
  assert.match(msgs[1], /^native\.threshold must be a positive number/);
  assert.match(msgs[2], /^alert\.url: "alertmanager:9093" is not an http:\/\/ or https:\/\/ base URL/);
  assert.match(msgs[3], /^MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT must be a positive number of bytes .*got "lots"/);
  assert.match(msgs[4], /^MEMWATCHDOG_THRESHOLD must be a positive number/);
  assert.match(msgs[5], /^MEMWATCHDOG_SNAPSHOT_ENABLED must be true or false/);
  assert.ok(events.every((e) => e.name === "MemWatchdogConfigError"));
});

test("settings the addon rejects are MemWatchdogConfigErrors naming the option, with the cause once", async () => {
  const [trace, host] = await tryStarts([
    `{ prometheus: false, trace: { path: "/nonexistent-dir/trace.csv" } }`,
    `{ prometheus: { port: 0, host: "192.0.2.1" } }`,
  ]);
  assert.equal(trace.name, "MemWatchdogConfigError");
  assert.equal(trace.message, 'trace.path: cannot create "/nonexistent-dir/trace.csv": No such file or directory (os error 2)');
  assert.equal(host.name, "MemWatchdogConfigError");
  assert.match(host.message, /^prometheus\.host: cannot listen on 192\.0\.2\.1:0: .*\(os error \d+\) \(it must be a local address/);
});

test("one watchdog per process: a worker thread cannot start a second one", async () => {
  const worker = `const { parentPort } = require("node:worker_threads");
    const { MemWatchdog } = require(${JSON.stringify(PKG)});
    parentPort.on("message", (what) => {
      try { MemWatchdog[what]({ prometheus: false }); parentPort.postMessage({ ok: MemWatchdog.running }); }
      catch (e) { parentPort.postMessage({ name: e.name, message: e.message }); }
    });`;
  const code = `${prelude}
    const { Worker } = require("node:worker_threads");
    const w = new Worker(${JSON.stringify("WORKER")}, { eval: true });
    const ask = (what) => new Promise((resolve) => { w.once("message", resolve); w.postMessage(what); });
    (async () => {
      MemWatchdog.start({ prometheus: false });
      const second = await ask("start");
      MemWatchdog.stop();
      const afterStop = await ask("start");
      let third;
      try { MemWatchdog.start({ prometheus: false }); third = { ok: true }; } catch (e) { third = { name: e.name, message: e.message }; }
      await ask("stop");
      emit({ second, afterStop, third });
      await w.terminate();
    })();`.replace(JSON.stringify("WORKER"), JSON.stringify(worker));
  const r = await runToEnd(["-e", code]);
  assert.equal(r.code, 0, r.stderr);
  const [ev] = r.events;
  assert.equal(ev.second.name, "Error", JSON.stringify(ev));
  assert.match(ev.second.message, /^MemWatchdog already runs in this process \(started by another thread\)/);
  assert.deepEqual(ev.afterStop, { ok: true });
  assert.match(ev.third.message, /^MemWatchdog already runs in this process/);
});

test("the trace file is 0600, has the CSV header and stops at maxBytes", async () => {
  const dir = tempDir();
  const path = join(dir, "trace.csv");
  const code = `${prelude}
    let t;
    const finish = () => { clearInterval(t); MemWatchdog.stop(); };
    MemWatchdog.start({ prometheus: false, trace: { path: ${JSON.stringify(path)}, maxBytes: 4096 },
      logger: (line) => { process.stderr.write(line + "\\n"); if (line.includes("maxBytes")) setImmediate(finish); } });
    let junk = [];
    t = setInterval(() => { junk = []; for (let i = 0; i < 100000; i++) junk.push({ i }); }, 5);
    setTimeout(finish, 20000);`;
  const r = await runToEnd(["-e", code]);
  assert.equal(r.code, 0, r.stderr);
  const { statSync, readFileSync } = await import("node:fs");
  const st = statSync(path);
  assert.equal(st.mode & 0o777, 0o600);
  assert.ok(st.size <= 4096 && st.size > 1000, `size ${st.size}`);
  const lines = readFileSync(path, "utf8").split("\n");
  assert.equal(lines[0], "t_ms,gc_kind,heap_used,heap_total,external,array_buffers,rss,heap_limit,memory_limit");
  // Every row carries V8's heap limit; the memory limit is empty outside a memory cgroup.
  assert.match(lines[1], /^\d+(\.\d+)?,(1|4|8|16),\d+,\d+,\d+,\d+,\d*,[1-9]\d*,\d*$/);
  assert.match(r.stderr, /trace .*trace\.csv reached trace\.maxBytes \(4\.1 kB\); recording stopped/);
});

test("native.detector / MEMWATCHDOG_DETECTOR: bad settings name the setting", async () => {
  const dir = tempDir();
  const file = join(dir, "detector.json");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(file, '{"short": {"min_points": 1}}');
  const events = await tryStarts([
    `{ prometheus: false, native: { detector: { growth_alowance: {} } } }`,
    `{ prometheus: false, env: { MEMWATCHDOG_DETECTOR: '{"alpha": 3}' } }`,
    `{ prometheus: false, env: { MEMWATCHDOG_DETECTOR: ${JSON.stringify(file)} } }`,
    `{ prometheus: false, native: { detector: "/nonexistent/detector.json" } }`,
    `{ prometheus: false, native: { detector: 5 } }`,
    `{ prometheus: false, native: { detector: { growth_allowance: { bytes: 1048576 } } } }`,
  ]);
  const msgs = events.map((e) => e.message);
  assert.match(msgs[0], /^native\.detector: .*growth_alowance/);
  assert.match(msgs[1], /^MEMWATCHDOG_DETECTOR: alpha must be between 0 and 0\.5/);
  assert.match(msgs[2], /^MEMWATCHDOG_DETECTOR: short window: need 3 <= min_points/);
  assert.match(msgs[3], /^native\.detector: cannot read \/nonexistent\/detector\.json/);
  assert.match(msgs[4], /^native\.detector must be an object of detector settings/);
  assert.ok(events.slice(0, 5).every((e) => e.name === "MemWatchdogConfigError"), JSON.stringify(events));
  assert.deepEqual(events[5], { ok: true });
});

test("native.detector settings reach the detector: a small allowance declares a 1 MB/s leak early", async () => {
  // The same leak (1 MB/s, a major GC every 0.5 s) under two settings, side by side: the
  // default growth allowance (64 MiB, or 4% of the ~4 GiB heap's headroom) holds it back; 4 MiB
  // with the headroom share off does not.
  const leak = (detector) => `${prelude}
    MemWatchdog.start({ prometheus: false, native: { threshold: 64${detector ? `, detector: ${detector}` : ""} } });
    MemWatchdog.on("leak", (ev) => { emit({ leak: ev.signal, t: performance.now() }); });
    const kept = [];
    const t1 = setInterval(() => { for (let i = 0; i < 500; i++) kept.push({ i, pad: "x".repeat(64) }); }, 50);
    const t2 = setInterval(() => global.gc(), 500);
    setTimeout(() => { clearInterval(t1); clearInterval(t2); MemWatchdog.stop(); emit({ done: true }); }, 30000);`;
  const [tight, defaults] = await Promise.all([
    runToEnd(["--expose-gc", "-e", leak(`{ growth_allowance: { bytes: 4194304, fraction: 0.01, headroom_fraction: 0 } }`)], {}, 60_000),
    runToEnd(["--expose-gc", "-e", leak(null)], {}, 60_000),
  ]);
  assert.equal(tight.code, 0, tight.stderr);
  assert.equal(defaults.code, 0, defaults.stderr);
  assert.ok(tight.events.some((e) => e.leak === "heap"), `tight settings: ${JSON.stringify(tight.events)}\n${tight.stderr}`);
  assert.ok(!defaults.events.some((e) => e.leak), `defaults: ${JSON.stringify(defaults.events)}`);
});
