// `make demo`: the whole product on one machine, end to end, in about two minutes.
//
// 1. starts a real Alertmanager and Prometheus (when installed: Debian packages
//    prometheus-alertmanager and prometheus) on free loopback ports;
// 2. starts examples/leaky-service/server.cjs UNCHANGED under the watchdog
//    (`node -r @memwatchdog/core/register`, configured by MEMWATCHDOG_* variables);
// 3. drives HTTP load until the watchdog declares the leak, writes its baseline and leak
//    heap snapshots and sends the alert;
// 4. shows the slope (from /metrics and from Prometheus), the alert (read back from
//    Alertmanager's API), the snapshot files, and `mw analyze` naming the leak;
// 5. stops everything it started, also on failure or Ctrl-C.
//
//   node examples/demo.mjs [--out DIR] [--mw PATH] [--timeout SECONDS]
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    out: { type: 'string', default: join(repo, 'target', 'demo') },
    mw: { type: 'string', default: join(repo, 'target', 'release', 'mw') },
    timeout: { type: 'string', default: '240' },
  },
});
const bold = (s) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[0m` : s);
const say = (msg) => process.stdout.write(`${bold('==>')} ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const register = join(repo, 'packages/core/dist/cjs/register.js');
for (const [file, fix] of [[register, 'make build'], [opts.mw, 'make build']]) {
  if (!existsSync(file)) {
    process.stderr.write(`demo: ${file} is missing: run \`${fix}\` first (\`make demo\` does)\n`);
    process.exit(1);
  }
}

rmSync(opts.out, { recursive: true, force: true });
mkdirSync(opts.out, { recursive: true, mode: 0o700 });
const snapshotDir = join(opts.out, 'snapshots');

const children = [];
function stopAll() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopAll(); process.exit(130); });

function start(name, cmd, args, env = {}) {
  const log = [];
  const child = spawn(cmd, args, { cwd: opts.out, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (d) => log.push(d.toString()));
  child.log = () => log.join('');
  child.name = name;
  children.push(child);
  return child;
}

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
    srv.on('error', fail);
  });
}

async function waitHttp(url, what, child, seconds = 30) {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited:\n${child.log()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return res;
    } catch { /* not up yet */ }
    await sleep(200);
  }
  throw new Error(`${what} did not answer ${url} within ${seconds} s`);
}

const which = (bin) => ['/usr/bin', '/usr/local/bin', '/bin'].map((d) => join(d, bin)).find(existsSync);
const hint = 'install it with: sudo apt-get install -y prometheus prometheus-alertmanager';

// 1. Alertmanager and Prometheus.
let alertmanagerUrl;
const amBin = which('prometheus-alertmanager') || which('alertmanager');
if (amBin) {
  const port = await freePort();
  const config = join(opts.out, 'alertmanager.yml');
  writeFileSync(config, 'route:\n  receiver: demo\n  group_wait: 1s\nreceivers:\n  - name: demo\n');
  const am = start('alertmanager', amBin, [
    `--config.file=${config}`, `--storage.path=${join(opts.out, 'alertmanager-data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=',
  ]);
  alertmanagerUrl = `http://127.0.0.1:${port}`;
  await waitHttp(`${alertmanagerUrl}/-/ready`, 'Alertmanager', am);
  say(`Alertmanager ready at ${alertmanagerUrl}`);
} else {
  say(`Alertmanager is not installed, so no alert will be sent (${hint})`);
}
const metricsPort = await freePort();
let prometheusUrl;
const promBin = which('prometheus');
if (promBin) {
  const port = await freePort();
  const config = join(opts.out, 'prometheus.yml');
  writeFileSync(config, [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    'rule_files: [ ' + JSON.stringify(join(repo, 'deploy/prometheus/memwatchdog-rules.yml')) + ' ]',
    'scrape_configs:',
    '  - job_name: memwatchdog',
    `    static_configs: [ { targets: [ "127.0.0.1:${metricsPort}" ] } ]`,
    '',
  ].join('\n'));
  const prom = start('prometheus', promBin, [
    `--config.file=${config}`, `--storage.tsdb.path=${join(opts.out, 'prometheus-data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  prometheusUrl = `http://127.0.0.1:${port}`;
  await waitHttp(`${prometheusUrl}/-/ready`, 'Prometheus', prom);
  say(`Prometheus ready at ${prometheusUrl}, scraping the watchdog every second`);
} else {
  say(`Prometheus is not installed, so metrics are read from /metrics only (${hint})`);
}

// 2. The leaky service, unchanged, under the watchdog.
const servicePort = await freePort();
// A container-sized heap (256 MiB): the leak is soon projected to exhaust it, so the watchdog
// pages (oom_risk, severity critical) as well as declaring the leak (severity warning).
const service = start('leaky-service', process.execPath, ['--max-old-space-size=256', '-r', register, join(repo, 'examples/leaky-service/server.cjs')], {
  PORT: String(servicePort),
  MEMWATCHDOG_SERVICE: 'leaky-service',
  MEMWATCHDOG_THRESHOLD: '256',
  MEMWATCHDOG_PROMETHEUS_PORT: String(metricsPort),
  MEMWATCHDOG_PROMETHEUS_HOST: '127.0.0.1',
  MEMWATCHDOG_SNAPSHOT_DIR: snapshotDir,
  ...(alertmanagerUrl ? { MEMWATCHDOG_ALERT_URL: alertmanagerUrl } : {}),
});
service.stderr.on('data', (d) => process.stdout.write(d.toString().split('\n').filter((l) => l.startsWith('[memwatchdog]')).map((l) => `    ${l}\n`).join('')));
await waitHttp(`http://127.0.0.1:${servicePort}/orders/0`, 'leaky-service', service);
const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
say(`leaky-service on http://127.0.0.1:${servicePort} under the watchdog; metrics on ${metricsUrl}`);

// 3. Load until the leak is declared and both snapshots are written.
const metric = async (name) => {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};
let running = true;
let requests = 0;
const worker = async () => {
  while (running) {
    try {
      const res = await fetch(`http://127.0.0.1:${servicePort}/orders/${requests++}`);
      await res.arrayBuffer();
    } catch { await sleep(50); } // the service is frozen while it writes a snapshot
  }
};
const load = Promise.all(Array.from({ length: 16 }, worker));
say('driving HTTP load (every request leaks one AuditEntry); waiting for the watchdog to declare the leak');
const deadline = Date.now() + Number(opts.timeout) * 1000;
const snapshots = () => (existsSync(snapshotDir) ? readdirSync(snapshotDir).filter((f) => f.endsWith('.heapsnapshot')).sort() : []);
let lastReport = 0;
while (true) {
  if (service.exitCode !== null) throw new Error(`leaky-service exited:\n${service.log()}`);
  const state = await metric('memwatchdog_detector_state{service="leaky-service",signal="heap"}').catch(() => undefined);
  const files = snapshots();
  // 2 leaking, 4 oom_risk (a leak that reaches the heap limit within the hour).
  if ((state === 2 || state === 4) && files.some((f) => f.includes('-leak')) && files.some((f) => f.includes('-baseline'))) break;
  if (Date.now() > deadline) throw new Error(`no leak declared within ${opts.timeout} s; service log:\n${service.log()}`);
  if (Date.now() - lastReport > 10_000) {
    lastReport = Date.now();
    const growth = await metric('memwatchdog_heap_growth_bytes_per_second').catch(() => undefined);
    const floor = await metric('memwatchdog_heap_floor_bytes').catch(() => undefined);
    say(`${requests} requests; heap floor ${floor ? (floor / 1e6).toFixed(0) : '?'} MB, growth ${growth ? (growth / 1e6).toFixed(2) : '?'} MB/s`);
  }
  await sleep(500);
}
// 4. What the user sees (the load goes on meanwhile, as a real service's would).
const slope = await metric('memwatchdog_heap_slope_bytes_per_ms');
say(`/metrics: memwatchdog_heap_slope_bytes_per_ms ${slope.toFixed(1)}, memwatchdog_leak_alert_total ${await metric('memwatchdog_leak_alert_total')}`);
const left = await metric('memwatchdog_heap_exhaustion_seconds');
const limit = await metric('memwatchdog_heap_limit_bytes');
say(`/metrics: memwatchdog_heap_limit_bytes ${limit} (${(limit / 2 ** 20).toFixed(0)} MiB), memwatchdog_heap_exhaustion_seconds ${Number.isFinite(left) ? left.toFixed(0) : left}`);
if (prometheusUrl) {
  const q = encodeURIComponent('memwatchdog_heap_growth_bytes_per_second{job="memwatchdog"}');
  let value;
  for (let i = 0; i < 20 && value === undefined; i++) {
    const body = await (await fetch(`${prometheusUrl}/api/v1/query?query=${q}`)).json();
    value = body.data?.result?.[0]?.value?.[1];
    if (value === undefined) await sleep(500);
  }
  say(`Prometheus: memwatchdog_heap_growth_bytes_per_second = ${value} (query it at ${prometheusUrl}/graph)`);
}
if (alertmanagerUrl) {
  // The alerts fire at once (the warning "leaking", and the critical "runs out of memory in
  // ~N min" while the projection is within the hour); the watchdog re-sends them with the
  // snapshot path, then with the top suspect once its Rust thread has analyzed the snapshot
  // pair (a few seconds). The page is shown when there is one.
  let alert;
  const complete = (a) => a.annotations.top_suspect || a.annotations.analysis_skipped;
  for (let i = 0; i < 120 && !(alert && complete(alert)); i++) {
    const alerts = (await (await fetch(`${alertmanagerUrl}/api/v2/alerts`)).json()).filter((a) => a.labels.service === 'leaky-service');
    alert = alerts.find((a) => a.labels.severity === 'critical') ?? alerts[0] ?? alert;
    if (!(alert && complete(alert))) await sleep(500);
  }
  if (!alert) throw new Error(`no alert arrived in Alertmanager; service log:\n${service.log()}`);
  say(`Alertmanager received: ${alert.labels.alertname} {${Object.entries(alert.labels).map(([k, v]) => `${k}="${v}"`).join(', ')}}`);
  for (const [k, v] of Object.entries(alert.annotations)) process.stdout.write(`      ${k}: ${v}\n`);
}
running = false;
await load;
stopAll();
const files = snapshots();
const baseline = join(snapshotDir, files.find((f) => f.includes('-baseline')));
const leak = join(snapshotDir, files.filter((f) => f.includes('-leak')).at(-1));
say(`snapshots written by the watchdog (mode 0600) in ${snapshotDir}:`);
for (const f of files) process.stdout.write(`      ${f}\n`);

// 5. The explanation.
say('mw analyze baseline leak');
try {
  execFileSync(opts.mw, ['analyze', baseline, leak, '--top', '5'], { stdio: 'inherit' });
} catch (err) {
  process.stderr.write(`mw analyze failed: ${err.message}\n`);
  process.exit(1);
}
say(`done; everything the demo started is stopped. Files are in ${opts.out}`);
