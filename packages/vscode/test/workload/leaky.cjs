// A small leaky program for the extension's tests: each request pushes a closure that holds a
// 16 KiB string into a module-level array nobody empties. Usage:
//   node --expose-gc leaky.cjs OUTDIR snapshots   -> base/target/final.heapsnapshot
//   node --expose-gc leaky.cjs OUTDIR profiles    -> base/target.heapprofile (sampling heap profiler)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const inspector = require('node:inspector');

const pendingReplies = [];

function handleRequest(i) {
  const body = String(i).padStart(16 * 1024, 'x');
  pendingReplies.push(function sendReply() {
    return body.length;
  });
}

function phase(from, n) {
  for (let i = from; i < from + n; i++) handleRequest(i);
}

function gc() {
  global.gc();
  global.gc();
}

const [outDir, mode] = process.argv.slice(2);
if (!outDir || (mode !== 'snapshots' && mode !== 'profiles')) {
  console.error('usage: node --expose-gc leaky.cjs OUTDIR snapshots|profiles');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

if (mode === 'snapshots') {
  phase(0, 20);
  gc();
  v8.writeHeapSnapshot(path.join(outDir, 'base.heapsnapshot'));
  phase(1000, 200);
  gc();
  v8.writeHeapSnapshot(path.join(outDir, 'target.heapsnapshot'));
  phase(2000, 200);
  gc();
  v8.writeHeapSnapshot(path.join(outDir, 'final.heapsnapshot'));
} else {
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  (async () => {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 1024 });
    phase(0, 20);
    gc();
    const base = await post('HeapProfiler.getSamplingProfile');
    fs.writeFileSync(path.join(outDir, 'base.heapprofile'), JSON.stringify(base.profile));
    phase(1000, 400);
    gc();
    const target = await post('HeapProfiler.getSamplingProfile');
    fs.writeFileSync(path.join(outDir, 'target.heapprofile'), JSON.stringify(target.profile));
    await post('HeapProfiler.stopSampling');
    session.disconnect();
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
