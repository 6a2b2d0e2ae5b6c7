// Loading: ESM import, CJS require (by name and by path), -r and --import register.
import assert from "node:assert/strict";
import { test } from "node:test";
import { join } from "node:path";
import { FIXTURES, PKG, runToEnd } from "./helpers.mjs";

test("ESM import and CJS require (by name and by path) give one shared watchdog", async () => {
  const r = await runToEnd([join(FIXTURES, "both.mjs")]);
  assert.equal(r.code, 0, r.stderr);
  const ev = r.events.find((e) => e.event === "checked");
  assert.ok(ev, r.stdout);
  assert.equal(ev.same, true);
  assert.equal(ev.running, true);
  assert.ok(ev.port > 0);
  assert.equal(ev.errorClass, true);
});

test("require() of the package directory by absolute path works", async () => {
  const code = `const { MemWatchdog } = require(${JSON.stringify(PKG)});
    MemWatchdog.start({ prometheus: false, logger: false });
    console.log(JSON.stringify({ event: "ok", running: MemWatchdog.running }));
    MemWatchdog.stop();`;
  const r = await runToEnd(["-e", code], { cwd: "/" });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.events, [{ event: "ok", running: true }]);
});

for (const [flag, app] of [
  ["-r", "app.cjs"],
  ["--import", "app.mjs"],
]) {
  test(`node ${flag} @memwatchdog/core/register starts it from env vars`, async () => {
    const r = await runToEnd([flag, "@memwatchdog/core/register", join(FIXTURES, app)], {
      env: { MEMWATCHDOG_SERVICE: "zero-code", MEMWATCHDOG_INSTANCE: "box:1", MEMWATCHDOG_THRESHOLD: "512" },
    });
    assert.equal(r.code, 0, r.stderr);
    const app0 = r.events.find((e) => e.event === "app");
    assert.equal(app0.running, true);
    assert.ok(app0.port > 0);
    assert.equal(app0.options.labels.service, "zero-code");
    assert.equal(app0.options.labels.instance, "box:1");
    assert.equal(app0.options.threshold, 512);
    const m = r.events.find((e) => e.event === "metrics");
    assert.match(m.text, /memwatchdog_gc_total\{service="zero-code",kind="minor"\} [1-9]/);
    assert.match(r.stderr, /\[memwatchdog\] watching zero-code \(box:1\)/);
  });
}

test("register with a bad env var reports it and the app still runs", async () => {
  const r = await runToEnd(["-r", "@memwatchdog/core/register", join(FIXTURES, "app.cjs")], {
    env: { MEMWATCHDOG_PROMETHEUS_PORT: "99999" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[memwatchdog\] not started: MEMWATCHDOG_PROMETHEUS_PORT must be a port number from 0 to 65535/);
  assert.equal(r.events.find((e) => e.event === "app").running, false);
});

test("MEMWATCHDOG_DISABLED=1 keeps register from starting", async () => {
  const r = await runToEnd(["-r", "@memwatchdog/core/register", join(FIXTURES, "app.cjs")], {
    env: { MEMWATCHDOG_DISABLED: "1" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.events.find((e) => e.event === "app").running, false);
});

test("without a loadable addon, importing works and register only logs", async () => {
  const r = await runToEnd(["-r", "@memwatchdog/core/register", join(FIXTURES, "app.cjs")], {
    env: { NAPI_RS_NATIVE_LIBRARY_PATH: "/nonexistent/memwatchdog.node" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[memwatchdog\] not started: MemWatchdog: the native addon for [\w-]+ \(Node [\d.]+\) could not be loaded; this copy of @memwatchdog\/core has no prebuilt addons \(a source checkout\)/);
  assert.match(r.stderr, /To build it from source \(Rust >= 1\.85\): `make build` in a clone of the repository, then set NAPI_RS_NATIVE_LIBRARY_PATH/);
  assert.equal(r.events.find((e) => e.event === "app").running, false);
});
