// What a user gets from npm, proved on the tarballs `make dist` packs (target/dist/npm):
// the linux-x64-gnu binaries need glibc 2.28 at most and are stripped; every tarball passes
// `npm publish --dry-run`; installed offline into a fresh app outside the repository, with
// no cargo or rustc on PATH, require(), import, `node -r @memwatchdog/core/register`,
// `npx mw` and `npx @memwatchdog/cli` work, and without the platform package both say
// which package is missing and how to build from source. Nothing is skipped: a missing
// artifact fails (run `make dist` first).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DIST = join(ROOT, "target/dist/npm");
const GLIBC_FLOOR = process.env.GLIBC_FLOOR ?? "2.28";
const BINARIES = [
  join(ROOT, "packages/core/npm/linux-x64-gnu/memwatchdog.linux-x64-gnu.node"),
  join(ROOT, "packages/cli/npm/linux-x64-gnu/bin/mw"),
];
const HERE = ["@memwatchdog/core", "@memwatchdog/core-linux-x64-gnu", "@memwatchdog/cli", "@memwatchdog/cli-linux-x64-gnu"];

let work; // temporary directory: bin/ (node, npm, npx), app/, bare/, fixtures/, npm cache
let packed; // [{ name, file, size }]
let env; // the environment of every command run as the user

const versionKey = (v) => [...v.split(".").map(Number), 0, 0].slice(0, 3).reduce((acc, n) => acc * 1000 + n, 0);

/** The highest GLIBC_x.y symbol version FILE needs (objdump -T). */
function maxGlibc(file) {
  const versions = [...execFileSync("objdump", ["-T", file], { encoding: "utf8", maxBuffer: 64 << 20 }).matchAll(/GLIBC_(\d+(?:\.\d+)+)/g)].map((m) => m[1]);
  assert.ok(versions.length > 0, `${file}: no GLIBC symbol versions at all`);
  return versions.sort((a, b) => versionKey(a) - versionKey(b)).at(-1);
}

/** A PATH of the system directories without cargo or rustc, after a bin/ with node, npm and npx. */
function userPath(bin) {
  mkdirSync(bin, { recursive: true });
  const npmBin = dirname(execFileSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).trim());
  for (const tool of ["node", "npm", "npx"]) symlinkSync(tool === "node" ? process.execPath : join(npmBin, tool), join(bin, tool));
  const system = ["/usr/local/bin", "/usr/bin", "/bin"].filter((d) => !["cargo", "rustc"].some((t) => existsSync(join(d, t))));
  return [bin, ...system].join(delimiter);
}

function run(cmd, args, { cwd = join(work, "app"), extraEnv = {}, ok = true } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...env, ...extraEnv }, encoding: "utf8", timeout: 120_000, maxBuffer: 64 << 20 });
  if (ok) assert.equal(r.status, 0, `${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r;
}

function npmInstall(dir, tarballs) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "user-app", version: "1.0.0", private: true }));
  // --offline with an empty cache: nothing is fetched, the other platforms' optional
  // packages are skipped like on a machine where they do not match.
  return run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs], { cwd: dir });
}

const tarball = (name) => packed.find((p) => p.name === name)?.file;

before(() => {
  assert.ok(existsSync(join(DIST, "packed.json")), `${DIST}/packed.json is missing: run make dist`);
  packed = JSON.parse(readFileSync(join(DIST, "packed.json"), "utf8"));
  for (const name of HERE) assert.ok(tarball(name) && existsSync(tarball(name)), `no tarball of ${name} in ${DIST}: run make dist`);
  work = mkdtempSync(join(tmpdir(), "mw-install-"));
  assert.ok(!work.startsWith(ROOT), "the app must be outside the repository");
  env = {
    PATH: userPath(join(work, "bin")),
    HOME: work,
    npm_config_cache: join(work, "npm-cache"),
    npm_config_update_notifier: "false",
    LANG: "C.UTF-8",
  };
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test(`the linux-x64-gnu addon and mw need glibc ${GLIBC_FLOOR} at most, and are stripped with their debug info kept`, () => {
  for (const file of BINARIES) {
    const max = maxGlibc(file);
    assert.ok(versionKey(max) <= versionKey(GLIBC_FLOOR), `${file} needs GLIBC_${max}, above the ${GLIBC_FLOOR} floor`);
    const sections = execFileSync("readelf", ["-S", "-W", file], { encoding: "utf8" });
    // (.debug_gdb_scripts is loaded data, the pretty-printer hint rustc embeds, not debug info)
    assert.doesNotMatch(sections, /\s\.(debug_(?!gdb_scripts)\w+|symtab)\s/, `${file} is not stripped`);
    const link = execFileSync("readelf", ["--string-dump=.gnu_debuglink", file], { encoding: "utf8" });
    const debugName = link.match(/\]\s+(\S+\.debug)/)?.[1];
    assert.ok(debugName, `${file} has no .gnu_debuglink`);
    const debugFile = join(ROOT, "target/dist/debug", debugName);
    assert.match(execFileSync("readelf", ["-S", "-W", debugFile], { encoding: "utf8" }), /\.debug_line/, `${debugFile} has no line tables`);
    console.log(`${file.slice(ROOT.length + 1)}: GLIBC_${max}, ${(statSync(file).size / 1e6).toFixed(1)} MB stripped, ${(statSync(debugFile).size / 1e6).toFixed(1)} MB debug`);
  }
});

test("no cargo or rustc on the user's PATH", () => {
  for (const tool of ["cargo", "rustc"]) assert.notEqual(run("sh", ["-c", `command -v ${tool}`], { cwd: work, ok: false }).status, 0, `${tool} is on PATH`);
});

test("every tarball passes npm publish --dry-run", () => {
  for (const p of packed) {
    const r = run("npm", ["publish", "--dry-run", "--access", "public", "--tag", "dry-run", p.file], { cwd: work });
    assert.match(r.stdout + r.stderr, new RegExp(`${p.name.replace("/", "\\/")}@`), `npm publish --dry-run ${p.file}`);
  }
});

test("installed from the tarballs: require, import, register, npx mw and npx @memwatchdog/cli", () => {
  const app = join(work, "app");
  npmInstall(app, packed.map((p) => p.file));
  const installed = readdirSync(join(app, "node_modules/@memwatchdog")).sort();
  assert.deepEqual(installed, ["cli", "cli-linux-x64-gnu", "core", "core-linux-x64-gnu"]);

  // require(): start() loads the addon from the platform package, not from a build.
  const probe = `const addon = Object.keys(require.cache).find((f) => f.endsWith(".node"));
    MemWatchdog.stop(); console.log(JSON.stringify({ running, addon }));`;
  const cjs = run("node", ["-e", `const { MemWatchdog } = require("@memwatchdog/core");
    const running = MemWatchdog.start({ prometheus: { port: 0 } }) && MemWatchdog.running; ${probe}`]);
  const loaded = JSON.parse(cjs.stdout);
  assert.equal(loaded.running, true, cjs.stderr);
  assert.equal(loaded.addon, join(app, "node_modules/@memwatchdog/core-linux-x64-gnu/memwatchdog.linux-x64-gnu.node"));

  const esm = run("node", ["--input-type=module", "-e", `import { MemWatchdog } from "@memwatchdog/core";
    import { createRequire } from "node:module"; const require = createRequire(import.meta.url);
    const running = MemWatchdog.start({ prometheus: { port: 0 } }) && MemWatchdog.running; ${probe}`]);
  assert.equal(JSON.parse(esm.stdout).running, true, esm.stderr);

  writeFileSync(join(app, "server.cjs"), `const { MemWatchdog } = require("@memwatchdog/core");
    console.log(JSON.stringify({ running: MemWatchdog.running, port: MemWatchdog.metricsPort }));
    MemWatchdog.stop();\n`);
  const reg = run("node", ["-r", "@memwatchdog/core/register", "server.cjs"], { extraEnv: { MEMWATCHDOG_PROMETHEUS_PORT: "0" } });
  const registered = JSON.parse(reg.stdout);
  assert.equal(registered.running, true, reg.stderr);
  assert.ok(registered.port > 0, reg.stdout);

  const version = execFileSync("cargo", ["pkgid", "-p", "memwatchdog-cli"], { cwd: ROOT, encoding: "utf8" }).trim().split("@").at(-1);
  assert.match(run("npx", ["mw", "--version"]).stdout, new RegExp(`^mw ${version.replaceAll(".", "\\.")}`));
  assert.match(run("npx", ["@memwatchdog/cli", "--version"]).stdout, new RegExp(`^mw ${version.replaceAll(".", "\\.")}`));

  // mw analyze on the snapshots of a real leaky program (the scenario the analyzer tests use).
  const fixtures = join(work, "fixtures");
  execFileSync(process.execPath, [join(ROOT, "fixtures/generate.mjs"), fixtures, "--only", "growing-array"], { stdio: ["ignore", "ignore", "inherit"] });
  const scenario = join(fixtures, "growing-array");
  const expect = JSON.parse(readFileSync(join(scenario, "expect.json"), "utf8")).leaks[0];
  const snaps = ["base", "target", "final"].map((s) => join(scenario, `${s}.heapsnapshot`));
  const text = run("npx", ["mw", "analyze", ...snaps]).stdout;
  assert.match(text, /Leak suspects/);
  assert.ok(text.includes(expect.constructor), `mw analyze does not name ${expect.constructor}:\n${text}`);
  const json = JSON.parse(run("npx", ["@memwatchdog/cli", "analyze", "--json", snaps[0], snaps[2]]).stdout);
  assert.ok(JSON.stringify(json).includes(expect.constructor), "mw analyze --json does not name the leak");
});

test("without the platform package: a clear error naming the platform, the packages and the source build", () => {
  const bare = join(work, "bare");
  npmInstall(bare, [tarball("@memwatchdog/core"), tarball("@memwatchdog/cli")]);
  assert.ok(!existsSync(join(bare, "node_modules/@memwatchdog/core-linux-x64-gnu")));
  const r = run("node", ["-e", `const { MemWatchdog } = require("@memwatchdog/core");
    try { MemWatchdog.start({ prometheus: { port: 0 } }); console.log("started"); } catch (e) { console.log(e.message); }`], { cwd: bare });
  assert.match(r.stdout, /linux-x64-gnu/);
  assert.match(r.stdout, /@memwatchdog\/core-linux-x64-gnu/);
  assert.match(r.stdout, /prebuilt addons exist for [\w-, ]*darwin-arm64/, "the error lists the platforms that have packages");
  assert.match(r.stdout, /from source/);
  const mw = run("npx", ["mw", "--version"], { cwd: bare, ok: false });
  assert.equal(mw.status, 127, mw.stderr);
  assert.match(mw.stderr, /@memwatchdog\/cli-linux-x64-gnu.*not installed/);
  assert.match(mw.stderr, /cargo install/);
});
