// The detector on traces recorded live, not only on the committed ones: real programs from
// fixtures/traces/programs run under `node -r @memwatchdog/core/register` with MEMWATCHDOG_TRACE
// (the product's recorder), side by side, and `mw detect` replays what the recorder wrote.
// V8 schedules major GCs differently in every run, so this checks the goals on fresh schedules:
// a fast heap leak (2.5 MB/s) and an off-heap leak (1 MiB/s) are declared, the off-heap one within
// 60 s, and a steady healthy service is not.
//
// Needs `make build` (target/release/mw and the built packages/core). Run by `make test`.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MW = join(ROOT, "target", "release", "mw");
const REGISTER = join(ROOT, "packages", "core", "dist", "cjs", "register.js");
const PROGRAMS = join(ROOT, "fixtures", "traces", "programs");

for (const [what, path] of [["mw", MW], ["@memwatchdog/core", REGISTER]]) {
  if (!existsSync(path)) throw new Error(`${what} is not built (${path}): run \`make build\` first`);
}

const dir = mkdtempSync(join(tmpdir(), "mw-replay-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `program` for `seconds` under the watchdog with the recorder on; resolves to the CSV path. */
async function record(name, program, seconds, env) {
  const trace = join(dir, `${name}.csv`);
  const childEnv = { ...process.env };
  for (const k of Object.keys(childEnv)) if (k.startsWith("MEMWATCHDOG_")) delete childEnv[k];
  const child = spawn(process.execPath, ["-r", REGISTER, join(PROGRAMS, program)], {
    cwd: ROOT,
    env: {
      ...childEnv,
      ...env,
      RUN_SECONDS: String(seconds),
      MEMWATCHDOG_TRACE: trace,
      MEMWATCHDOG_PROMETHEUS_PORT: "0",
      MEMWATCHDOG_PROMETHEUS_HOST: "127.0.0.1",
      MEMWATCHDOG_LOG: "off",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c) => (stderr += c));
  const [code] = await once(child, "close");
  assert.equal(code, 0, `${name}: ${program} exited with ${code}\n${stderr}`);
  return trace;
}

/** `mw detect --json TRACE`: the exit code and the state changes. */
function detect(trace) {
  const r = spawnSync(MW, ["detect", "--json", trace], { encoding: "utf8" });
  assert.ok(r.status === 0 || r.status === 6, `mw detect exited with ${r.status}: ${r.stderr}`);
  const events = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  return { code: r.status, events, samples: readFileSync(trace, "utf8").split("\n").length - 2 };
}

const firstLeaking = (events, signal) => events.find((e) => e.state === "leaking" && e.signal === signal);
const show = (r) => `${r.samples} samples, events: ${JSON.stringify(r.events.map((e) => [e.signal, e.state, Math.round(e.t_ms)]))}`;

// All three at once: about two minutes instead of four and a half.
const recorded = Promise.all([
  record("fast_leak", "service.cjs", 120, { LEAK_HEAP_BYTES_PER_SEC: "2500000" }),
  record("external_leak", "service.cjs", 75, { LEAK_EXTERNAL_BYTES_PER_SEC: "1048576" }),
  record("steady", "service.cjs", 120, {}),
]);

test("a fast heap leak recorded live is declared", async (t) => {
  const [fast] = await recorded;
  const r = detect(fast);
  t.diagnostic(show(r));
  assert.equal(r.code, 6, show(r));
  assert.ok(firstLeaking(r.events, "heap"), show(r));
});

test("an off-heap Buffer leak recorded live is declared within 60 s", async (t) => {
  const [, external] = await recorded;
  const r = detect(external);
  t.diagnostic(show(r));
  assert.equal(r.code, 6, show(r));
  const leaking = firstLeaking(r.events, "external");
  assert.ok(leaking, show(r));
  assert.ok(leaking.t_ms <= 60_000, `declared at ${(leaking.t_ms / 1000).toFixed(1)} s; ${show(r)}`);
});

test("a steady healthy service recorded live is not declared", async (t) => {
  const [, , steady] = await recorded;
  const r = detect(steady);
  t.diagnostic(show(r));
  assert.equal(r.code, 0, show(r));
  assert.ok(r.samples > 500, show(r));
});
