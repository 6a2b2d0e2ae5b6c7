/// <reference lib="dom" />
// The webview pages in a real headless Chromium (Debian's chromium, driven by puppeteer-core; no
// browser download): mw's --html page under the webview's nonce CSP and the simple JSON page draw
// with no console error, no CSP violation and no request; a `file:line:col` link posts the
// location to the extension. VS Code's webview host is not here: its `acquireVsCodeApi` is
// provided by the test (it records the messages the page posts). Needs chromium: a missing one fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import puppeteer, { Browser, Page } from 'puppeteer-core';
import { analyzeArgs } from '../src/args';
import { runMw } from '../src/mw';
import { parseReport } from '../src/model';
import { prepareReportHtml, simpleReportHtml, webviewCsp } from '../src/webview';
import { Inputs, makeInputs, mwBinary, repoRoot, workload } from './setup';

const NONCE = 'dGVzdC1ub25jZS0xMjM0NTY3OA==';
let inputs: Inputs;
let browser: Browser;
let leakHtml: string;
let leakJson: string;
let profileJson: string;

function chromiumPath(): string {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  const found = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  const p = found.stdout.trim().split('\n')[0];
  assert.ok(found.status === 0 && p, 'chromium is not installed: these tests draw the webview pages in a real browser (apt-get install chromium; .ci/run does)');
  return p;
}

before(async () => {
  const mw = mwBinary();
  inputs = makeInputs();
  const html = path.join(inputs.dir, 'leak.html');
  leakJson = (await runMw(mw, analyzeArgs(inputs.snapshots, { htmlFile: html }))).stdout;
  leakHtml = fs.readFileSync(html, 'utf8');
  profileJson = (await runMw(mw, analyzeArgs(inputs.profiles))).stdout;
  browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
  fs.rmSync(inputs.dir, { recursive: true, force: true });
});

interface Loaded {
  page: Page;
  problems: string[];
  requests: string[];
}

/** Opens the page as the webview would get it (from a file here), recording errors and requests. */
async function load(name: string, html: string): Promise<Loaded> {
  const file = path.join(inputs.dir, `${name}.webview.html`);
  fs.writeFileSync(file, html);
  const page = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') problems.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
  page.on('request', (r) => { if (r.url() !== `file://${file}`) requests.push(r.url()); });
  await page.evaluateOnNewDocument(() => {
    const w = window as unknown as { posted: unknown[]; acquireVsCodeApi: () => unknown };
    w.posted = [];
    w.acquireVsCodeApi = () => ({ postMessage: (m: unknown) => w.posted.push(m) });
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, problems, requests };
}

test("mw's HTML page under the webview CSP: drawn, no violation, links post the location", async () => {
  const prepared = prepareReportHtml(leakHtml, NONCE);
  assert.ok(prepared.includes(webviewCsp(NONCE)));
  assert.ok(!prepared.includes("script-src 'unsafe-inline'"), 'the page kept its inline-script policy');
  const { page, problems, requests } = await load('leak', prepared);
  const verdict = await page.$eval('#verdict', (e) => e.textContent ?? '');
  assert.match(verdict, /closure/);
  // The top suspect's path is open and shows the pendingReplies hop.
  const text = await page.$eval('#app', (e) => (e as HTMLElement).innerText);
  assert.match(text, /pendingReplies/);
  const link = await page.$('a[href^="vscode://file"]');
  assert.ok(link, 'the page has no file:line:col link');
  await link.click();
  const posted = await page.evaluate(() => (window as unknown as { posted: unknown[] }).posted);
  assert.equal(posted.length, 1);
  const m = posted[0] as { type: string; target: string };
  assert.equal(m.type, 'open');
  assert.match(m.target, new RegExp(`^${workload.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+$`));
  fs.mkdirSync(path.join(repoRoot, 'target/vscode-screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(repoRoot, 'target/vscode-screenshots/report-webview.png'), fullPage: true });
  assert.deepEqual(problems, []);
  assert.deepEqual(requests, []);
  // The same page without the nonce does not run its script: the policy is enforced.
  const blocked = await load('blocked', prepared.replace(/<script nonce="[^"]+">/g, '<script>'));
  assert.ok(blocked.problems.some((p) => /Content Security Policy|CSP violation/.test(p)), blocked.problems.join('\n'));
});

test('the simple page of a JSON report: drawn, no violation, go to source posts the location', async () => {
  for (const [name, json] of [['snapshots', leakJson], ['profile', profileJson]] as const) {
    const model = parseReport(json);
    const { page, problems, requests } = await load(`simple-${name}`, simpleReportHtml(model, `${name} <report>`, NONCE));
    assert.equal(await page.$eval('#verdict', (e) => e.textContent), model.verdict);
    assert.equal(await page.title(), `MemWatchdog · ${name} <report>`.replace('MemWatchdog · ', ''));
    const link = await page.$('a[href^="vscode://file"]');
    assert.ok(link, `the ${name} page has no go-to-source link`);
    await link.click();
    const posted = await page.evaluate(() => (window as unknown as { posted: { target: string }[] }).posted);
    assert.equal(posted.length, 1);
    assert.ok(posted[0].target.startsWith(`${workload}:`), posted[0].target);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
  }
});

test('prepareReportHtml refuses a page it does not know and a weak nonce', () => {
  assert.throws(() => prepareReportHtml('<html><script>x</script></html>', NONCE), /no Content-Security-Policy/);
  assert.throws(() => prepareReportHtml(leakHtml, 'short'), /nonce/);
});
