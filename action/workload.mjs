#!/usr/bin/env node
// Takes the heap snapshots of a workload for `mw check`, so a code path can be gated without
// writing snapshot code: node action/workload.mjs SCRIPT [options]
//
// SCRIPT (ESM or CommonJS) exports an async function, `default` or `iteration`, that runs the
// code path once (it gets the iteration number); optional `setup()` and `teardown()`. In a
// child process started with --expose-gc, the helper runs setup, --warmup iterations, then
// collects garbage and writes base.heapsnapshot, runs --iterations more and writes
// target.heapsnapshot, and with --snapshots 3 runs --iterations more and writes
// final.heapsnapshot (a trio: only what is still alive at the end is reported). It prints the
// snapshot paths, one a line, oldest first: `mw check $(node action/workload.mjs app.mjs) ...`.
//
// Options: --iterations N (default 100), --warmup N (default: as many as --iterations),
// --snapshots 2|3 (default 2), --out DIR (default: a new directory under the temp dir),
// --timeout SECONDS (default 600, for the whole child). Exit codes: 0 done, 2 bad usage,
// 3 the workload failed (its error is printed) or timed out.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import v8 from "node:v8";

const USAGE = "usage: node workload.mjs SCRIPT [--iterations N] [--warmup N] [--snapshots 2|3] [--out DIR] [--timeout SECONDS]";

function fail(code, message) {
  process.stderr.write(`workload: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { iterations: 100, warmup: undefined, snapshots: 2, out: undefined, timeout: 600, child: false };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(2, `${arg} needs a value\n${USAGE}`);
      return argv[++i];
    };
    const whole = (name, text, min) => {
      if (!/^\d+$/.test(text) || Number(text) < min) fail(2, `${name} must be a whole number of at least ${min}, not ${JSON.stringify(text)}`);
      return Number(text);
    };
    if (arg === "--iterations") opts.iterations = whole(arg, value(), 1);
    else if (arg === "--warmup") opts.warmup = whole(arg, value(), 0);
    else if (arg === "--snapshots") {
      opts.snapshots = whole(arg, value(), 2);
      if (opts.snapshots > 3) fail(2, "--snapshots is 2 (base, target) or 3 (base, target, final)");
    } else if (arg === "--out") opts.out = value();
    else if (arg === "--timeout") opts.timeout = whole(arg, value(), 1);
    else if (arg === "--child") opts.child = true;
    else if (arg.startsWith("-")) fail(2, `unknown option ${arg}\n${USAGE}`);
    else positional.push(arg);
  }
  if (positional.length !== 1) fail(2, `give one workload script\n${USAGE}`);
  opts.script = resolve(positional[0]);
  opts.warmup ??= opts.iterations;
  return opts;
}

const NAMES = ["base", "target", "final"];

async function settle() {
  // Let pending callbacks and finalizers run, then collect twice (weak references cleared by
  // the first collection are reclaimed by the second).
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setImmediate(r));
    globalThis.gc();
  }
}

async function child(opts) {
  if (typeof globalThis.gc !== "function") fail(2, "the child needs --expose-gc (run workload.mjs without --child)");
  const mod = await import(pathToFileURL(opts.script).href);
  const run = [mod.iteration, mod.default, mod.default?.iteration].find((f) => typeof f === "function");
  if (!run) fail(2, `${opts.script} exports no function: export an async function as default or as "iteration"`);
  const hook = (name) => [mod[name], mod.default?.[name]].find((f) => typeof f === "function");
  await hook("setup")?.();
  let n = 0;
  for (let i = 0; i < opts.warmup; i++) await run(n++);
  for (let s = 0; s < opts.snapshots; s++) {
    if (s > 0) for (let i = 0; i < opts.iterations; i++) await run(n++);
    await settle();
    v8.writeHeapSnapshot(join(opts.out, `${NAMES[s]}.heapsnapshot`));
  }
  await hook("teardown")?.();
}

const opts = parseArgs(process.argv.slice(2));
if (opts.child) {
  try {
    await child(opts);
    process.exit(0); // a workload's open handles (a server, a timer) must not keep it alive
  } catch (err) {
    fail(3, `the workload failed: ${err?.stack ?? err}`);
  }
} else {
  if (!existsSync(opts.script)) fail(2, `no workload script at ${opts.script}`);
  const out = opts.out ? resolve(opts.out) : mkdtempSync(join(tmpdir(), "mw-workload-"));
  mkdirSync(out, { recursive: true });
  const args = ["--expose-gc", fileURLToPath(import.meta.url), opts.script, "--child",
    "--iterations", String(opts.iterations), "--warmup", String(opts.warmup),
    "--snapshots", String(opts.snapshots), "--out", out];
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"], timeout: opts.timeout * 1000 });
  if (r.error?.code === "ETIMEDOUT" || r.signal === "SIGTERM") fail(3, `the workload did not finish within ${opts.timeout} s (--timeout)`);
  if (r.error) fail(3, `cannot run ${process.execPath}: ${r.error.message}`);
  if (r.status !== 0) process.exit(r.status === 2 ? 2 : 3);
  const files = NAMES.slice(0, opts.snapshots).map((n) => join(out, `${n}.heapsnapshot`));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) fail(3, `the workload exited without writing ${missing.join(", ")}`);
  process.stdout.write(files.join("\n") + "\n");
}
