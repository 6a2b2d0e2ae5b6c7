// `mw analyze --html` pages drawn in a real headless Chromium (Debian's `chromium`, driven by
// puppeteer-core; no browser is downloaded): each page loads with no console error and no
// request but its own file, the top suspect's retainer path is open and visible, a closed
// tree row opens on click, the constructors table sorts, a flame-chart frame names its
// file:line:col, and the trace chart marks the detector's state changes. Screenshots go to
// target/report-screenshots/. Needs target/release/mw (make build) and chromium: a missing
// one fails (.ci/run installs it).
import { execFileSync, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import puppeteer from 'puppeteer-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mw = path.join(root, 'target/release/mw');
const shots = path.join(root, 'target/report-screenshots');

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  const found = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  const p = found.stdout.trim().split('\n')[0];
  assert.ok(found.status === 0 && p, 'chromium is not installed: these tests draw the HTML report in a real browser (apt-get install chromium; .ci/run does)');
  return p;
}

/** A property name that would run script if the page put it into markup. */
const HOSTILE_KEY = '</script><script>window.pwned=1</script><!--<img src=x onerror="window.pwned=2">';

let browser;
let dir;
const pages = {};

before(async () => {
  assert.ok(fs.existsSync(mw), `${mw} is missing: run make build first`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-report-'));
  const gen = (...args) => execFileSync('node', [path.join(root, 'fixtures/generate.mjs'), dir, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  gen('--only', 'map-cache');
  gen('--profiles', '--only', 'leaky');
  const snap = (n) => path.join(dir, 'map-cache', `${n}.heapsnapshot`);
  const prof = (n) => path.join(dir, 'leaky', `${n}.heapprofile`);
  const run = (name, files, extra = []) => {
    const out = path.join(dir, `${name}.html`);
    execFileSync(mw, ['analyze', ...files, '--html', out, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    pages[name] = out;
  };
  run('leak', [snap('base'), snap('target'), snap('final')]);
  run('summary', [snap('final')]);
  run('profile', [prof('base'), prof('leak'), prof('final')]);
  run('trace', [snap('base'), snap('final')], ['--trace', path.join(root, 'fixtures/traces/fast_leak_http.csv')]);
  // Hostile strings: a real process whose leak is held under property names made of markup.
  const hostile = path.join(dir, 'hostile');
  fs.mkdirSync(hostile);
  execFileSync('node', ['-e', `
    const v8 = require('node:v8');
    const key = ${JSON.stringify(HOSTILE_KEY)};
    globalThis[key] = [];
    v8.writeHeapSnapshot(${JSON.stringify(path.join(hostile, 'base.heapsnapshot'))});
    class Leaked { constructor(i) { this[key] = 'x'.repeat(64) + i; } }
    for (let i = 0; i < 2000; i++) globalThis[key].push(new Leaked(i));
    v8.writeHeapSnapshot(${JSON.stringify(path.join(hostile, 'leak.heapsnapshot'))});
  `], { stdio: ['ignore', 'ignore', 'pipe'] });
  run('hostile', [path.join(hostile, 'base.heapsnapshot'), path.join(hostile, 'leak.heapsnapshot')]);
  fs.mkdirSync(shots, { recursive: true });
  browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root (CI) cannot use Chromium's sandbox.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens `file`, records console errors, page errors and every request, waits until drawn. */
async function open(file) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors = [];
  const requests = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') errors.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()}`));
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-rendered="true"]', { timeout: 10_000 });
  return { page, errors, url, requests };
}

function assertClean({ errors, url, requests }) {
  assert.deepEqual(errors, [], 'console errors');
  assert.deepEqual(requests, [url], 'the page requested something besides itself');
}

async function visible(page, selector) {
  return page.$eval(selector, (e) => {
    const r = e.getBoundingClientRect();
    return e.checkVisibility() && r.width > 0 && r.height > 0;
  });
}

test('leak page: verdict, the top suspect path open, the tree expands, the table sorts', async () => {
  const opened = await open(pages.leak);
  const { page } = opened;
  const verdict = await page.$eval('#verdict', (e) => e.textContent);
  assert.match(verdict, /^Top leak suspect: Session \+[\d.]+ MB \(1,500 new objects\), held by .*sessionCache/);
  // The top suspect's card and every hop of its path are shown without a click.
  assert.ok(await visible(page, '.card.suspect[data-rank="1"]'), 'top suspect card visible');
  const card = await page.$eval('.card.suspect[data-rank="1"]', (e) => e.textContent);
  assert.match(card, /#1Session \+.*1,500 new objects/);
  const hops = await page.evaluate(() => JSON.parse(document.getElementById('mw-data').textContent).report.suspects[0].path.map((s) => s.class_name));
  const shownRows = await page.$$eval('#suspect-tree .row', (rows) => rows.filter((r) => r.checkVisibility()).map((r) => r.querySelector('.cls')?.textContent));
  for (const cls of hops) assert.ok(shownRows.includes(cls), `hop ${cls} visible in ${shownRows}`);
  await page.screenshot({ path: path.join(shots, 'leak.png'), fullPage: true });

  // A closed row opens on click and closes again.
  const twisty = await page.$('#suspect-tree .twisty[aria-expanded="false"]');
  assert.ok(twisty, 'a closed row');
  const groupHidden = () => twisty.evaluate((t) => t.closest('li').querySelector(':scope > ul').hidden);
  assert.equal(await groupHidden(), true);
  await twisty.click();
  assert.equal(await twisty.evaluate((t) => t.getAttribute('aria-expanded')), 'true');
  assert.equal(await groupHidden(), false);
  await twisty.click();
  assert.equal(await groupHidden(), true);

  // The constructors table sorts by the clicked column, both ways.
  const column = (i) => page.$$eval(`#constructors-table tbody tr td:nth-child(${i + 1})`, (tds) => tds.map((td) => td.textContent));
  await page.click('#constructors-table th:nth-child(1)');
  const names = await column(0);
  assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)));
  assert.equal(await page.$eval('#constructors-table th:nth-child(1)', (th) => th.getAttribute('aria-sort')), 'ascending');
  await page.click('#constructors-table th:nth-child(2)');
  const counts = (await column(1)).map((t) => Number(t.replace(/,/g, '')));
  assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
  await page.click('#constructors-table th:nth-child(2)');
  const up = (await column(1)).map((t) => Number(t.replace(/,/g, '')));
  assert.deepEqual(up, [...counts].sort((a, b) => a - b));
  assert.ok(await visible(page, '#native'));
  assertClean(opened);
  await page.close();
});

test('one-snapshot page: holders tree and tables', async () => {
  const opened = await open(pages.summary);
  const { page } = opened;
  assert.match(await page.$eval('#verdict', (e) => e.textContent), /^Largest holder: /);
  assert.ok(await visible(page, '.card.holder[data-rank="1"]'));
  assert.ok(await visible(page, '#collections-table'));
  await page.screenshot({ path: path.join(shots, 'summary.png'), fullPage: true });
  assertClean(opened);
  await page.close();
});

test('profile page: the flame chart names the allocating frame with file:line:col', async () => {
  const opened = await open(pages.profile);
  const { page } = opened;
  assert.match(await page.$eval('#verdict', (e) => e.textContent), /recordAudit \(leaky\.cjs:15:21\)/);
  const frames = await page.$$('#flame .frame');
  assert.ok(frames.length >= 5, `${frames.length} frames`);
  const frame = await page.evaluateHandle(() => [...document.querySelectorAll('#flame .frame')].find((f) => f.textContent.startsWith('recordAudit')));
  await frame.click();
  const detail = await page.$eval('#frame-detail', (e) => e.textContent);
  assert.match(detail, /recordAudit leaky\.cjs:15:21/);
  const href = await page.$eval('#frame-detail a.src', (a) => a.getAttribute('href'));
  assert.match(href, /^vscode:\/\/file\/.*\/leaky\.cjs:15:21$/);
  await page.screenshot({ path: path.join(shots, 'profile.png'), fullPage: true });
  assertClean(opened);
  await page.close();
});

test('trace page: the heap floor chart with the detector state changes', async () => {
  const opened = await open(pages.trace);
  const { page } = opened;
  assert.ok(await visible(page, '#trace-chart'));
  const points = await page.$eval('#trace-chart polyline.floor', (p) => p.getAttribute('points').trim().split(/\s+/).length);
  assert.equal(points, 6);
  const marks = await page.$$eval('#trace-chart .ev-mark text', (ts) => ts.map((t) => t.textContent));
  assert.deepEqual(marks, ['heap → suspect', 'heap → leaking', 'heap → oom_risk']);
  await page.screenshot({ path: path.join(shots, 'trace.png'), fullPage: true });
  assertClean(opened);
  await page.close();
});

test('hostile snapshot strings are shown as text and run nothing', async () => {
  const opened = await open(pages.hostile);
  const { page } = opened;
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.$$eval('script', (s) => s.length), 2);
  assert.equal(await page.$$eval('img', (i) => i.length), 0);
  const verdict = await page.$eval('#verdict', (e) => e.textContent);
  assert.ok(verdict.includes(HOSTILE_KEY), verdict);
  const edges = await page.$$eval('#suspect-tree .row .edge', (es) => es.filter((e) => e.checkVisibility()).map((e) => e.textContent));
  assert.ok(edges.includes(HOSTILE_KEY), `edges: ${edges}`);
  await page.screenshot({ path: path.join(shots, 'hostile.png'), fullPage: true });
  assertClean(opened);
  await page.close();
});
