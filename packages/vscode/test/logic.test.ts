// The extension's logic (argument building, running mw, JSON -> tree, locations) against the real
// mw on real snapshots and heap profiles of test/workload/leaky.cjs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { UsageError, analyzeArgs, checkSelection, helpOffersHtml } from '../src/args';
import { parseLocation, resolveInWorkspace, toEditorPosition, urlToPath } from '../src/location';
import { MwError, resolveMw, runMw } from '../src/mw';
import { ReportError, TreeItemModel, parseReport } from '../src/model';
import { Inputs, makeInputs, mwBinary, packageDir, workload } from './setup';

let mw: string;
let inputs: Inputs;

before(() => {
  mw = mwBinary();
  inputs = makeInputs();
});

after(() => fs.rmSync(inputs.dir, { recursive: true, force: true }));

/** The source text at a 1-based report location, read through the editor conversion. */
function textAt(file: string, line: number, column: number | null): string {
  const pos = toEditorPosition({ file, line, column });
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  return lines[pos.line].slice(pos.character);
}

function find(items: TreeItemModel[], pred: (i: TreeItemModel) => boolean): TreeItemModel | undefined {
  for (const i of items) {
    if (pred(i)) return i;
    const inner = find(i.children, pred);
    if (inner) return inner;
  }
  return undefined;
}

test('a selection must be two or three files of one kind', () => {
  assert.equal(checkSelection(['a.heapsnapshot', 'b.HEAPSNAPSHOT']), 'heapsnapshot');
  assert.equal(checkSelection(['a.heapprofile', 'b.heapprofile']), 'heapprofile');
  assert.throws(() => checkSelection(['a.heapsnapshot']), /two or three .*1 selected/);
  assert.throws(() => checkSelection(['a', 'b', 'c', 'd'].map((n) => `${n}.heapsnapshot`)), /4 selected/);
  assert.throws(() => checkSelection(['a.heapsnapshot', 'b.heapprofile']), /cannot be mixed/);
  assert.throws(() => checkSelection(['a.heapsnapshot', 'notes.txt']), (e: Error) => e instanceof UsageError && /notes\.txt/.test(e.message));
  assert.deepEqual(analyzeArgs(['-a.heapsnapshot', 'b.heapsnapshot'], { top: 5, htmlFile: '/t/r.html' }), [
    'analyze', '--json', '--no-progress', '--top', '5', '--html', '/t/r.html', '--', '-a.heapsnapshot', 'b.heapsnapshot',
  ]);
  assert.throws(() => analyzeArgs(['a.heapsnapshot', 'b.heapsnapshot'], { top: 0 }), /at least 1/);
});

test('this mw offers --html, and the help check tells', async () => {
  const help = await runMw(mw, ['analyze', '--help']);
  assert.ok(helpOffersHtml(help.stdout), 'target/release/mw analyze --help has no --html');
  assert.ok(!helpOffersHtml('Options:\n      --json\n      --htmlx\n'));
});

test('three snapshots: the suspect tree, its retainer hops, and go to source on the closure', async () => {
  const html = path.join(inputs.dir, 'snap.html');
  const { stdout } = await runMw(mw, analyzeArgs(inputs.snapshots, { top: 5, htmlFile: html }));
  assert.ok(fs.statSync(html).size > 1000, 'mw wrote no HTML page');
  const model = parseReport(stdout);
  assert.equal(model.kind, 'snapshots');
  const suspects = model.roots[0];
  assert.equal(suspects.label, 'Leak suspects');
  const top = suspects.children[0];
  assert.match(top.label, /^#1 \(closure\)$/);
  assert.match(top.description ?? '', /^\+[\d.]+ kB ×(200|400)$/);
  assert.match(model.verdict, /^Top suspect: \(closure\) .* via .*pendingReplies/);
  const hops = top.children.filter((c) => c.icon === 'arrow-small-right' || c.icon === 'symbol-class');
  assert.ok(hops.some((h) => h.label === 'pendingReplies'), `no pendingReplies hop in ${hops.map((h) => h.label).join(' > ')}`);
  assert.equal(hops.length, JSON.parse(stdout).suspects[0].path.length);
  const fn = top.children.find((c) => c.label === 'function sendReply');
  assert.ok(fn?.location, 'the closure has no location');
  assert.equal(fn.location.file, workload);
  // The location resolves in the workspace, and its 1-based line:col lands on V8's function position
  // (the parameter list of `function sendReply()`).
  const file = resolveInWorkspace(fn.location.file, [packageDir]);
  assert.equal(file, workload);
  const at = textAt(file, fn.location.line, fn.location.column);
  assert.ok(at.startsWith('() {'), `line ${fn.location.line} col ${fn.location.column} is at ${JSON.stringify(at)}`);
  assert.match(fs.readFileSync(file, 'utf8').split('\n')[fn.location.line - 1], /function sendReply\(\)/);
});

test('two heap profiles: allocation sites with frames that go to source', async () => {
  const { stdout } = await runMw(mw, analyzeArgs(inputs.profiles));
  const model = parseReport(stdout);
  assert.equal(model.kind, 'heapprofile');
  const sites = model.roots[0];
  assert.equal(sites.label, 'Allocation sites');
  const frame = find(sites.children, (i) => i.label === 'handleRequest' && i.location !== undefined);
  assert.ok(frame?.location, `no handleRequest frame in ${JSON.stringify(sites.children.slice(0, 2))}`);
  assert.equal(frame.location.file, workload);
  const at = textAt(workload, frame.location.line, frame.location.column);
  assert.ok(at.startsWith('(i) {'), `handleRequest at ${frame.location.line}:${frame.location.column} is ${JSON.stringify(at)}`);
  const functions = model.roots[1];
  assert.equal(functions.children[0].label, '#1 handleRequest');
  assert.match(model.verdict, /^Top allocation site: .*handleRequest/);
});

test('mw errors carry the exit code and mw\'s message', async () => {
  const missing = path.join(inputs.dir, 'gone.heapsnapshot');
  await assert.rejects(runMw(mw, analyzeArgs([missing, inputs.snapshots[0]])), (e: unknown) => {
    assert.ok(e instanceof MwError);
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /^an input is missing, unreadable.*\(exit code 3\): .*gone\.heapsnapshot/s);
    return true;
  });
  // Mixed kinds (the UI refuses them first; mw too): exit 3 naming both files.
  await assert.rejects(runMw(mw, ['analyze', '--json', inputs.snapshots[0], inputs.profiles[1]]), (e: unknown) => {
    assert.ok(e instanceof MwError);
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /base\.heapsnapshot/);
    assert.match(e.message, /target\.heapprofile/);
    return true;
  });
  await assert.rejects(runMw(mw, ['analyze', '--top', '0', ...inputs.snapshots]), (e: unknown) =>
    e instanceof MwError && e.exitCode === 2 && /^bad command line \(exit code 2\): /.test(e.message));
  await assert.rejects(runMw(path.join(inputs.dir, 'no-such-mw'), ['--help']), /Could not run .*no-such-mw/);
});

test('cancelling kills mw', async () => {
  // mw blocks reading a FIFO nobody writes; the abort must end it.
  const fifo = path.join(inputs.dir, 'never.heapsnapshot');
  execFileSync('mkfifo', [fifo]);
  const abort = new AbortController();
  const run = runMw(mw, analyzeArgs([fifo, inputs.snapshots[0]]), abort.signal);
  setTimeout(() => abort.abort(), 300);
  await assert.rejects(run, (e: unknown) => e instanceof MwError && e.message === 'Cancelled.');
});

test('finding mw: the setting, PATH, then node_modules/.bin of a workspace folder', () => {
  const ws = fs.mkdtempSync(path.join(inputs.dir, 'ws-'));
  const bin = path.join(ws, 'node_modules', '.bin');
  fs.mkdirSync(bin, { recursive: true });
  assert.throws(() => resolveMw('', '/nonexistent-dir', [ws]), (e: Error) => e.message.includes('PATH') && e.message.includes(bin) && e.message.includes('memwatchdog.mwPath'));
  fs.symlinkSync(mw, path.join(bin, 'mw'));
  assert.equal(resolveMw('', '/nonexistent-dir', [ws]), path.join(bin, 'mw'));
  assert.equal(resolveMw(undefined, `/nonexistent-dir${path.delimiter}${path.dirname(mw)}`, [ws]), mw);
  assert.equal(resolveMw('node_modules/.bin/mw', '', [ws]), path.join(bin, 'mw'));
  const notExe = path.join(ws, 'mw.txt');
  fs.writeFileSync(notExe, '');
  assert.throws(() => resolveMw(notExe, '', [ws]), /memwatchdog.mwPath is .* not an executable file/);
});

test('locations: parsing, 1-based to 0-based, urls, and paths recorded on another machine', () => {
  assert.deepEqual(parseLocation('/srv/app/x.js:12:5'), { file: '/srv/app/x.js', line: 12, column: 5 });
  assert.deepEqual(parseLocation('C:\\app\\x.js:3'), { file: 'C:\\app\\x.js', line: 3, column: null });
  assert.deepEqual(parseLocation('file:///srv/a b.js:1:1'), { file: 'file:///srv/a b.js', line: 1, column: 1 });
  assert.equal(parseLocation('x.js'), null);
  assert.equal(parseLocation('x.js:0:1'), null);
  assert.equal(parseLocation(':3:4'), null);
  assert.deepEqual(toEditorPosition({ file: 'f', line: 1, column: 1 }), { line: 0, character: 0 });
  assert.deepEqual(toEditorPosition({ file: 'f', line: 15, column: null }), { line: 14, character: 0 });
  assert.equal(urlToPath('node:events'), null);
  assert.equal(urlToPath('https://x/y.js'), null);
  assert.equal(urlToPath(''), null);
  assert.equal(urlToPath('file:///srv/a%20b.js'), '/srv/a b.js');
  assert.equal(urlToPath('C:\\app\\x.js'), 'C:\\app\\x.js');
  // A container's path finds the workspace's copy by its longest existing tail.
  assert.equal(resolveInWorkspace('/srv/app/test/workload/leaky.cjs', [packageDir]), workload);
  assert.equal(resolveInWorkspace('file:///srv/app/test/workload/leaky.cjs', ['/nonexistent', packageDir]), workload);
  assert.equal(resolveInWorkspace('/srv/app/nowhere/missing.cjs', [packageDir]), null);
  assert.equal(resolveInWorkspace('node:events', [packageDir]), null);
});

test('opening a JSON report: a saved comparison opens, anything else says what it is', async () => {
  const { stdout } = await runMw(mw, ['analyze', '--json', '--no-progress', inputs.snapshots[2]]);
  assert.throws(() => parseReport(stdout), (e: Error) => e instanceof ReportError && /kind "heap_summary"/.test(e.message));
  assert.throws(() => parseReport('{"x": 1'), /^ReportError: Not JSON/);
  assert.throws(() => parseReport('{"schema_version": 2}'), /schema version 2 is not supported/);
  assert.throws(() => parseReport('[]'), /no schema_version/);
  const saved = path.join(inputs.dir, 'saved.json');
  execFileSync(mw, ['analyze', '--json', '--no-progress', '-o', saved, ...inputs.profiles]);
  assert.equal(parseReport(fs.readFileSync(saved, 'utf8')).kind, 'heapprofile');
});
