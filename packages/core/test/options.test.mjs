// Options: the table (options.table.mjs) drives the parser, ENV_VARS, the .d.ts docs and the
// README table; these tests read values through resolveOptions in this process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { PKG } from "./helpers.mjs";

const require = createRequire(import.meta.url);
const { ENV_VARS, MemWatchdogConfigError, resolveOptions } = require(PKG);
const { registerDisabled } = require(join(PKG, "dist", "cjs", "options.js"));
const { OPTIONS } = await import(join(PKG, "options.table.mjs"));

/** The error resolveOptions throws for `options`. */
function error(options) {
  try {
    resolveOptions(options);
  } catch (err) {
    assert.ok(err instanceof MemWatchdogConfigError, `${err.name}: ${err.message}`);
    return err.message;
  }
  assert.fail(`no error for ${JSON.stringify(options)}`);
}

test("the generated interfaces and README table are those of options.table.mjs", () => {
  const r = spawnSync(process.execPath, ["scripts/options.mjs", "--check"], { cwd: PKG, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const readme = readFileSync(join(PKG, "README.md"), "utf8");
  for (const name of ENV_VARS) assert.match(readme, new RegExp(`\\| \`${name}\` \\|`), name);
  assert.deepEqual([...ENV_VARS], OPTIONS.filter((o) => o.env).map((o) => o.env));
});

test("an unknown option or MEMWATCHDOG_* variable is an error naming the nearest valid one", () => {
  assert.match(error({ env: false, snapshot: { dir: "/tmp/x", maxfiles: 3 } }), /^unknown option snapshot\.maxfiles: did you mean snapshot\.maxFiles\?/);
  assert.match(error({ env: false, snapshots: { dir: "/tmp/x" } }), /^unknown option snapshots: did you mean snapshot\?/);
  assert.match(error({ env: false, profile: { samplingIntervall: 5 } }), /^unknown option profile\.samplingIntervall: did you mean profile\.samplingInterval\?/);
  assert.match(error({ env: { MEMWATCHDOG_SNAPSHOT_MAXFILES: "3" } }), /^unknown environment variable MEMWATCHDOG_SNAPSHOT_MAXFILES: did you mean MEMWATCHDOG_SNAPSHOT_MAX_FILES\?/);
  // Nothing close: the valid names instead of a wild guess.
  const far = error({ env: { MEMWATCHDOG_FOO: "1" } });
  assert.match(far, /^unknown environment variable MEMWATCHDOG_FOO: valid: MEMWATCHDOG_THRESHOLD, /);
  assert.doesNotMatch(far, /did you mean/);
  // Other variables are not ours to judge.
  assert.equal(resolveOptions({ env: { NODE_ENV: "production", MEMWATCHDOGX: "1" } }).alert, null);
});

test("every number is checked against its row, and the error names the option or the variable", () => {
  for (const o of OPTIONS.filter((x) => x.type === "number" || x.type === "bytes")) {
    const bad = o.min !== undefined ? o.min - 1 : o.above !== undefined ? o.above : 1.5;
    const context = o.key?.startsWith("snapshot.") ? { dir: "/tmp/x" } : o.key?.startsWith("trace.") ? { path: "/tmp/t.csv" } : {};
    if (o.key) {
      const [section, name] = o.key.split(".");
      const msg = error({ env: false, [section]: { ...context, [name]: bad } });
      assert.ok(msg.startsWith(`${o.key} must be ${o.must}, got ${bad}`), `${o.key}: ${msg}`);
    }
    if (o.env) {
      const env = { MEMWATCHDOG_SNAPSHOT_DIR: "/tmp/x", MEMWATCHDOG_TRACE: "/tmp/t.csv", [o.env]: "lots" };
      const msg = o.env === "MEMWATCHDOG_DISABLED" ? "" : error({ env });
      if (msg) assert.ok(msg.startsWith(`${o.env} must be ${o.must}, got "lots"`), `${o.env}: ${msg}`);
    }
  }
});

test("one yes/no vocabulary for every boolean variable, in any case", () => {
  const yes = ["true", "TRUE", "yes", "On", "1"];
  const no = ["false", "No", "OFF", "0"];
  for (const v of yes) {
    assert.equal(resolveOptions({ env: { MEMWATCHDOG_SNAPSHOT_ENABLED: v } }).snapshot?.dir, join(process.cwd(), "heapsnapshots"), v);
    assert.notEqual(resolveOptions({ env: { MEMWATCHDOG_PROFILE_ENABLED: v } }).profile, null, v);
    assert.equal(registerDisabled({ MEMWATCHDOG_DISABLED: v }), true, v);
  }
  for (const v of no) {
    assert.equal(resolveOptions({ env: { MEMWATCHDOG_SNAPSHOT_DIR: "/tmp/x", MEMWATCHDOG_SNAPSHOT_ENABLED: v } }).snapshot, null, v);
    assert.equal(resolveOptions({ env: { MEMWATCHDOG_PROFILE_ENABLED: v } }).profile, null, v);
    assert.equal(registerDisabled({ MEMWATCHDOG_DISABLED: v }), false, v);
  }
  assert.equal(registerDisabled({}), false);
  for (const name of ["MEMWATCHDOG_SNAPSHOT_ENABLED", "MEMWATCHDOG_PROFILE_ENABLED", "MEMWATCHDOG_LOG", "MEMWATCHDOG_SNAPSHOT_NEAR_HEAP_LIMIT"]) {
    assert.match(error({ env: { MEMWATCHDOG_SNAPSHOT_DIR: "/tmp/x", [name]: "maybe" } }), new RegExp(`^${name} must be true or false`));
  }
  assert.throws(() => registerDisabled({ MEMWATCHDOG_DISABLED: "maybe" }), /^MemWatchdogConfigError: MEMWATCHDOG_DISABLED must be true or false/);
  // The port takes the "no" words; "0" stays a port (any free one).
  assert.equal(resolveOptions({ env: { MEMWATCHDOG_PROMETHEUS_PORT: "Off" } }).prometheus?.port, null);
  assert.equal(resolveOptions({ env: { MEMWATCHDOG_PROMETHEUS_PORT: "0" } }).prometheus?.port, 0);
});

test("an option wins over its variable, a variable over the default", () => {
  const env = { MEMWATCHDOG_SNAPSHOT_DIR: "/tmp/env", MEMWATCHDOG_SNAPSHOT_MAX_FILES: "4", MEMWATCHDOG_TRACE_MAX_BYTES: "1MiB", MEMWATCHDOG_TRACE: "/tmp/t.csv" };
  const r = resolveOptions({ env, snapshot: { maxFiles: 7 } });
  assert.equal(r.snapshot.dir, "/tmp/env");
  assert.equal(r.snapshot.maxFiles, 7);
  assert.equal(r.snapshot.cooldownMs, 15 * 60_000);
  assert.equal(r.trace.maxBytes, 1024 * 1024);
  assert.equal(r.profile.dir, "/tmp/env");
  // 0 is a valid analyzeMaxBytes ("never"), as the docs say.
  assert.equal(resolveOptions({ env: { ...env, MEMWATCHDOG_SNAPSHOT_ANALYZE_MAX_BYTES: "0" } }).snapshot.analyzeMaxBytes, 0);
});

test("sizes are read by the addon as Kubernetes writes them, in variables and in options", () => {
  const base = { MEMWATCHDOG_SNAPSHOT_DIR: "/tmp/x" };
  const limit = (v) => resolveOptions({ env: { ...base, MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT: v } }).snapshot.memoryLimitBytes;
  assert.equal(limit("512Mi"), 536870912);
  assert.equal(limit("1G"), 1e9); // Kubernetes' G is decimal
  assert.equal(limit("0.5Gi"), 536870912);
  assert.equal(limit("536870912"), 536870912);
  assert.equal(limit("64MiB"), 64 * 1024 ** 2);
  assert.equal(limit("1 GB"), 1e9);
  assert.equal(limit("1.5k"), 1500);
  assert.equal(limit("1e9"), 1e9);
  assert.equal(limit("0.3Ki"), 308); // 307.2 bytes, rounded up
  // Options: a string goes through the same reader, a number stays a number.
  const option = (memoryLimitBytes) => resolveOptions({ env: false, snapshot: { dir: "/tmp/x", memoryLimitBytes } }).snapshot.memoryLimitBytes;
  assert.equal(option("2Gi"), 2 * 1024 ** 3);
  assert.equal(option(1234), 1234);
  // Docker's 512m is Kubernetes' 512 millibytes: refused, naming the variable and both spellings.
  assert.equal(
    error({ env: { ...base, MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT: "512m" } }),
    'MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT must be a positive number of bytes (e.g. 536870912, 512Mi or 2G), got "512m": ' +
      "unit `m` is ambiguous (Kubernetes reads it as milli, Docker as MiB); write 512Mi (536870912 bytes) or 512M (512000000 bytes)",
  );
  assert.match(error({ env: false, snapshot: { dir: "/tmp/x", memoryLimitBytes: "2g" } }), /^snapshot\.memoryLimitBytes must be .*, got "2g": unit `g` is ambiguous .*write 2Gi \(2147483648 bytes\) or 2G \(2000000000 bytes\)$/);
  assert.match(error({ env: false, trace: { path: "/tmp/t.csv", maxBytes: "1 parsec" } }), /^trace\.maxBytes must be .*, got "1 parsec": unknown unit `parsec`; units: /);
  assert.match(error({ env: { ...base, MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT: "-1Gi" } }), /got "-1Gi": a size cannot be negative/);
  assert.match(error({ env: { ...base, MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT: "16Ei" } }), /got "16Ei": too large/);
  assert.match(error({ env: { ...base, MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT: "NaN" } }), /got "NaN": a size is a number of bytes/);
  // A size the reader takes but the row's bounds do not: the row's message alone.
  assert.match(error({ env: { ...base, MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT: "0Mi" } }), /^MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT must be a positive number of bytes \(.*\), got "0Mi"$/);
});

test("the Alertmanager URL is checked once, by the addon, and the error names what the user wrote", () => {
  assert.equal(resolveOptions({ env: false, alert: { url: "http://am:9093/" } }).alert.url, "http://am:9093/");
  assert.match(error({ env: false, alert: { url: "am:9093" } }), /^alert\.url: "am:9093" is not an http:\/\/ or https:\/\/ base URL like http:\/\/alertmanager:9093$/);
  assert.match(error({ env: { MEMWATCHDOG_ALERT_URL: "http://am:port" } }), /^MEMWATCHDOG_ALERT_URL: "http:\/\/am:port" is not an http/);
});

test("groups are objects or, where the table allows, false", () => {
  assert.match(error({ env: false, native: 3 }), /^native must be an object, got 3$/);
  assert.match(error({ env: false, labels: false }), /^labels must be an object, got false$/);
  assert.match(error({ env: false, snapshot: "yes" }), /^snapshot must be an object or false, got "yes"$/);
  assert.match(error({ env: false, logger: 3 }), /^logger must be a function \(line\) => void or false, got 3$/);
  assert.match(error({ env: "x" }), /^env must be an object of environment variables or false, got "x"$/);
  for (const key of ["prometheus", "snapshot", "profile", "trace"]) assert.equal(resolveOptions({ env: false, [key]: false })[key], null, key);
});

test("constant labels: objects or name=value text, names checked by the addon against the watchdog's own", () => {
  const env = { MEMWATCHDOG_LABELS: "team=payments, namespace=shop", MEMWATCHDOG_ALERT_URL: "http://am:9093", MEMWATCHDOG_PROMETHEUS_LABELS: "cluster=eu-1" };
  const r = resolveOptions({ env });
  assert.deepEqual(r.alert.labels, { team: "payments", namespace: "shop" });
  assert.deepEqual(r.prometheus.labels, { cluster: "eu-1" });
  assert.deepEqual(resolveOptions({ env, alert: { labels: { team: "search" } } }).alert.labels, { team: "search" });
  assert.deepEqual(resolveOptions({ env: false }).prometheus.labels, {});

  assert.match(error({ env: { MEMWATCHDOG_LABELS: "team" } }), /^MEMWATCHDOG_LABELS must be labels as an object of strings or name=value,name=value text \(no "=" in "team"\)/);
  assert.match(error({ env: false, alert: { labels: { severity: "low" } } }), /^alert\.labels: label name "severity" is one the watchdog sets itself \(alertname, severity, signal, service, instance\)$/);
  assert.match(error({ env: false, prometheus: { labels: { kind: "x" } } }), /^prometheus\.labels: label name "kind" is one the watchdog sets itself/);
  assert.match(error({ env: { MEMWATCHDOG_PROMETHEUS_LABELS: "team-name=x" } }), /^MEMWATCHDOG_PROMETHEUS_LABELS: label name "team-name" is invalid/);
  assert.match(error({ env: false, alert: { labels: { team: 3 } } }), /the value of "team" is 3/);
});

test("the service label on metrics can be renamed or dropped", () => {
  assert.equal(resolveOptions({ env: false }).prometheus.serviceLabel, "service");
  assert.equal(resolveOptions({ env: { MEMWATCHDOG_PROMETHEUS_SERVICE_LABEL: "app" } }).prometheus.serviceLabel, "app");
  assert.equal(resolveOptions({ env: { MEMWATCHDOG_PROMETHEUS_SERVICE_LABEL: "off" } }).prometheus.serviceLabel, false);
  assert.equal(resolveOptions({ env: false, prometheus: { serviceLabel: false } }).prometheus.serviceLabel, false);
  assert.match(error({ env: false, prometheus: { serviceLabel: "le" } }), /^prometheus\.serviceLabel must be a label name or false, but label name "le" is one the watchdog sets itself/);
});
