// deploy/kubernetes, tested as far as this machine can without a cluster (make test-kubernetes,
// after make dist; root, like CI):
// - the manifests validate (tests/kubernetes/validate.py: kubernetes-validate, the PodMonitor CRD
//   schema), and a broken one fails;
// - the init image is built with buildah from the dist tarballs (scripts/images.sh), and its
//   filesystem runs as the Deployment's init container says: read-only root, the manifest's
//   user, its entry point and args, an empty "emptyDir" bound at its mountPath;
// - a real Node service then runs with exactly the Deployment's env (downward API and $(VAR)
//   references resolved as the kubelet does, mount paths mapped to the temporary volumes), as the
//   app container's user, in a network namespace of its own (so the manifest's fixed ports are
//   free): the watchdog serves /metrics with the pod's service label, makes its snapshot directory
//   0700 as the app's user, its alert labels reach the shipped Alertmanager receivers (amtool), and
//   the service answers as it does without the watchdog;
// - the mw-agent sidecar agrees with the app container (user, volume, directory) and with the dist
//   `mw agent --help` (its MW_AGENT_* names, port), the central receiver with the sidecar and with
//   Alertmanager's mw-agent receiver (amtool routes the documented route to it);
// - the agent image is built from the dist tarball (scripts/images.sh agent) and its filesystem
//   runs as the sidecar (read-only root, /proc and devices as a runtime mounts them, the app's
//   user, the Deployment's env with the endpoint pointed at moto's S3 server in the same network
//   namespace): it analyzes a leak snapshot Node wrote as the watchdog does, uploads, deletes,
//   answers /healthz, /metrics and /alertmanager; then as the central receiver (its manifest's
//   env and user, an empty volume), it forwards an alert about the app's pod with that pod's
//   analysis, read from the bucket, to a webhook.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const K8S = join(ROOT, "deploy/kubernetes");
const POD = { name: "checkout-5d8f7c9b4-x2x7k", namespace: "shop" };
const buildah = (...args) => execFileSync("buildah", ["--storage-driver", "vfs", ...args], { encoding: "utf8" }).trim();

/** The YAML documents of FILE, parsed by PyYAML (installed with kubernetes-validate). */
function yaml(file) {
  const py = "import json,sys,yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))";
  return JSON.parse(execFileSync("python3", ["-c", py, file], { encoding: "utf8" }));
}

const deployment = () => yaml(join(K8S, "deployment.yaml"))[0];

/** The downward API fields of POD (default: the example app's pod) of TEMPLATE. */
function podFields(template, pod = POD) {
  return {
    "metadata.name": pod.name,
    "metadata.namespace": pod.namespace,
    ...Object.fromEntries(Object.entries(template.metadata.labels).map(([k, v]) => [`metadata.labels['${k}']`, v])),
  };
}

/** The environment of CONTAINER as the kubelet makes it: downward API fields, Secret keys from
 * SECRETS ({ "name/key": value }), `$(VAR)` references to variables defined before; MAP
 * rewrites each value (mount paths to test directories). Starts from BASE. TEMPLATE and POD:
 * the pod's template and { name, namespace }. */
function kubeletEnv(container, base = {}, map = (v) => v, secrets = {}, template = deployment().spec.template, pod = POD) {
  const fields = podFields(template, pod);
  const env = { ...base };
  for (const e of container.env) {
    let value;
    if (e.valueFrom?.fieldRef) value = fields[e.valueFrom.fieldRef.fieldPath];
    else if (e.valueFrom?.secretKeyRef) value = secrets[`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`];
    else value = e.value.replace(/\$\((\w+)\)/g, (m, n) => env[n] ?? m);
    assert.ok(value !== undefined, `${container.name} ${e.name}: no value`);
    env[e.name] = map(value);
  }
  return env;
}

/** Builds the init or agent image with scripts/images.sh; returns target/images/WHICH.json. */
function buildImage(which) {
  const build = spawnSync("bash", [join(ROOT, "scripts/images.sh"), which], { encoding: "utf8", cwd: ROOT });
  assert.equal(build.status, 0, build.stdout + build.stderr);
  return JSON.parse(readFileSync(join(ROOT, `target/images/${which}.json`), "utf8"));
}

let work;
const containers = [];
before(() => {
  for (const tool of ["buildah", "unshare", "setpriv", "chroot", "ip", "python3", "amtool"]) {
    const r = spawnSync("sh", ["-c", `command -v ${tool}`]);
    assert.equal(r.status, 0, `${tool} is missing: .ci/run installs it (apt-get install buildah util-linux iproute2 prometheus-alertmanager)`);
  }
  assert.equal(process.getuid(), 0, "these tests run as root (buildah with vfs, unshare, chroot), like CI");
  work = mkdtempSync(join(tmpdir(), "mw-k8s-"));
  chmodSync(work, 0o755);
});
after(() => {
  for (const c of containers) spawnSync("buildah", ["--storage-driver", "vfs", "rm", c]);
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the manifests validate against Kubernetes and the PodMonitor CRD; a broken one does not", () => {
  const files = ["deployment.yaml", "service.yaml", "podmonitor.yaml", "agent-receiver.yaml"].map((f) => join(K8S, f));
  const ok = spawnSync("python3", [join(ROOT, "tests/kubernetes/validate.py"), ...files], { encoding: "utf8" });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const bad = join(work, "bad.yaml");
  writeFileSync(bad, readFileSync(files[2], "utf8").replace("scrapeTimeout", "scrapTimeout") + "---\n" +
    readFileSync(files[0], "utf8").replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: nope"));
  const r = spawnSync("python3", [join(ROOT, "tests/kubernetes/validate.py"), bad], { encoding: "utf8" });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /scrapTimeout/);
  assert.match(r.stdout, /allowPrivilegeEscalation: 'nope' is not of type 'boolean'/);
});

test("the pod's security context, volumes and the annotation scrape job agree", () => {
  const pod = deployment().spec.template;
  const spec = pod.spec;
  for (const c of [...spec.initContainers, ...spec.containers]) {
    const sc = c.securityContext;
    assert.equal(sc.runAsNonRoot, true, c.name);
    assert.equal(sc.readOnlyRootFilesystem, true, c.name);
    assert.equal(sc.allowPrivilegeEscalation, false, c.name);
    assert.deepEqual(sc.capabilities.drop, ["ALL"], c.name);
    assert.ok(sc.runAsUser > 0, c.name);
  }
  assert.equal(spec.securityContext.seccompProfile.type, "RuntimeDefault");
  const port = spec.containers[0].ports.find((p) => p.name === "memwatchdog");
  const env = Object.fromEntries(spec.containers[0].env.map((e) => [e.name, e.value]));
  assert.equal(String(port.containerPort), env.MEMWATCHDOG_PROMETHEUS_PORT);
  assert.equal(pod.metadata.annotations["prometheus.io/port"], env.MEMWATCHDOG_PROMETHEUS_PORT);
  const [monitor] = yaml(join(K8S, "podmonitor.yaml"));
  assert.equal(monitor.spec.podMetricsEndpoints[0].port, port.name);
  // Every PodMonitor endpoint and Service port names a container port of the pod.
  const ports = spec.containers.flatMap((c) => c.ports ?? []);
  for (const e of monitor.spec.podMetricsEndpoints) assert.ok(ports.some((p) => p.name === e.port), `PodMonitor port ${e.port}`);
  const [service] = yaml(join(K8S, "service.yaml"));
  for (const p of service.spec.ports) assert.ok(ports.some((c) => c.name === p.targetPort), `Service port ${p.name}`);
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(pod.metadata.labels[k], v);
  const [scrape] = yaml(join(K8S, "prometheus-annotations.yml"))[0].scrape_configs;
  assert.equal(scrape.job_name, "memwatchdog");
  const sources = scrape.relabel_configs.flatMap((r) => r.source_labels ?? []);
  for (const a of Object.keys(pod.metadata.annotations)) {
    assert.ok(sources.includes(`__meta_kubernetes_pod_annotation_${a.replace(/[./]/g, "_")}`), a);
  }
});

test("the init image, run as its container, copies @memwatchdog/core; Node loads it with the Deployment's env", { timeout: 300_000 }, async () => {
  const t0 = Date.now();
  const image = buildImage("init");
  const spec = deployment().spec.template.spec;
  const init = spec.initContainers[0];
  const app = spec.containers[0];
  assert.equal(init.image, image.name, "the Deployment names the image make images builds");
  const config = JSON.parse(buildah("inspect", "--type", "image", image.name)).OCIv1.config;
  assert.equal(config.User, `${init.securityContext.runAsUser}:${init.securityContext.runAsGroup}`);
  const container = buildah("from", "--pull-never", image.name);
  containers.push(container);
  const rootfs = buildah("mount", container);
  // Nothing but copytree and the package: no shell, no libc to load one.
  for (const shell of ["bin/sh", "bin/busybox", "usr/bin/env", "lib64", "lib"]) assert.ok(!existsSync(join(rootfs, shell)), shell);

  // The emptyDirs, as the kubelet makes them (0777; fsGroup handling is the kubelet's).
  const volumes = {};
  for (const v of spec.volumes) {
    assert.ok(v.emptyDir, `${v.name} is an emptyDir`);
    volumes[v.name] = join(work, "volumes", v.name);
    mkdirSync(volumes[v.name], { recursive: true });
    chmodSync(volumes[v.name], 0o777);
  }
  const [mount] = init.volumeMounts;
  const argv = [...config.Entrypoint, ...(init.args ?? config.Cmd)];
  const { runAsUser: uid, runAsGroup: gid } = init.securityContext;
  const script = [
    `mount --bind "$1" "$1"`, `mount -o remount,bind,ro "$1"`, // readOnlyRootFilesystem
    `mount --bind "$2" "$1${mount.mountPath}"`,
    `shift 2`, `exec chroot --userspec=${uid}:${gid} "${rootfs}" "$@"`,
  ].join(" && ");
  const copy = spawnSync("unshare", ["--mount", "--pid", "--fork", "--net", "sh", "-c", script, "sh", rootfs, volumes[mount.name], ...argv], { encoding: "utf8" });
  assert.equal(copy.status, 0, copy.stdout + copy.stderr);
  assert.match(copy.stdout, /^copytree: copied \d+ files/);
  const copied = volumes[mount.name];
  const register = join(copied, "node_modules/@memwatchdog/core/dist/cjs/register.js");
  assert.equal(statSync(register).uid, uid, "copied as the init container's user");
  const initMs = Date.now() - t0;

  // The app container: its env resolved as the kubelet does, mount paths mapped to the volumes.
  const appDir = join(work, "app");
  mkdirSync(appDir, { mode: 0o755 });
  writeFileSync(join(appDir, "server.js"), [
    `const http = require("node:http");`,
    `const held = [];`,
    `http.createServer((req, res) => { held.push("x".repeat(1000)); res.end("checkout ok " + req.url); })`,
    `  .listen(8080, "127.0.0.1", () => console.log("listening"));`,
  ].join("\n"), { mode: 0o644 });
  const paths = [[app.command.at(-1).replace(/\/[^/]+$/, ""), appDir],
    ...app.volumeMounts.map((m) => [m.mountPath, volumes[m.name]])];
  // A mount path at the start of a value or after a space, =, : or comma, longest first, in one pass.
  const mapped = new Map(paths);
  const pattern = new RegExp(`(^|[\\s=:,])(${[...mapped.keys()].sort((a, b) => b.length - a.length)
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})(?=/|$|\\s)`, "g");
  const host = (value) => value.replace(pattern, (m, pre, path) => pre + mapped.get(path));
  const env = kubeletEnv(app, { PATH: process.env.PATH, HOME: "/nonexistent" }, host);
  assert.equal(env.MEMWATCHDOG_LABELS, `namespace=${POD.namespace},pod=${POD.name}`);
  assert.equal(env.MEMWATCHDOG_SERVICE, "checkout");
  assert.ok(env.NODE_OPTIONS.includes(copied), env.NODE_OPTIONS);

  const probe = join(work, "probe.mjs");
  writeFileSync(probe, [
    `const get = async (u) => { for (let i = 0; i < 200; i++) { try { const r = await fetch(u); return { status: r.status, body: await r.text() }; } catch { await new Promise((r) => setTimeout(r, 50)); } } throw new Error("no answer from " + u); };`,
    `const out = { app: await get("http://127.0.0.1:8080/hello") };`,
    `if (process.argv[2] === "metrics") out.metrics = await get("http://127.0.0.1:${env.MEMWATCHDOG_PROMETHEUS_PORT}/metrics");`,
    `console.log(JSON.stringify(out));`,
  ].join("\n"));
  const { runAsUser: appUid, runAsGroup: appGid } = app.securityContext;
  /** Runs the app as its container's user in a network namespace of its own, probes it (from a
   * process without the app's env, so without a watchdog of its own), stops it. */
  const runApp = (appEnv, what) => {
    const sh = [
      `ip link set lo up`,
      `setpriv --reuid=${appUid} --regid=${appGid} --clear-groups ${app.command.map((a) => `'${host(a)}'`).join(" ")} 2>"${work}/app-${what}.err" &`,
      `app=$!`, `env -i PATH="$PATH" node "${probe}" ${what}; rc=$?`, `kill $app; wait $app; exit $rc`,
    ].join("\n");
    const r = spawnSync("unshare", ["--net", "--pid", "--fork", "--mount-proc", "env", "-i", ...Object.entries(appEnv).map(([k, v]) => `${k}=${v}`), "sh", "-c", sh], { encoding: "utf8", timeout: 60_000 });
    const err = existsSync(`${work}/app-${what}.err`) ? readFileSync(`${work}/app-${what}.err`, "utf8") : "";
    assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stdout}${r.stderr}${err}`);
    return { ...JSON.parse(r.stdout.trim().split("\n").at(-1)), stderr: readFileSync(`${work}/app-${what}.err`, "utf8") };
  };
  const plain = runApp({ PATH: env.PATH, HOME: env.HOME }, "plain");
  const watched = runApp(env, "metrics");
  assert.deepEqual(watched.app, plain.app, "the service answers as it does without the watchdog");
  assert.equal(watched.metrics.status, 200);
  assert.match(watched.metrics.body, /^memwatchdog_heap_used_bytes\{[^}]*service="checkout"/m);
  assert.doesNotMatch(watched.stderr, /error|invalid|unknown/i, watched.stderr);
  // The snapshot directory: made at start on the artifacts volume, 0700, owned by the app's user.
  const snapDir = statSync(env.MEMWATCHDOG_SNAPSHOT_DIR);
  assert.ok(env.MEMWATCHDOG_SNAPSHOT_DIR.endsWith(`/${POD.name}`), env.MEMWATCHDOG_SNAPSHOT_DIR);
  assert.deepEqual([snapDir.mode & 0o7777, snapDir.uid], [0o700, appUid]);
  // The alert labels the pod's watchdog would send reach the MemWatchdog receivers of the shipped
  // Alertmanager blocks (amtool, as tests/kit does for the other routes).
  const alertLabels = { ...Object.fromEntries(env.MEMWATCHDOG_LABELS.split(",").map((kv) => kv.split("="))),
    service: env.MEMWATCHDOG_SERVICE, instance: env.MEMWATCHDOG_INSTANCE, signal: "heap" };
  for (const [severity, receiver] of [["warning", "memwatchdog-team"], ["critical", "memwatchdog-page"]]) {
    const labels = Object.entries({ ...alertLabels, alertname: "MemoryLeak", severity }).map(([k, v]) => `${k}=${v}`);
    const r = spawnSync("amtool", ["config", "routes", "test", `--config.file=${join(ROOT, "deploy/alertmanager/alertmanager.yml")}`, ...labels], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim(), receiver, labels.join(" "));
  }
  console.log(`image ${image.name}: ${(image.bytes / 1e6).toFixed(1)} MB; build and copy ${initMs} ms; whole test ${Date.now() - t0} ms; app log: ${watched.stderr.trim().split("\n")[0]}`);
});

/** The dist `mw` (make dist puts it there; the agent image carries the same file). */
const DIST_MW = join(ROOT, "packages/cli/npm/linux-x64-gnu/bin/mw");

/** `mw agent --help` of the dist build, without MW_AGENT_* in its environment. */
function agentHelp() {
  assert.ok(existsSync(DIST_MW), `${DIST_MW} is missing: run make dist`);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MW_AGENT_")));
  return execFileSync(DIST_MW, ["agent", "--help"], { encoding: "utf8", env });
}

/** Bytes of a Kubernetes quantity (`512Mi`, `1Gi`, `64M`, `1000`). */
function bytes(quantity) {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  assert.ok(m, `not a quantity: ${quantity}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2]] ?? 1;
  return Number(m[1]) * unit;
}

/** Test values of the Secrets the manifests read. */
const SECRETS = {
  "memwatchdog-s3/access-key-id": "test-access-key",
  "memwatchdog-s3/secret-access-key": "test-secret-key",
  "mw-agent-notify/url": "http://127.0.0.1:5001/notify",
};

test("the mw-agent sidecar agrees with the app container and mw agent's flags; the receiver with the sidecars and Alertmanager", () => {
  const template = deployment().spec.template;
  const app = template.spec.containers.find((c) => c.name === "app");
  const agent = template.spec.containers.find((c) => c.name === "mw-agent");
  assert.ok(agent, "deployment.yaml has the mw-agent container");
  // The app's user and hardening: the watchdog's directory is 0700 and its files 0600.
  for (const k of ["runAsUser", "runAsGroup", "runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "capabilities"]) {
    assert.deepEqual(agent.securityContext[k], app.securityContext[k], `securityContext.${k}`);
  }
  // The artifacts volume, read-write, where the app has it; the agent watches the app's directory.
  const artifacts = (c) => c.volumeMounts.find((m) => m.name === "memwatchdog-artifacts");
  assert.deepEqual(agent.volumeMounts.map((m) => m.name), ["memwatchdog-artifacts"]);
  assert.equal(artifacts(agent).mountPath, artifacts(app).mountPath);
  assert.ok(!artifacts(agent).readOnly, "the agent writes analyses and deletes uploaded files");
  const appEnv = kubeletEnv(app);
  const env = kubeletEnv(agent, {}, (v) => v, SECRETS);
  assert.equal(env.MW_AGENT_DIR, appEnv.MEMWATCHDOG_SNAPSHOT_DIR);
  assert.deepEqual([env.MW_AGENT_NAMESPACE, env.MW_AGENT_POD], [POD.namespace, POD.name]);
  assert.match(env.MW_AGENT_STORE, /^s3:\/\/[a-z0-9.-]+\/\S+$/);
  assert.equal(env.MW_AGENT_DELETE_AFTER_UPLOAD, "true");
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
    assert.ok(agent.env.find((e) => e.name === name)?.valueFrom?.secretKeyRef, `${name} comes from a Secret`);
  }

  // Every MW_AGENT_* the manifests set is one `mw agent --help` documents.
  const help = agentHelp();
  const documented = new Set([...help.matchAll(/\[env: (MW_AGENT_\w+)=/g)].map((m) => m[1]));
  assert.ok(documented.has("MW_AGENT_DIR") && documented.size > 10, help);
  const [receiver, receiverService] = yaml(join(K8S, "agent-receiver.yaml"));
  const central = receiver.spec.template.spec.containers[0];
  for (const c of [agent, central]) {
    for (const e of c.env.filter((e) => e.name.startsWith("MW_AGENT_"))) assert.ok(documented.has(e.name), `${c.name}: ${e.name} is not in mw agent --help`);
  }
  // The port: mw agent's default --listen (not overridden), probed on /healthz.
  const listen = /--listen <ADDR>[\s\S]*?\[default: [^\]]*:(\d+)\]/.exec(help);
  assert.ok(listen, help);
  for (const c of [agent, central]) {
    assert.ok(!c.env.some((e) => e.name === "MW_AGENT_LISTEN"), c.name);
    const port = c.ports.find((p) => p.name === "mw-agent");
    assert.equal(String(port.containerPort), listen[1], c.name);
    for (const probe of [c.livenessProbe, c.readinessProbe]) assert.deepEqual(probe.httpGet, { path: "/healthz", port: "mw-agent" }, c.name);
  }
  // Memory for an analysis: about 1.2 x the largest snapshot analyzed.
  assert.ok(bytes(agent.resources.limits.memory) >= 1.2 * bytes(env.MW_AGENT_ANALYZE_MAX_BYTES),
    `limit ${agent.resources.limits.memory} < 1.2 x MW_AGENT_ANALYZE_MAX_BYTES ${env.MW_AGENT_ANALYZE_MAX_BYTES}`);
  assert.ok(agent.resources.requests.cpu, "a CPU request");

  // The central receiver: the sidecars' image, store and credentials; an empty volume as --dir;
  // one replica (deduplication is per process); hardened like the pod.
  assert.equal(receiver.spec.replicas, 1);
  assert.equal(central.image, agent.image);
  const centralEnv = kubeletEnv(central, {}, (v) => v, SECRETS, receiver.spec.template);
  for (const k of ["MW_AGENT_STORE", "MW_AGENT_ENDPOINT"]) assert.equal(centralEnv[k], env[k], k);
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
    assert.deepEqual(central.env.find((e) => e.name === name).valueFrom, agent.env.find((e) => e.name === name).valueFrom, name);
  }
  assert.ok(!("MW_AGENT_DELETE_AFTER_UPLOAD" in centralEnv), "the receiver deletes nothing");
  const [dirMount] = central.volumeMounts;
  assert.equal(dirMount.mountPath, centralEnv.MW_AGENT_DIR);
  assert.ok(receiver.spec.template.spec.volumes.find((v) => v.name === dirMount.name).emptyDir);
  const sc = central.securityContext;
  assert.deepEqual([sc.runAsNonRoot, sc.readOnlyRootFilesystem, sc.allowPrivilegeEscalation, sc.capabilities.drop], [true, true, false, ["ALL"]]);
  assert.ok(sc.runAsUser > 0);
  for (const [k, v] of Object.entries(receiverService.spec.selector)) assert.equal(receiver.spec.template.metadata.labels[k], v);
  const svcPort = receiverService.spec.ports.find((p) => p.targetPort === "mw-agent");
  const url = `http://${receiverService.metadata.name}.${receiverService.metadata.namespace}.svc:${svcPort.port}/alertmanager`;

  // Alertmanager's mw-agent receiver posts there, and the route documented beside it copies the
  // leak alerts to it while they still reach their receivers.
  const amFile = join(ROOT, "deploy/alertmanager/alertmanager.yml");
  const am = yaml(amFile)[0];
  const amReceiver = am.receivers.find((r) => r.name === "mw-agent");
  assert.deepEqual(amReceiver.webhook_configs, [{ url, send_resolved: true }]);
  const lines = readFileSync(amFile, "utf8").split("\n");
  const from = lines.findIndex((l) => /^\s*#\s+- matchers:$/.test(l));
  const to = lines.findIndex((l, i) => i > from && /^\s*#\s+continue: true$/.test(l));
  assert.ok(from > 0 && to > from, "the route to mw-agent is documented in alertmanager.yml");
  const prefix = /^(\s*#\s+)-/.exec(lines[from])[1].length;
  const begin = lines.findIndex((l) => l.includes("# --- MemWatchdog route: begin ---"));
  const routes = lines.findIndex((l, i) => i > begin && /^\s*routes:$/.test(l));
  const indent = " ".repeat(lines[routes].indexOf("routes:") + 2);
  const merged = [...lines.slice(0, routes + 1), ...lines.slice(from, to + 1).map((l) => indent + l.slice(prefix)), ...lines.slice(routes + 1)];
  const withRoute = join(work, "alertmanager-with-agent.yml");
  writeFileSync(withRoute, merged.join("\n"));
  const check = spawnSync("amtool", ["check-config", withRoute], { encoding: "utf8" });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  const labels = { service: "checkout", namespace: POD.namespace, pod: POD.name, instance: POD.name, signal: "heap" };
  for (const [alertname, severity, expected] of [
    ["MemoryLeak", "warning", "mw-agent,memwatchdog-team"],
    ["MemoryLeak", "critical", "mw-agent,memwatchdog-page"],
    ["MemWatchdogOomRisk", "critical", "mw-agent,memwatchdog-page"],
    ["MemWatchdogLeaking", "warning", "mw-agent,memwatchdog-team"],
    ["MemWatchdogSnapshotRefused", "info", "memwatchdog-tickets"],
  ]) {
    const args = Object.entries({ ...labels, alertname, severity }).map(([k, v]) => `${k}=${v}`);
    const r = spawnSync("amtool", ["config", "routes", "test", `--config.file=${withRoute}`, ...args], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stdout.trim(), expected, args.join(" "));
  }
});

test("the agent image, run as the sidecar, analyzes a leak snapshot and uploads it to a real S3 server; run as the receiver, forwards an alert with it", { timeout: 300_000 }, () => {
  const t0 = Date.now();
  const motoServer = spawnSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" }).stdout.trim();
  assert.ok(motoServer, "moto_server is missing: .ci/run installs it (python3 -m pip install 'moto[server]==5.2.1')");
  const image = buildImage("agent");
  const buildMs = Date.now() - t0;
  const template = deployment().spec.template;
  const agent = template.spec.containers.find((c) => c.name === "mw-agent");
  assert.equal(agent.image, image.name, "the Deployment names the image make images builds");
  const config = JSON.parse(buildah("inspect", "--type", "image", image.name)).OCIv1.config;
  assert.deepEqual(config.Entrypoint, ["/mw", "agent"]);
  assert.equal(config.User, "65532:65532");
  const container = buildah("from", "--pull-never", image.name);
  containers.push(container);
  const rootfs = buildah("mount", container);
  // mw, the libraries it loads, the CA bundle and the volume's mount point: no shell, nothing else.
  const files = execFileSync("find", [".", "-mindepth", "1", "-not", "-type", "d"], { cwd: rootfs, encoding: "utf8" })
    .split("\n").filter(Boolean).map((f) => f.slice(2)).sort();
  assert.ok(files.includes("mw") && files.includes("etc/ssl/certs/ca-certificates.crt"), files.join(" "));
  const libs = files.filter((f) => f !== "mw" && f !== "etc/ssl/certs/ca-certificates.crt");
  assert.ok(libs.length > 0 && libs.every((f) => /^(usr\/)?lib(64)?\/([\w-]+\/)?[\w.+-]+\.so(\.\d+)*$/.test(f)), libs.join(" "));
  assert.ok(libs.some((f) => /\/libc\.so\.6$/.test(f)), libs.join(" "));
  for (const shell of ["bin/sh", "bin/busybox", "usr/bin/env"]) assert.ok(!existsSync(join(rootfs, shell)), shell);
  assert.ok(statSync(join(rootfs, "var/lib/memwatchdog")).isDirectory());
  // What the container runtime adds to every container: /proc and the basic devices (mw runs
  // itself as the analysis child through /proc/self/exe, with stdin and stdout on /dev/null).
  const devices = ["null", "zero", "full", "random", "urandom"];
  mkdirSync(join(rootfs, "proc"));
  mkdirSync(join(rootfs, "dev"));
  for (const d of devices) writeFileSync(join(rootfs, "dev", d), "");

  // The emptyDir, and in it the watchdog's directory and files as it writes them: 0700, 0600,
  // the app's user, named <service>-<pid>-<time>-<kind>.heapsnapshot; a baseline, then a leak.
  const { runAsUser: uid, runAsGroup: gid } = agent.securityContext;
  const env = kubeletEnv(agent, {}, (v) => v, SECRETS);
  const mount = agent.volumeMounts[0];
  const volume = join(work, "agent-volume");
  mkdirSync(volume, { mode: 0o777 });
  chmodSync(volume, 0o777);
  assert.ok(env.MW_AGENT_DIR.startsWith(`${mount.mountPath}/`), env.MW_AGENT_DIR);
  const podDir = join(volume, env.MW_AGENT_DIR.slice(mount.mountPath.length));
  mkdirSync(podDir, { mode: 0o700 });
  const leaky = join(work, "leaky.cjs");
  writeFileSync(leaky, [
    `const { writeHeapSnapshot } = require("node:v8");`,
    `const { join } = require("node:path");`,
    `const name = (kind) => join(process.argv[2], \`checkout-\${process.pid}-\${new Date().toISOString().replace(/:/g, "-")}-\${kind}.heapsnapshot\`);`,
    `class LeakyCart { constructor(i) { this.items = Array.from({ length: 8 }, (_, j) => ({ sku: i * 8 + j })); } }`,
    `const carts = (globalThis.carts = []);`,
    `writeHeapSnapshot(name("baseline"));`,
    `for (let i = 0; i < 20000; i++) carts.push(new LeakyCart(i));`,
    `writeHeapSnapshot(name("leak"));`,
  ].join("\n"));
  execFileSync("node", [leaky, podDir]);
  const snapshots = readdirSync(podDir).sort();
  assert.equal(snapshots.length, 2, snapshots.join(" "));
  for (const f of [".", ...snapshots]) {
    chmodSync(join(podDir, f), f === "." ? 0o700 : 0o600);
    chownSync(join(podDir, f), uid, gid);
  }
  const [baseline, leak] = [snapshots.find((f) => f.endsWith("-baseline.heapsnapshot")), snapshots.find((f) => f.endsWith("-leak.heapsnapshot"))];

  // The sidecar's env as the kubelet makes it, but for the S3 endpoint (the manifest's MinIO
  // Service: here moto's S3 server in the same network namespace) and shorter settle/poll times.
  const motoPort = 9000;
  const endpoint = `http://127.0.0.1:${motoPort}`;
  const agentEnv = { ...env, MW_AGENT_ENDPOINT: endpoint, MW_AGENT_SETTLE: "500ms", MW_AGENT_POLL: "200ms" };
  const bucket = /^s3:\/\/([^/]+)/.exec(env.MW_AGENT_STORE)[1];
  const prefix = env.MW_AGENT_STORE.replace(/^s3:\/\/[^/]+\/?/, "");
  // The central receiver (agent-receiver.yaml), started once the sidecar has stopped (same port):
  // its env as the kubelet makes it for its pod, the same endpoint override, its emptyDir.
  const [receiver] = yaml(join(K8S, "agent-receiver.yaml"));
  const central = receiver.spec.template.spec.containers[0];
  const receiverPod = { name: "mw-agent-6c9d8b7f5-q4w2n", namespace: receiver.metadata.namespace };
  const receiverEnv = { ...kubeletEnv(central, {}, (v) => v, SECRETS, receiver.spec.template, receiverPod), MW_AGENT_ENDPOINT: endpoint };
  const receiverDir = join(work, "receiver-volume");
  mkdirSync(receiverDir, { mode: 0o777 });
  chmodSync(receiverDir, 0o777);
  assert.equal(central.volumeMounts[0].mountPath, mount.mountPath, "the image's mount point serves both");
  const notify = new URL(receiverEnv.MW_AGENT_NOTIFY_URL);

  const agentOut = join(work, "agent.out");
  const receiverOut = join(work, "receiver.out");
  const probe = join(work, "agent-probe.mjs");
  writeFileSync(probe, `
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
const [mode] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (what, f) => { for (let i = 0; i < 600; i++) { try { const v = await f(); if (v) return v; } catch {} await sleep(100); } throw new Error("timed out waiting for " + what); };
const s3 = ${JSON.stringify(`${endpoint}/${bucket}`)};
const agent = "http://127.0.0.1:${agent.ports.find((p) => p.name === "mw-agent").containerPort}";
if (mode === "bucket") {
  await until("moto", async () => (await fetch(${JSON.stringify(endpoint)})).status > 0);
  const r = await fetch(s3, { method: "PUT" });
  if (r.status !== 200) throw new Error("create bucket: " + r.status + " " + await r.text());
  process.exit(0);
}
const healthz = await until("/healthz", async () => { const r = await fetch(agent + "/healthz"); return r.status === 200 && { status: r.status, body: await r.json() }; });
/** Posts a MemoryLeak alert about the app's pod as Alertmanager's webhook does. */
const postAlert = async () => {
  const alert = { status: "firing", labels: { alertname: "MemoryLeak", severity: "warning", service: "checkout", namespace: ${JSON.stringify(POD.namespace)}, pod: ${JSON.stringify(POD.name)}, instance: ${JSON.stringify(POD.name)}, signal: "heap" },
    annotations: {}, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: "0001-01-01T00:00:00Z", fingerprint: "0123456789abcdef" };
  const r = await fetch(agent + "/alertmanager", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ version: "4", status: "firing", receiver: "mw-agent", groupKey: "{}", groupLabels: {}, commonLabels: alert.labels, commonAnnotations: {}, externalURL: "http://alertmanager", alerts: [alert] }) });
  return r.json();
};
if (mode === "receiver") {
  // The notify URL's webhook: keeps the first body forwarded to it.
  let forwarded;
  const server = createServer((req, res) => { let b = ""; req.on("data", (c) => (b += c)); req.on("end", () => { forwarded ??= { path: req.url, body: JSON.parse(b) }; res.end("ok"); }); });
  await new Promise((r) => server.listen(${Number(notify.port)}, ${JSON.stringify(notify.hostname)}, r));
  const accepted = await postAlert();
  await until("the forwarded alert", async () => forwarded);
  server.close();
  console.log(JSON.stringify({ healthz, accepted, forwarded }));
  process.exit(0);
}
const keys = () => fetch(s3 + "?list-type=2").then((r) => r.text()).then((x) => [...x.matchAll(/<Key>([^<]+)<\\/Key>/g)].map((m) => m[1]));
const wanted = ${JSON.stringify([baseline, leak, leak.replace(/\.heapsnapshot$/, ".analysis.json"), leak.replace(/\.heapsnapshot$/, ".analysis.html")])};
const uploaded = await until("the uploads", async () => { const k = await keys(); return wanted.every((w) => k.some((key) => key.endsWith("/" + w))) && k; });
const metrics = await (await fetch(agent + "/metrics")).text();
const accepted = await postAlert();
const logged = await until("the alert's log line", async () => readFileSync(${JSON.stringify(agentOut)}, "utf8").split("\\n").map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((l) => l.msg === "alert"));
console.log(JSON.stringify({ healthz, uploaded, metrics, accepted, logged }));
`);
  const { runAsUser: rUid, runAsGroup: rGid } = central.securityContext;
  const script = [
    `set -e`, `rootfs="$1" volume="$2" probe="$3" out="$4" moto_port="$5" n_agent="$6" receiver_out="$7" receiver_dir="$8"`, `shift 8`,
    `agent_env=("\${@:1:n_agent}")`, `receiver_env=("\${@:n_agent+1}")`, `chroot="$(command -v chroot)"`,
    `ip link set lo up`,
    `mount --bind "$rootfs" "$rootfs"`, `mount -o remount,bind,ro "$rootfs"`, // readOnlyRootFilesystem
    `mount --bind "$volume" "$rootfs${mount.mountPath}"`,
    `mount -t proc proc "$rootfs/proc"`,
    ...devices.map((d) => `mount --bind /dev/${d} "$rootfs/dev/${d}"`),
    `"$chroot" --userspec=65532:65532 "$rootfs" /mw --version`, // the image's default user
    `"${motoServer}" -H 127.0.0.1 -p "$moto_port" >"$out.moto" 2>&1 &`, `moto=$!`,
    `node "$probe" bucket`,
    // The sidecar, as the app's user, on the app's volume.
    `env -i "\${agent_env[@]}" "$chroot" --userspec=${uid}:${gid} "$rootfs" /mw agent >"$out" 2>&1 &`, `agent=$!`,
    `set +e`, `node "$probe" agent; rc=$?`,
    `kill -TERM $agent; wait $agent; echo "agent exit $?" >"$out.rc"`,
    // The central receiver, as its own user, on an empty volume of its own.
    `if [ $rc = 0 ]; then`,
    `  mount --bind "$receiver_dir" "$rootfs${mount.mountPath}"`,
    `  env -i "\${receiver_env[@]}" "$chroot" --userspec=${rUid}:${rGid} "$rootfs" /mw agent >"$receiver_out" 2>&1 &`, `  receiver=$!`,
    `  node "$probe" receiver; rc=$?`,
    `  kill -TERM $receiver; wait $receiver; echo "receiver exit $?" >"$receiver_out.rc"`,
    `fi`,
    `kill $moto; wait $moto`, `exit $rc`,
  ].join("\n");
  const envArgs = (e) => Object.entries(e).map(([k, v]) => `${k}=${v}`);
  const r = spawnSync("unshare", ["--mount", "--pid", "--fork", "--net", "bash", "-c", script, "bash", rootfs, volume, probe, agentOut, String(motoPort),
    String(Object.keys(agentEnv).length), receiverOut, receiverDir, ...envArgs(agentEnv), ...envArgs(receiverEnv)], { encoding: "utf8", timeout: 240_000 });
  const text = (f) => (existsSync(f) ? readFileSync(f, "utf8") : "");
  const diagnostics = `exit ${r.status}\n${r.stdout}${r.stderr}\nagent log:\n${text(agentOut)}${text(`${agentOut}.rc`)}\nreceiver log:\n${text(receiverOut)}${text(`${receiverOut}.rc`)}\nmoto:\n${text(`${agentOut}.moto`).slice(-2000)}`;
  assert.equal(r.status, 0, diagnostics);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0], /^mw \d+\.\d+\.\d+/, diagnostics);
  const [out, relayed] = lines.slice(-2).map((l) => JSON.parse(l));
  assert.equal(out.healthz.body.status, "ok");
  // Uploaded under <prefix>/<namespace>/<pod>/<date>/, the analysis included; it names the leak.
  for (const key of out.uploaded) assert.match(key, new RegExp(`^${prefix}/${POD.namespace}/${POD.name}/\\d{4}-\\d{2}-\\d{2}/[^/]+$`), key);
  const agentLog = text(agentOut).split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const analyzed = agentLog.find((l) => l.msg === "analyzed");
  assert.match(analyzed?.top_suspect ?? "", /^LeakyCart ×20,000 .* held by global > carts/, diagnostics);
  assert.match(out.metrics, /^memwatchdog_agent_analyses_total\{outcome="found"\} 1$/m, out.metrics);
  assert.match(out.metrics, /^memwatchdog_agent_uploads_total\{kind="snapshot"\} 2$/m, out.metrics);
  assert.doesNotMatch(out.metrics, /^memwatchdog_agent_upload_failures_total\{/m, out.metrics);
  // The sidecar answers an alert from the store with the pod's analysis (no notify URL: logged).
  assert.deepEqual(out.accepted, { accepted: 1 });
  assert.match(out.logged.analysis?.top_suspect ?? "", /^LeakyCart ×20,000/, JSON.stringify(out.logged));
  assert.ok(out.logged.analysis.report.startsWith(`${env.MW_AGENT_STORE}/${POD.namespace}/${POD.name}/`), out.logged.analysis.report);
  // Deleted after upload, but the newest baseline (the next leak snapshot's base) stays.
  const left = readdirSync(podDir);
  assert.ok(left.includes(baseline) && !left.includes(leak), left.join(" "));
  assert.equal(text(`${agentOut}.rc`).trim(), "agent exit 0", diagnostics);
  assert.deepEqual(agentLog.filter((l) => l.level !== "info"), [], diagnostics);
  // The receiver, with nothing of its own, forwards the alert about the app's pod to the notify
  // URL with that pod's analysis, read from the bucket.
  assert.deepEqual(relayed.accepted, { accepted: 1 });
  const body = relayed.forwarded.body;
  assert.equal(relayed.forwarded.path, notify.pathname);
  assert.deepEqual([body.status, body.alertname, body.namespace, body.pod], ["firing", "MemoryLeak", POD.namespace, POD.name]);
  assert.match(body.analysis?.top_suspect ?? "", /^LeakyCart ×20,000/, JSON.stringify(body));
  assert.match(body.text, /top suspect: LeakyCart ×20,000/, body.text);
  assert.ok(body.analysis.page.startsWith(`${env.MW_AGENT_STORE}/${POD.namespace}/${POD.name}/`), body.analysis.page);
  assert.equal(text(`${receiverOut}.rc`).trim(), "receiver exit 0", diagnostics);
  assert.deepEqual(readdirSync(receiverDir), [], "the receiver leaves its volume empty");
  console.log(`image ${image.name}: ${(image.bytes / 1e6).toFixed(1)} MB (${libs.join(", ")}); build ${buildMs} ms; whole test ${Date.now() - t0} ms`);
});
