// `mw agent` against real services: a Node service under the injected watchdog (NODE_OPTIONS
// --require register.js, the Deployment's environment) writes snapshots and profiles; the
// agent analyzes the pair, uploads everything to a real S3 server (moto) and answers the
// alert a real Alertmanager routes to it; S3 down then back; --scrub; bad set-ups.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { spawnSync } from "node:child_process";
import { FIXTURES, PKG, runNode, tempDir, freePort } from "../../packages/core/test/helpers.mjs";
import { startAlertmanager } from "../../packages/core/test/alertmanager.mjs";
import { MW, S3_ENV, startAgent, startS3, startSink, stopAll } from "./services.mjs";

after(stopAll);

const REGISTER = join(PKG, "dist", "cjs", "register.js");
const POD = { namespace: "shop", name: "checkout-7d9f-x2x" };
const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

/** Waits until `fn()` returns a truthy value; returns it. */
async function until(what, timeoutMs, fn, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

test("a watched pod: the agent analyzes the pair, uploads everything and answers the alert once", { timeout: 240_000 }, async () => {
  assert.ok(existsSync(REGISTER), `${REGISTER} is missing: make build-node`);
  const s3 = await startS3();
  const sink = await startSink();
  const root = join(tempDir("mw-agent-"), "artifacts");
  const dir = join(root, POD.name);
  const agent = await startAgent(
    ["--dir", root, "--store", "s3://fleet/prod", "--endpoint", s3.url, "--namespace", POD.namespace, "--pod", POD.name,
      "--notify-url", sink.url, "--settle", "1s", "--poll", "500ms", "--delete-after-upload"],
    S3_ENV,
  );
  // Alertmanager routes the watchdog's alerts to the agent, as deploy/alertmanager does.
  const am = await startAlertmanager({
    config: [
      "route:",
      "  receiver: mw-agent",
      "  group_by: [alertname, service, instance, severity]",
      "  group_wait: 1s",
      "  group_interval: 2s",
      "  repeat_interval: 5s",
      "receivers:",
      "  - name: mw-agent",
      "    webhook_configs:",
      `      - url: ${agent.url}/alertmanager`,
      "        send_resolved: true",
      "",
    ].join("\n"),
  });
  const app = runNode(["--expose-gc", join(FIXTURES, "service.cjs")], {
    env: {
      LEAK_BYTES_PER_SEC: "5000000",
      FORCE_GC_MS: "1000",
      RUN_SECONDS: "150",
      NODE_OPTIONS: `--require ${REGISTER}`,
      MEMWATCHDOG_SERVICE: "checkout",
      MEMWATCHDOG_INSTANCE: POD.name,
      MEMWATCHDOG_LABELS: `namespace=${POD.namespace},pod=${POD.name}`,
      MEMWATCHDOG_SNAPSHOT_DIR: dir,
      MEMWATCHDOG_ALERT_URL: am.url,
    },
  });
  try {
    const leak = await app.waitFor((e) => e.event === "snapshot" && e.kind === "leak", 120_000, "the leak snapshot");
    const baseline = app.events.find((e) => e.event === "snapshot" && e.kind === "baseline");
    const leakName = leak.path.slice(dir.length + 1);
    const stem = leakName.replace(/\.heapsnapshot$/, "");

    // The pair is analyzed by the agent (a child mw analyze), and the reports uploaded.
    const analyzed = await agent.waitLine((l) => l.msg === "analyzed", 60_000, "the agent's analysis");
    assert.equal(analyzed.file, leak.path);
    assert.match(analyzed.top_suspect, /^Array ×[\d,]+ \(\+[\d.]+ [kMG]?B\) held by .*leaked > \[\] > Array$/);
    const uploaded = (name) => agent.lines.find((l) => l.msg === "uploaded" && l.file.endsWith(`/${name}`));
    await until("the uploads", 60_000, () =>
      [leakName, `${stem}.analysis.json`, `${stem}.analysis.html`].every(uploaded));

    // Keys: <prefix>/<namespace>/<pod>/<date>/<file>; the bytes are the file's.
    const keys = await s3.list("prod/");
    const prefix = `prod/${POD.namespace}/${POD.name}/`;
    for (const k of keys) assert.match(k.key, new RegExp(`^${prefix}\\d{4}-\\d\\d-\\d\\d/[^/]+$`), k.key);
    const byName = Object.fromEntries(keys.map((k) => [k.key.split("/").pop(), k]));
    assert.equal(byName[leakName].size, leak.bytes);
    assert.ok(byName[baseline.path.slice(dir.length + 1)], "the baseline is uploaded");
    assert.ok(Object.keys(byName).some((n) => n.endsWith(".heapprofile")), `a heap profile is uploaded: ${Object.keys(byName)}`);
    assert.equal(sha256(await s3.get(byName[leakName].key)), uploaded(leakName).sha256);
    const report = JSON.parse(await s3.get(byName[`${stem}.analysis.json`].key));
    assert.equal(report.suspects[0].summary, analyzed.top_suspect);

    // --delete-after-upload: the leak snapshot is gone from the volume; the baseline stays
    // (the next leak snapshot of this process is diffed against it).
    await until("the leak snapshot's deletion", 30_000, () => !existsSync(leak.path));
    assert.ok(existsSync(baseline.path), "the newest baseline stays");

    // The alert reaches the sink once per fingerprint, with the analysis of its leak.
    const forwarded = await until("the forwarded alert", 120_000, () =>
      sink.bodies.find((b) => b.alertname === "MemoryLeak" && b.status === "firing" && b.analysis?.top_suspect));
    assert.equal(forwarded.namespace, POD.namespace);
    assert.equal(forwarded.pod, POD.name);
    assert.equal(forwarded.analysis.top_suspect, analyzed.top_suspect);
    assert.equal(forwarded.analysis.report, `s3://fleet/${byName[`${stem}.analysis.json`].key}`);
    assert.equal(forwarded.analysis.page, `s3://fleet/${byName[`${stem}.analysis.html`].key}`);
    assert.match(forwarded.text, /^\[firing\] MemoryLeak checkout \(shop\/checkout-7d9f-x2x\)/);
    assert.match(forwarded.text, /\ntop suspect: Array ×/);
    // Alertmanager repeats the group every few seconds; the agent forwards each alert once.
    await new Promise((r) => setTimeout(r, 12_000));
    const firing = sink.bodies.filter((b) => b.status === "firing");
    const fingerprints = firing.map((b) => b.fingerprint);
    assert.deepEqual([...new Set(fingerprints)].sort(), fingerprints.sort(), `one body per fingerprint: ${fingerprints}`);
    const m = await agent.metrics();
    assert.match(m, /^memwatchdog_agent_alerts_total\{outcome="duplicate"\} [1-9]/m);
    assert.match(m, /^memwatchdog_agent_alerts_total\{outcome="forwarded"\} [1-9]/m);
    assert.match(m, /^memwatchdog_agent_uploads_total\{kind="snapshot"\} [2-9]/m);
    assert.match(m, /^memwatchdog_agent_analyses_total\{outcome="found"\} 1$/m);
    assert.match(m, /^memwatchdog_agent_deleted_total [1-9]/m);
    assert.match(m, /^memwatchdog_agent_analysis_duration_seconds_count 1$/m);
  } finally {
    app.kill();
    am.stop();
  }
  // SIGTERM: the agent finishes the file in hand and exits 0.
  assert.deepEqual(await agent.stop(), { code: 0, signal: null });
  s3.stop();
  sink.stop();
});

/** A heap snapshot of a small program holding `secret`, written by Node itself. */
function writeSnapshot(path, secret) {
  const r = spawnSync(process.execPath, ["-e", `globalThis.kept = [${JSON.stringify(secret)} + "-" + process.pid]; require("v8").writeHeapSnapshot(${JSON.stringify(path)});`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

test("S3 down, then back: the upload fails with reason network, is retried and lands; --scrub uploads no heap string", { timeout: 120_000 }, async () => {
  const port = await freePort();
  const dir = tempDir("mw-agent-down-");
  const name = "svc-1-2026-12-05T10-00-00.000Z-baseline.heapsnapshot";
  const secret = "hunter2-token-5f1d9c";
  writeSnapshot(join(dir, name), secret);
  assert.ok(readFileSync(join(dir, name)).includes(secret));
  const agent = await startAgent(
    ["--dir", dir, "--store", "s3://fleet", "--endpoint", `http://127.0.0.1:${port}`, "--namespace", "ns", "--pod", "p",
      "--settle", "500ms", "--poll", "300ms", "--max-backoff", "1s", "--request-retries", "0", "--scrub"],
    S3_ENV,
  );
  const failed = await agent.waitLine((l) => l.msg === "upload failed; retried with backoff", 30_000, "a failed upload");
  assert.equal(failed.reason, "network");
  assert.match(failed.error, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.doesNotMatch(agent.stderr, /test-secret/, "credentials never reach the log");
  assert.match(await agent.metrics(), /^memwatchdog_agent_upload_failures_total\{reason="network"\} [1-9]/m);
  const s3 = await startS3({ port });
  const up = await agent.waitLine((l) => l.msg === "uploaded", 30_000, "the upload once S3 is back");
  assert.equal(up.scrubbed, true);
  const [object] = await s3.list();
  assert.match(object.key, new RegExp(`^ns/p/\\d{4}-\\d\\d-\\d\\d/${name.replaceAll(".", "\\.")}$`));
  const body = await s3.get(object.key);
  assert.equal(sha256(body), up.sha256);
  assert.ok(!body.includes(secret), "the uploaded snapshot holds no string of the heap");
  assert.ok(readFileSync(join(dir, name)).includes(secret), "the local file is left as it was");
  // The scrubbed copy is still a snapshot mw reads.
  const copy = join(dir, "downloaded.heapsnapshot.json");
  writeFileSync(copy, body);
  const r = spawnSync(MW, ["analyze", "--json", copy], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).kind, "heap_summary");
  // The scrubbed copy of the newest baseline stays in the work directory (the next leak
  // snapshot's scrubbed analysis needs it) until a newer baseline of the process replaces it.
  const work = join(dir, ".mw-agent");
  assert.deepEqual(readdirSync(work), [name]);
  const newer = "svc-1-2026-12-05T11-00-00.000Z-baseline.heapsnapshot";
  writeSnapshot(join(dir, newer), secret);
  await agent.waitLine((l) => l.msg === "uploaded" && l.file.endsWith(newer), 30_000, "the newer baseline's upload");
  await until("the old scrubbed copy's removal", 10_000, () => readdirSync(work).join() === newer);
  await agent.stop();
  s3.stop();
});

test("an https endpoint whose certificate is not trusted: the TLS handshake is named, the upload retried", async () => {
  const dir = tempDir("mw-agent-tls-");
  const key = join(dir, ".key.pem");
  const cert = join(dir, ".cert.pem");
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", cert, "-days", "1"], { encoding: "utf8" });
  assert.equal(made.status, 0, `openssl: ${made.stderr}`);
  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_, res) => res.end());
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const name = "svc-1-2026-12-05T10-00-00.000Z-baseline.heapprofile";
  writeFileSync(join(dir, name), "{}");
  const agent = await startAgent(
    ["--dir", dir, "--store", "s3://fleet", "--endpoint", `https://127.0.0.1:${server.address().port}`, "--pod", "p",
      "--settle", "300ms", "--poll", "200ms", "--request-retries", "0"],
    S3_ENV,
  );
  const failed = await agent.waitLine((l) => l.msg === "upload failed; retried with backoff", 30_000, "the failed upload");
  assert.equal(failed.reason, "network");
  assert.match(failed.error, /the TLS handshake with https:\/\/127\.0\.0\.1:\d+ failed \(.+\): check its certificate/);
  await agent.stop();
  server.close();
});

test("bad set-ups are clear errors: a port in use, a bad store URL", async () => {
  const busy = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => busy.once("listening", r));
  const dir = tempDir("mw-agent-bad-");
  const inUse = spawnSync(MW, ["agent", "--dir", dir, "--pod", "p", "--listen", `127.0.0.1:${busy.address().port}`], { encoding: "utf8", timeout: 20_000 });
  busy.close();
  assert.notEqual(inUse.status, 0);
  assert.match(inUse.stderr, /cannot listen on 127\.0\.0\.1:\d+: .*--listen/);
  const badStore = spawnSync(MW, ["agent", "--dir", dir, "--pod", "p", "--store", "ftp://x"], { encoding: "utf8", timeout: 20_000 });
  assert.notEqual(badStore.status, 0);
  assert.match(badStore.stderr, /ftp:\/\/x/);
  const noPod = spawnSync(MW, ["agent", "--dir", dir], { encoding: "utf8", timeout: 20_000, env: { PATH: process.env.PATH } });
  assert.notEqual(noPod.status, 0);
  assert.match(noPod.stderr, /no pod name: give --pod/);
  mkdirSync(join(dir, "x"), { recursive: true });
  assert.deepEqual(readdirSync(dir), ["x"], "nothing was written");
});
