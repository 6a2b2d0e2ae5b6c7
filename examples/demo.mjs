// `make demo`: a leaky HTTP service, real load, three heap snapshots from the running
// process, and `mw analyze` naming the leak's retainer path. Leaves no process behind.
//
//   node examples/demo.mjs [--out DIR] [--mw PATH]
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    out: { type: 'string', default: join(repo, 'target', 'demo') },
    mw: { type: 'string', default: join(repo, 'target', 'release', 'mw') },
  },
});
const say = (msg) => process.stdout.write(`\x1b[1m==>\x1b[0m ${msg}\n`);

rmSync(opts.out, { recursive: true, force: true });
mkdirSync(opts.out, { recursive: true, mode: 0o700 });

say('starting examples/leaky-service/server.cjs (writes a heap snapshot on SIGUSR2)');
const service = spawn(
  process.execPath,
  ['--heapsnapshot-signal=SIGUSR2', join(repo, 'examples/leaky-service/server.cjs')],
  { cwd: opts.out, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
);
const stop = () => { if (service.exitCode === null) service.kill('SIGKILL'); };
process.on('exit', stop);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stop(); process.exit(130); });

const { port } = await new Promise((ok, fail) => {
  service.once('message', ok);
  service.once('exit', (code) => fail(new Error(`leaky-service exited with ${code} before listening`)));
});
const base = `http://127.0.0.1:${port}`;

async function load(requests, concurrency = 16) {
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      const res = await fetch(`${base}/orders/${next++}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const snapshots = () => readdirSync(opts.out).filter((f) => f.endsWith('.heapsnapshot')).sort();

// Writing a snapshot blocks the service's event loop, so the first request answered after
// the signal proves the file is complete.
async function snapshot(label) {
  const before = snapshots().length;
  service.kill('SIGUSR2');
  while (snapshots().length === before) await new Promise((r) => setTimeout(r, 50));
  await load(1, 1);
  const file = join(opts.out, snapshots().at(-1));
  chmodSync(file, 0o600);
  say(`${label} snapshot: ${file}`);
  return file;
}

say(`warming up with 2,000 requests against ${base}`);
await load(2000);
const files = [await snapshot('base')];
say('driving 10,000 requests (each leaks one AuditEntry)');
await load(10000);
files.push(await snapshot('target'));
say('driving 10,000 more requests');
await load(10000);
files.push(await snapshot('final'));
stop();

say('mw analyze base target final');
try {
  execFileSync(opts.mw, ['analyze', ...files, '--top', '5'], { stdio: 'inherit' });
} catch (err) {
  process.stderr.write(`mw analyze failed: ${err.message}\n`);
  process.exit(1);
}
say(`snapshots kept in ${opts.out} (mode 0600: they contain every string of the heap)`);
