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
//   the service answers as it does without the watchdog.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
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

let work;
let container;
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
  if (container) spawnSync("buildah", ["--storage-driver", "vfs", "rm", container]);
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the manifests validate against Kubernetes and the PodMonitor CRD; a broken one does not", () => {
  const files = ["deployment.yaml", "service.yaml", "podmonitor.yaml"].map((f) => join(K8S, f));
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
  const build = spawnSync("bash", [join(ROOT, "scripts/images.sh")], { encoding: "utf8", cwd: ROOT });
  assert.equal(build.status, 0, build.stdout + build.stderr);
  const image = JSON.parse(readFileSync(join(ROOT, "target/images/image.json"), "utf8"));
  const spec = deployment().spec.template.spec;
  const init = spec.initContainers[0];
  const app = spec.containers[0];
  assert.equal(init.image, image.name, "the Deployment names the image make images builds");
  const config = JSON.parse(buildah("inspect", "--type", "image", image.name)).OCIv1.config;
  assert.equal(config.User, `${init.securityContext.runAsUser}:${init.securityContext.runAsGroup}`);
  container = buildah("from", "--pull-never", image.name);
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
  const fields = {
    "metadata.name": POD.name,
    "metadata.namespace": POD.namespace,
    ...Object.fromEntries(Object.entries(deployment().spec.template.metadata.labels).map(([k, v]) => [`metadata.labels['${k}']`, v])),
  };
  const env = { PATH: process.env.PATH, HOME: "/nonexistent" };
  for (const e of app.env) {
    const value = e.valueFrom ? fields[e.valueFrom.fieldRef.fieldPath] : e.value.replace(/\$\((\w+)\)/g, (m, n) => env[n] ?? m);
    assert.ok(value !== undefined, `${e.name}: no value`);
    env[e.name] = host(value);
  }
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
