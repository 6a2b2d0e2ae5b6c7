// Only the intended process is watched: with NODE_OPTIONS="-r .../register" every Node process
// of a tree loads register, but package managers and tools (npm, npx, nodemon...) must not
// start the watchdog (they would take the metrics port from the app), and by default neither do
// the app's Node children. Unit tests of the decision (src/cjs/process-role.ts), then the real
// tools end to end: each app runs on a fixed port, which npm & co. would have taken first.
// A missing tool skips its test, except under CI=true, where it fails.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { FIXTURES, PKG, freeConsecutivePorts, freePort, runCommand, runNode, scrape, tempDir } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const { matchesScript, processRole, processSelection, toolOf, watchedPid } = require(join(PKG, "dist", "cjs", "process-role.js"));

/** register by absolute path, as NODE_OPTIONS must name it when the app does not depend on us. */
const REGISTER = join(PKG, "dist", "cjs", "register.js");
const NODE_OPTIONS = `-r ${REGISTER}`;
const CI = process.env.CI === "true";

/** The executable `name` on PATH, or `null`. */
function onPath(name) {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** `{ skip }` for a test that needs `path`: skipped when missing, except under CI=true (the test then fails). */
function needs(name, path) {
  return { skip: path || CI ? false : `${name} is not installed` };
}

function assertTool(name, path) {
  assert.ok(path, `${name} is not installed (CI=true: a missing tool fails the test)`);
}

/** The decision for a process running `script` (with `real` as its resolved path) and `env`. */
function role(script, env = {}, { pid = 1000, real = {} } = {}) {
  return processRole({ argv: script === undefined ? ["/usr/bin/node"] : ["/usr/bin/node", script], env, pid, realpath: (p) => real[p] ?? p });
}

test("toolOf names package managers and tools by the package that owns the script", () => {
  const tools = {
    "/usr/lib/node_modules/npm/bin/npm-cli.js": "npm",
    "/usr/lib/node_modules/npm/bin/npx-cli.js": "npx",
    "/home/u/.nvm/versions/node/v22.1.0/lib/node_modules/npm/bin/npm-cli.js": "npm",
    "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js": "node-gyp",
    "/usr/local/lib/node_modules/yarn/bin/yarn.js": "yarn",
    "/usr/local/lib/node_modules/yarn/lib/cli.js": "yarn",
    "/srv/app/.yarn/releases/yarn-4.5.3.cjs": "yarn",
    "/srv/app/.yarn/releases/yarn-1.22.22.js": "yarn",
    "/srv/app/node_modules/@yarnpkg/cli-dist/bin/yarn.js": "yarn",
    "/usr/local/lib/node_modules/pnpm/bin/pnpm.cjs": "pnpm",
    "/usr/lib/node_modules/corepack/dist/corepack.js": "corepack",
    "/usr/lib/node_modules/corepack/dist/yarn.js": "corepack",
    "/usr/lib/node_modules/corepack/dist/pnpm.js": "corepack",
    "/root/.cache/node/corepack/v1/yarn/4.5.3/yarn.js": "yarn",
    "/root/.cache/node/corepack/v1/pnpm/9.15.0/bin/pnpm.cjs": "pnpm",
    "/root/.cache/node/corepack/v1/npm/10.9.2/bin/npx-cli.js": "npx",
    "/srv/app/node_modules/nodemon/bin/nodemon.js": "nodemon",
    "/usr/lib/node_modules/pm2/bin/pm2": "pm2",
    "/usr/lib/node_modules/pm2/bin/pm2-runtime": "pm2",
    "/usr/lib/node_modules/pm2/lib/Daemon.js": "pm2",
    "/srv/app/node_modules/cross-env/src/bin/cross-env.js": "cross-env",
    "/srv/app/node_modules/@memwatchdog/cli/bin/mw.js": "mw",
    "/srv/app/node_modules/concurrently/dist/bin/concurrently.js": "concurrently",
    "/srv/app/node_modules/npm-run-all/bin/run-p/index.js": "npm-run-all",
    "/srv/app/node_modules/tsx/dist/cli.mjs": "tsx",
  };
  for (const [script, tool] of Object.entries(tools)) assert.equal(toolOf(script), tool, script);
  // A corepack home of its own (COREPACK_HOME).
  assert.equal(toolOf("/opt/pm/v1/pnpm/9.0.0/bin/pnpm.cjs", { COREPACK_HOME: "/opt/pm/" }), "pnpm");
  assert.equal(toolOf("/opt/pm/v1/pnpm/9.0.0/bin/pnpm.cjs"), undefined);
  const apps = [
    "/srv/app/server.js",
    "/srv/npm/app.js", // a directory named like a tool, not a package
    "/srv/app/node_modules/next/dist/bin/next", // the app itself, started through its framework's bin
    "/srv/app/node_modules/ts-node/dist/bin.js", // runs the app in its own process
    "/srv/app/node_modules/npm-helper/index.js",
    "/srv/app/node_modules/@scope/npm/index.js",
    "/usr/lib/node_modules/pm2/lib/ProcessContainerFork.js", // PM2 runs the app in this process
    "/usr/lib/node_modules/pm2/lib/ProcessContainer.js",
    "/srv/app/.yarn/releases/app.cjs",
    "/srv/app/yarn-4.5.3.cjs",
  ];
  for (const script of apps) assert.equal(toolOf(script), undefined, script);
});

test("npm and npx on this machine are recognized through their bin symlinks", () => {
  for (const name of ["npm", "npx"]) {
    const bin = onPath(name);
    if (!bin) {
      assert.ok(!CI, `${name} is not on PATH`);
      continue;
    }
    const r = role(bin, {}, { real: { [bin]: realpathSync(bin) } });
    assert.equal(r.watch, false, `${bin} -> ${realpathSync(bin)}`);
    assert.equal(r.reason, `${name}'s own process (${realpathSync(bin)})`);
  }
});

test("MEMWATCHDOG_PROCESSES=main (the default): the first process of the tree, not the Node processes below it", () => {
  const app = "/srv/app/server.js";
  assert.deepEqual(role(app), { watch: true, reason: "the main process of its tree (/srv/app/server.js), no watched ancestor" });
  assert.equal(role(app, { MEMWATCHDOG_PROCESSES: " Main " }).watch, true);
  assert.equal(role(app, { MEMWATCHDOG_PROCESSES: "" }).watch, true, "blank is unset");
  const child = role(app, { MEMWATCHDOG_WATCHED_PID: "77" });
  assert.equal(child.watch, false);
  assert.equal(child.reason, "below watched process 77 (MEMWATCHDOG_WATCHED_PID; MEMWATCHDOG_PROCESSES=main); to watch it too: MEMWATCHDOG_PROCESSES=all, or a pattern matching /srv/app/server.js");
  // Its own mark (register loaded twice, -r and --import) is no reason to skip.
  assert.equal(role(app, { MEMWATCHDOG_WATCHED_PID: "1000" }, { pid: 1000 }).watch, true);
  // `node -e`, the REPL, a script on stdin: no main script, still the main process.
  assert.equal(role(undefined).watch, true);
  assert.equal(role("-").reason, "the main process of its tree ((no main script)), no watched ancestor");
});

test("a worker thread is skipped: the watchdog is one per process, started on the main thread", () => {
  const r = processRole({ argv: ["/usr/bin/node", "/srv/app/server.js"], env: {}, pid: 1000, realpath: (p) => p, isMainThread: false });
  assert.deepEqual(r, { watch: false, reason: "a worker thread (the watchdog is one per process, started on the main thread)" });
});

test("tools are skipped whatever MEMWATCHDOG_PROCESSES says, and stay silent about bad settings", () => {
  const npm = "/usr/lib/node_modules/npm/bin/npm-cli.js";
  const viaSymlink = role("/usr/bin/npm", { MEMWATCHDOG_PROCESSES: "all" }, { real: { "/usr/bin/npm": npm } });
  assert.deepEqual(viaSymlink, { watch: false, reason: `npm's own process (${npm})` });
  assert.equal(role("/srv/app/node_modules/nodemon/bin/nodemon.js", { MEMWATCHDOG_PROCESSES: "*.js" }).watch, false);
  assert.equal(role(npm, { MEMWATCHDOG_PROCESSES: "mian", MEMWATCHDOG_WATCHED_PID: "x" }).watch, false);
  // Install scripts run by a package manager.
  for (const event of ["preinstall", "install", "postinstall", "prepare"]) {
    assert.deepEqual(role("/srv/app/node_modules/esbuild/install.js", { npm_lifecycle_event: event }), {
      watch: false,
      reason: `an install script (npm_lifecycle_event=${event})`,
    });
  }
  assert.equal(role("/srv/app/server.js", { npm_lifecycle_event: "start" }).watch, true, "npm start");
});

test("PM2: the app's script is pm_exec_path (pm2 start npm makes npm the app: still a tool)", () => {
  const container = "/usr/lib/node_modules/pm2/lib/ProcessContainerFork.js";
  assert.equal(role(container, { pm_id: "0", pm_exec_path: "/srv/app/server.js" }).watch, true);
  const npm = role(container, { pm_id: "0", pm_exec_path: "/usr/bin/npm" }, { real: { "/usr/bin/npm": "/usr/lib/node_modules/npm/bin/npm-cli.js" } });
  assert.deepEqual(npm, { watch: false, reason: "npm's own process (/usr/lib/node_modules/npm/bin/npm-cli.js)" });
  const matched = role(container, { pm_id: "3", pm_exec_path: "/srv/app/worker.js", MEMWATCHDOG_PROCESSES: "worker.js" });
  assert.deepEqual(matched, { watch: true, reason: "/srv/app/worker.js matches worker.js in MEMWATCHDOG_PROCESSES" });
  // Without pm_id, pm_exec_path is someone else's variable.
  assert.equal(role("/srv/app/server.js", { pm_exec_path: "/usr/bin/npm" }).watch, true);
});

test("MEMWATCHDOG_PROCESSES=all and script patterns", () => {
  const marked = { MEMWATCHDOG_WATCHED_PID: "77" };
  assert.deepEqual(role("/srv/app/worker.js", { ...marked, MEMWATCHDOG_PROCESSES: "ALL" }), { watch: true, reason: "MEMWATCHDOG_PROCESSES=all (/srv/app/worker.js)" });
  const env = { ...marked, MEMWATCHDOG_PROCESSES: "worker*.js, jobs/*.js" };
  assert.deepEqual(role("/srv/app/worker-2.js", env), { watch: true, reason: "/srv/app/worker-2.js matches worker*.js in MEMWATCHDOG_PROCESSES" });
  assert.equal(role("/srv/app/jobs/nightly.js", env).watch, true);
  assert.deepEqual(role("/srv/app/server.js", env), { watch: false, reason: "/srv/app/server.js matches none of MEMWATCHDOG_PROCESSES=worker*.js, jobs/*.js" });
  assert.equal(role("/srv/app/server.js", { MEMWATCHDOG_PROCESSES: "worker*.js" }).watch, false, "patterns only: no main either");
  assert.equal(role(undefined, { MEMWATCHDOG_PROCESSES: "*" }).watch, false, "no script matches no pattern");
  // The path as given or with symlinks resolved.
  assert.equal(role("/srv/app/bin/worker", { MEMWATCHDOG_PROCESSES: "worker.js" }, { real: { "/srv/app/bin/worker": "/srv/app/dist/worker.js" } }).watch, true);
  assert.equal(role("/srv/app/bin/worker", { MEMWATCHDOG_PROCESSES: "bin/worker" }, { real: { "/srv/app/bin/worker": "/srv/app/dist/worker.js" } }).watch, true);
  // main beside patterns: the main process and the matching children.
  const both = { MEMWATCHDOG_PROCESSES: "main,worker.js" };
  assert.equal(role("/srv/app/server.js", both).watch, true);
  assert.equal(role("/srv/app/worker.js", { ...both, ...marked }).watch, true);
  assert.equal(role("/srv/app/build.js", { ...both, ...marked }).watch, false);
});

test("script patterns: * and ? within a segment, ** across, a slash matches the path's end", () => {
  const yes = [
    ["worker*.js", "/srv/app/worker-1.js"],
    ["worker?.js", "/srv/app/worker1.js"],
    ["./worker.js", "/srv/app/worker.js"],
    ["jobs/*.js", "/srv/app/jobs/a.js"],
    ["app/**/*.js", "/srv/app/jobs/deep/a.js"],
    ["app/**/a.js", "/srv/app/a.js"],
    ["/srv/*/server.js", "/srv/app/server.js"],
    ["*.mjs", "/srv/app/server.mjs"],
  ];
  const no = [
    ["worker*.js", "/srv/worker/app.js"],
    ["worker?.js", "/srv/app/worker12.js"],
    ["jobs/*.js", "/srv/app/jobs/deep/a.js"],
    ["jobs/*.js", "/srv/app/myjobs/a.js"],
    ["/app/*.js", "/srv/app/a.js"],
    ["server.js", "/srv/app/server.jsx"],
    ["s.rver.js", "/srv/app/server.js"],
  ];
  for (const [pattern, path] of yes) assert.equal(matchesScript(pattern, path), true, `${pattern} ~ ${path}`);
  for (const [pattern, path] of no) assert.equal(matchesScript(pattern, path), false, `${pattern} !~ ${path}`);
});

test("a bad MEMWATCHDOG_PROCESSES or MEMWATCHDOG_WATCHED_PID is an error naming the variable", () => {
  const must = /^MEMWATCHDOG_PROCESSES must be main, all, or a comma-separated list of script patterns, each with a dot, a slash or a wildcard/;
  for (const value of ["mian", "al", ",", "main,,worker.js", "all,worker.js", "main, server"]) {
    assert.throws(() => processSelection({ MEMWATCHDOG_PROCESSES: value }), (err) => {
      assert.equal(err.name, "MemWatchdogConfigError");
      assert.match(err.message, must);
      assert.ok(err.message.endsWith(`, got ${JSON.stringify(value)}`), err.message);
      return true;
    });
    assert.throws(() => role("/srv/app/server.js", { MEMWATCHDOG_PROCESSES: value }), (err) => must.test(err.message));
  }
  assert.deepEqual(processSelection({}), { all: false, main: true, patterns: [] });
  assert.deepEqual(processSelection({ MEMWATCHDOG_PROCESSES: "main, w*.js ,jobs/x" }), { all: false, main: true, patterns: ["w*.js", "jobs/x"] });
  for (const value of ["x", "0", "-3", "1.5", "12abc"]) {
    assert.throws(() => watchedPid({ MEMWATCHDOG_WATCHED_PID: value }), new RegExp(`^MemWatchdogConfigError: MEMWATCHDOG_WATCHED_PID must be a process id \\(set by the watchdog, not by hand\\), got "${value.replace(".", "\\.")}"$`));
  }
  assert.equal(watchedPid({ MEMWATCHDOG_WATCHED_PID: " 42 " }), 42);
  assert.equal(watchedPid({}), undefined);
});

test("register reports a bad MEMWATCHDOG_PROCESSES and the app runs unwatched", async () => {
  const r = runNode(["-r", REGISTER, join(FIXTURES, "watched.cjs")], { env: { MEMWATCHDOG_PROCESSES: "mian", STAY_MS: "0" } });
  const { code } = await r.exited;
  assert.equal(code, 0, r.stderr);
  assert.match(r.stderr, /\[memwatchdog\] not started: MEMWATCHDOG_PROCESSES must be main, all, or .*, got "mian"/);
  assert.equal(r.events.find((e) => e.event === "app").running, false);
});

test("register in a process with worker threads: the main thread is watched, the workers say nothing", async () => {
  const code = `const { Worker } = require("node:worker_threads");
    const { MemWatchdog } = require(${JSON.stringify(PKG)});
    new Worker("require('node:worker_threads').parentPort.postMessage(1)", { eval: true }).on("exit", () =>
      console.log(JSON.stringify({ event: "done", running: MemWatchdog.running })));`;
  const r = runNode(["-r", REGISTER, "-e", code], { env: { NODE_DEBUG: "memwatchdog" } });
  const { code: status } = await r.exited;
  assert.equal(status, 0, r.stderr);
  assert.equal(r.events.find((e) => e.event === "done")?.running, true, r.stderr);
  assert.match(r.stderr, /MEMWATCHDOG \d+: skipped: a worker thread/);
  assert.doesNotMatch(r.stderr, /not started/);
});

// ---- the real tools -------------------------------------------------------------------------

/** A temp app dir: package.json with `scripts`, app.js running fixtures/watched.cjs. */
function appDir(scripts = {}) {
  const dir = tempDir("mw-roles-");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "roles-app", version: "1.0.0", private: true, scripts }));
  writeFileSync(join(dir, "app.js"), `require(${JSON.stringify(join(FIXTURES, "watched.cjs"))});\n`);
  return dir;
}

/** Settings for a tool run: register in NODE_OPTIONS, the fixed port, register's debug log on. */
function toolEnv(port, env = {}) {
  return { NODE_OPTIONS, MEMWATCHDOG_PROMETHEUS_PORT: String(port), NODE_DEBUG: "memwatchdog", npm_config_update_notifier: "false", ...env };
}

/**
 * Waits for the app's report: the watchdog runs in the app on `port` (not in the tool, which
 * would have taken it first), /metrics answers there, and the tool said why it skipped. Then
 * stops the app (SIGTERM) and returns the tool's exit status.
 */
async function appWatched(run, port, toolLine) {
  let app;
  try {
    app = await run.waitFor((e) => e.event === "app", 20_000, "the app's report");
    assert.equal(app.running, true, `the watchdog does not run in the app:\n${run.stderr}`);
    assert.equal(app.port, port);
    const res = await scrape(port);
    assert.equal(res.status, 200);
    assert.match(res.text, /^memwatchdog_info\{service="[^"]+",version="[^"]+"\} 1$/m);
    assert.match(run.stderr, toolLine);
    assert.match(run.stderr, new RegExp(`MEMWATCHDOG ${app.pid}: watching: the main process of its tree \\(`));
    assert.doesNotMatch(run.stderr, /not started/);
    process.kill(app.pid, "SIGTERM");
    return await run.exited;
  } finally {
    run.kill();
    if (app) {
      try {
        process.kill(app.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  }
}

const NPM = onPath("npm");
const NPX = onPath("npx");
const NODEMON = existsSync(join(PKG, "node_modules", ".bin", "nodemon")) ? join(PKG, "node_modules", ".bin", "nodemon") : null;

test("npm start: npm's own process skips, the app it starts is watched on the port", needs("npm", NPM), async () => {
  assertTool("npm", NPM);
  const dir = appDir({ start: "node app.js" });
  const port = await freePort();
  const run = runCommand(NPM, ["start"], { cwd: dir, env: toolEnv(port) });
  const { code } = await appWatched(run, port, /MEMWATCHDOG \d+: skipped: npm's own process \(\/\S+\/npm-cli\.js\)/);
  assert.equal(code, 0, run.stderr);
});

test("npx running a local bin: npx skips, the bin is watched", needs("npx", NPX), async () => {
  assertTool("npx", NPX);
  const dir = appDir();
  const pkg = join(dir, "node_modules", "roles-bin");
  mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
  mkdirSync(pkg);
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "roles-bin", version: "1.0.0", bin: { "roles-bin": "bin.js" } }));
  writeFileSync(join(pkg, "bin.js"), `#!/usr/bin/env node\nrequire(${JSON.stringify(join(FIXTURES, "watched.cjs"))});\n`, { mode: 0o755 });
  symlinkSync("../roles-bin/bin.js", join(dir, "node_modules", ".bin", "roles-bin"));
  const port = await freePort();
  const run = runCommand(NPX, ["--no-install", "roles-bin"], { cwd: dir, env: toolEnv(port) });
  const { code } = await appWatched(run, port, /MEMWATCHDOG \d+: skipped: npx's own process \(\/\S+\/npx-cli\.js\)/);
  assert.equal(code, 0, run.stderr);
  assert.match(run.stdout, /"script":"[^"]*\/node_modules\/\.bin\/roles-bin"/);
});

test("nodemon: nodemon's own process skips, the app it runs is watched", needs("nodemon (npm ci in packages/core)", NODEMON), async () => {
  assertTool("nodemon", NODEMON);
  const dir = appDir();
  const port = await freePort();
  // --exitcrash: nodemon exits with the app when it fails (EXIT_CODE=1 on SIGTERM) instead of waiting for changes.
  const run = runCommand(NODEMON, ["--exitcrash", "--watch", dir, "app.js"], { cwd: dir, env: toolEnv(port, { EXIT_CODE: "1" }) });
  await appWatched(run, port, /MEMWATCHDOG \d+: skipped: nodemon's own process \(\/\S+\/nodemon\/bin\/nodemon\.js\)/);
});

test("a forked Node child is not watched by default: it inherits the parent's mark", async () => {
  const port = await freePort();
  const run = runNode([join(FIXTURES, "family-parent.cjs")], { env: toolEnv(port) });
  const done = await run.waitFor((e) => e.event === "done", 20_000, "the family");
  assert.deepEqual(done.codes, [0]);
  const parent = run.events.find((e) => e.who === "parent");
  const child = run.events.find((e) => e.who === "forked");
  assert.equal(parent.running, true, run.stderr);
  assert.equal(parent.port, port);
  assert.equal(child.running, false, run.stderr);
  assert.equal(child.mark, String(parent.pid));
  assert.match(run.stderr, new RegExp(`MEMWATCHDOG ${child.pid}: skipped: below watched process ${parent.pid} \\(MEMWATCHDOG_WATCHED_PID; MEMWATCHDOG_PROCESSES=main\\)`));
  assert.doesNotMatch(run.stderr, /not started/);
  assert.equal((await run.exited).code, 0, run.stderr);
});

test("MEMWATCHDOG_PROCESSES=all with MEMWATCHDOG_PROMETHEUS_PORT_BASE: the parent, a forked child and a cluster worker, one port each", async () => {
  const base = await freeConsecutivePorts(3);
  const run = runNode([join(FIXTURES, "family-parent.cjs")], {
    env: toolEnv(0, { MEMWATCHDOG_PROCESSES: "all", MEMWATCHDOG_PROMETHEUS_PORT_BASE: String(base), CLUSTER: "1" }),
  });
  const done = await run.waitFor((e) => e.event === "done", 20_000, "the family");
  assert.deepEqual(done.codes, [0, 0]);
  const ports = Object.fromEntries(run.events.filter((e) => e.event === "app").map((e) => [e.who, e.running ? e.port : run.stderr]));
  assert.deepEqual(ports, { parent: base, forked: base + 1, "cluster worker": base + 2 });
  assert.doesNotMatch(run.stderr, /not started/);
});

test("MEMWATCHDOG_PROCESSES=<pattern>: only the processes whose script matches", async () => {
  const port = await freePort();
  const run = runNode([join(FIXTURES, "family-parent.cjs")], { env: toolEnv(port, { MEMWATCHDOG_PROCESSES: "family-child.*" }) });
  await run.waitFor((e) => e.event === "done", 20_000, "the family");
  const parent = run.events.find((e) => e.who === "parent");
  const child = run.events.find((e) => e.who === "forked");
  assert.equal(parent.running, false);
  assert.match(run.stderr, new RegExp(`MEMWATCHDOG ${parent.pid}: skipped: \\S+/family-parent\\.cjs matches none of MEMWATCHDOG_PROCESSES=family-child\\.\\*`));
  assert.equal(child.running, true, run.stderr);
  assert.equal(child.port, port);
  assert.equal((await run.exited).code, 0, run.stderr);
});
