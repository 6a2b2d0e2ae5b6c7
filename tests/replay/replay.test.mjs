// The detector on traces recorded live, not only on the committed ones: real programs from
// fixtures/traces/programs run under `node -r @memwatchdog/core/register` with MEMWATCHDOG_TRACE
// (the product's recorder), side by side, and `mw detect` replays what the recorder wrote.
// V8 schedules major GCs differently in every run, so this checks the goals on fresh schedules,
// with the watchdog's confirmation GCs in the loop: a fast heap leak (2.5 MB/s into a ~4 GiB heap)
// is an `oom_risk` within 90 s, an off-heap leak (1 MiB/s, no container limit) is `leaking` within
// 60 s, and a steady healthy service is neither.
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
  assert.ok([0, 6, 7].includes(r.status), `mw detect exited with ${r.status}: ${r.stderr}`);
  const events = r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  for (const e of events) assert.equal(e.version, 2, JSON.stringify(e));
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

test("a fast heap leak recorded live is an oom_risk within 90 s, with its limit and projection", async (t) => {
  const [fast] = await recorded;
  const r = detect(fast);
  t.diagnostic(show(r));
  assert.equal(r.code, 7, show(r));
  const risk = r.events.find((e) => e.state === "oom_risk" && e.signal === "heap");
  assert.ok(risk, show(r));
  assert.ok(risk.t_ms <= 90_000, `oom_risk at ${(risk.t_ms / 1000).toFixed(1)} s; ${show(r)}`);
  assert.ok(risk.limit_bytes > 2 ** 30 && risk.headroom_bytes > 0, JSON.stringify(risk));
  // 2.5 MB/s into ~4 GiB: about half an hour, certainly within the hour.
  assert.ok(risk.exhaustion_ms > 5 * 60_000 && risk.exhaustion_ms <= 3_600_000, JSON.stringify(risk));
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
