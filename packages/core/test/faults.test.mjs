// Faults around heap snapshots, on real volumes: a full disk refuses a write before it starts
// and, during a write, gives its space back; a read-only volume is named as such, and partial
// files of writes that died are removed. Volumes are tmpfs mounts in a private mount namespace
// (`unshare`), so the tests need no root and leave nothing mounted.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PKG, childEnv, runToEnd, tempDir } from "./helpers.mjs";

const prelude = `const { MemWatchdog } = require(${JSON.stringify(PKG)});
const fs = require("node:fs");
const emit = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
const free = (dir) => { const s = fs.statfsSync(dir); return s.bavail * s.bsize; };`;

/**
 * Runs `node ...nodeArgs -e code` with a tmpfs of `size` (e.g. "300m", options "ro") mounted
 * at `mountpoint`, in its own user and mount namespace. Resolves to the JSON lines it printed.
 */
function withVolume(mountpoint, mountOptions, nodeArgs, code) {
  const have = spawnSync("unshare", ["--user", "--map-root-user", "--mount", "true"]);
  assert.equal(have.status, 0, `unshare --user --map-root-user --mount must work here (util-linux; user namespaces enabled): ${have.stderr}`);
  const script = `mount -t tmpfs -o ${mountOptions} tmpfs "$1" && shift && exec "$@"`;
  const args = ["--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", mountpoint, process.execPath, ...nodeArgs, "-e", code];
  return new Promise((resolve, reject) => {
    const child = spawn("unshare", args, { cwd: PKG, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const events = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      resolve({ code, events, stderr });
    });
  });
}

test("a snapshot write that fills the disk gives the space back, and the next write works", async () => {
  const vol = tempDir("mw-enospc-");
  // The guard's disk estimate counts ~110 B per object plus the heap's own bytes (the text
  // of strings). Strings of control characters defeat it: the file escapes each as \u0001,
  // six bytes per heap byte, so 50 k strings of 1000 of them (50 MB of heap) write ~300 MB
  // where the guard expects ~130 MB: it allows the write and the disk fills.
  const code = `${prelude}
    const vol = ${JSON.stringify(vol)};
    const dir = vol + "/snapshots";
    MemWatchdog.start({ env: false, prometheus: false, profile: false, logger: (l) => process.stderr.write(l + "\\n"),
      snapshot: { dir, nearHeapLimit: false, cooldownMs: 0 } });
    let big = new Array(5e6).fill(1.5);
    const baseline = MemWatchdog.writeSnapshot("baseline");
    big = null;
    global.gc();
    globalThis.keep = [];
    for (let i = 0; i < 5e4; i++) {
      const b = Buffer.alloc(1000, 1);
      b.write(String(i));
      keep.push(b.toString("latin1"));
    }
    // Leave about 150 MB: above the estimate, below the file.
    const leave = 150e6;
    fs.writeFileSync(vol + "/filler", Buffer.alloc(Math.max(0, free(vol) - leave)));
    const before = free(vol);
    const failed = MemWatchdog.writeSnapshot("leak");
    const after = free(vol);
    const left = fs.readdirSync(dir);
    keep.length = 0;
    global.gc();
    fs.unlinkSync(vol + "/filler");
    const retry = MemWatchdog.writeSnapshot("leak");
    emit({ baseline, failed, before, after, left, retry, metrics: MemWatchdog.metrics() });
    MemWatchdog.stop();`;
  const r = await withVolume(vol, "size=400m", ["--expose-gc"], code);
  assert.equal(r.code, 0, r.stderr);
  const [ev] = r.events;
  assert.ok(ev.baseline.path, `baseline: ${JSON.stringify(ev.baseline)}`);
  assert.equal(ev.failed.reason, "error", JSON.stringify(ev.failed));
  assert.match(ev.failed.message, /ENOSPC/);
  // The space is back (Node leaves the deleted file open; the watchdog closes it).
  assert.ok(Math.abs(ev.after - ev.before) < 1e6, `free before ${ev.before}, after ${ev.after}`);
  assert.deepEqual(ev.left.filter((f) => f.endsWith(".partial")), []);
  assert.ok(ev.retry.path, `retry: ${JSON.stringify(ev.retry)}`);
  assert.match(ev.metrics, /memwatchdog_snapshot_failures_total\{[^}]*reason="io"[^}]*\} 1/);
});

test("a volume already full: the snapshot is refused with the reason and a metric, nothing is written, the app serves", async () => {
  const vol = tempDir("mw-full-");
  const code = `${prelude}
    const http = require("node:http");
    const vol = ${JSON.stringify(vol)};
    const dir = vol + "/snapshots";
    MemWatchdog.start({ env: false, prometheus: false, profile: false, logger: (l) => process.stderr.write(l + "\\n"),
      snapshot: { dir, nearHeapLimit: false, cooldownMs: 0 } });
    // Leave 4 MB: less than any snapshot's disk estimate (its reserve alone is 64 MiB).
    fs.writeFileSync(vol + "/filler", Buffer.alloc(Math.max(0, free(vol) - 4e6)));
    const before = free(vol);
    const refused = MemWatchdog.writeSnapshot("leak");
    const after = free(vol);
    const left = fs.readdirSync(dir);
    const server = http.createServer((req, res) => res.end("ok"));
    server.listen(0, "127.0.0.1", async () => {
      const answer = await (await fetch("http://127.0.0.1:" + server.address().port + "/")).text();
      emit({ refused, before, after, left, answer, metrics: MemWatchdog.metrics() });
      server.close();
      MemWatchdog.stop();
    });`;
  const r = await withVolume(vol, "size=64m", [], code);
  assert.equal(r.code, 0, r.stderr);
  const [ev] = r.events;
  assert.equal(ev.refused.reason, "disk", JSON.stringify(ev.refused));
  assert.match(ev.refused.message, /^not enough disk space: the snapshot needs ~\d+(\.\d)? MB but only \d+(\.\d)? [kM]?B is free on snapshot\.dir$/);
  assert.match(r.stderr, /heap snapshot \(leak\) refused: not enough disk space/);
  assert.match(ev.metrics, /^memwatchdog_snapshot_refused_total\{[^}]*reason="disk"[^}]*\} 1$/m);
  assert.doesNotMatch(ev.metrics, /^memwatchdog_snapshot_failures_total\{[^}]*\} [1-9]/m, "a refusal is not a failure");
  assert.deepEqual(ev.left, [], "nothing written, no partial file");
  assert.equal(ev.after, ev.before, "not a byte used");
  assert.equal(ev.answer, "ok");
});

test("a snapshot.dir that cannot be created on a read-only volume is a config error naming EROFS", async () => {
  const vol = tempDir("mw-ro-");
  const code = `${prelude}
    try { MemWatchdog.start({ env: false, prometheus: false, snapshot: { dir: ${JSON.stringify(vol)} + "/a/b" } }); emit({ ok: true }); }
    catch (e) { emit({ name: e.name, message: e.message }); }
    try { MemWatchdog.start({ env: false, prometheus: false, snapshot: { dir: ${JSON.stringify(vol)} } }); emit({ ok: true }); }
    catch (e) { emit({ name: e.name, message: e.message }); }`;
  const r = await withVolume(vol, "size=1m,ro", [], code);
  assert.equal(r.code, 0, r.stderr);
  for (const ev of r.events) {
    assert.equal(ev.name, "MemWatchdogConfigError", JSON.stringify(ev));
    assert.match(ev.message, /^snapshot\.dir .* cannot be used: EROFS: read-only file system/);
  }
});

test("partial files of writes that died are removed; a live write's is kept", async () => {
  const dir = tempDir("mw-partials-");
  const idle = (name, seconds) => {
    const path = join(dir, name);
    writeFileSync(path, "{");
    const t = Date.now() / 1000 - seconds;
    utimesSync(path, t, t);
  };
  const alive = process.pid; // this test runner: alive, and not the child
  idle(`svc-${alive}-2026-01-01T00-00-00.000Z-leak.heapsnapshot.partial`, 30); // live pid, idle 30 s: kept
  idle(`svc-${alive}-2026-01-01T00-00-01.000Z-baseline.heapsnapshot.partial`, 120); // idle 2 min: dead
  idle(`svc-999999999-2026-01-01T00-00-02.000Z-leak.heapsnapshot.partial`, 10); // no such process, idle 10 s: dead
  idle(`svc-999999999-2026-01-01T00-00-03.000Z-leak.heapsnapshot.partial`, 1); // maybe another namespace's live write: kept
  idle("notes.partial", 3600); // not ours
  const r = await runToEnd(["-e", `${prelude}
    MemWatchdog.start({ env: false, prometheus: false, profile: false, snapshot: { dir: ${JSON.stringify(dir)} } });
    MemWatchdog.stop();`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(dir).sort(), [
    "notes.partial",
    `svc-${alive}-2026-01-01T00-00-00.000Z-leak.heapsnapshot.partial`,
    "svc-999999999-2026-01-01T00-00-03.000Z-leak.heapsnapshot.partial",
  ]);
  assert.equal((r.stderr.match(/left by a snapshot write that did not finish/g) ?? []).length, 2, r.stderr);
});

test("a write killed midway leaves a partial file that the restarted process removes", async () => {
  const dir = tempDir("mw-killed-");
  mkdirSync(dir, { recursive: true });
  const writer = spawn(process.execPath, ["-e", `${prelude}
    globalThis.keep = []; for (let i = 0; i < 3e6; i++) keep.push({ i });
    MemWatchdog.start({ env: false, prometheus: false, profile: false, snapshot: { dir: ${JSON.stringify(dir)} } });
    MemWatchdog.writeSnapshot("leak");`], { env: childEnv(), stdio: "ignore" });
  const partial = await new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = setInterval(() => {
      const found = readdirSync(dir).find((f) => f.endsWith(".heapsnapshot.partial"));
      if (found || Date.now() > deadline) {
        clearInterval(poll);
        if (found) resolve(found);
        else reject(new Error("the writer never started a snapshot"));
      }
    }, 20);
  });
  writer.kill("SIGKILL");
  await new Promise((resolve) => writer.on("close", resolve));
  assert.ok(readdirSync(dir).includes(partial));
  // Idle for 5 s, and its writer is gone: dead.
  await new Promise((resolve) => setTimeout(resolve, 5_500));
  const r = await runToEnd(["-e", `${prelude}
    MemWatchdog.start({ env: false, prometheus: false, profile: false, snapshot: { dir: ${JSON.stringify(dir)} } });
    MemWatchdog.stop();`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(dir), []);
});
