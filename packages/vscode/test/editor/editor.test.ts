/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The extension in a real VS Code: code-server (VS Code 1.139 in a browser, from npm, offline),
// the packed .vsix installed into it, driven through Debian's headless chromium (puppeteer-core).
// A workspace with real snapshots and heap profiles of test/workload/leaky.cjs: three snapshots
// selected in the explorer and analyzed from the context menu show mw's page in the webview and the
// suspect tree in the view; the page's file:line:col link and the tree's function row open
// leaky.cjs at line 15, column 41 (the status bar says so); two heap profiles show the allocation
// sites; a mixed selection shows the error. Needs target/release/mw, chromium and code-server
// (scripts/code-server.sh; CODE_SERVER="NODE ENTRY" overrides): a missing one fails.
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import puppeteer, { Browser, ElementHandle, Frame, Page } from 'puppeteer-core';
import { mwBinary, packageDir, repoRoot } from '../setup';

let dir: string;
let ws: string;
let server: ChildProcess;
let url: string;
let browser: Browser;
let serverLog = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function codeServer(): string[] {
  const cmd = process.env.CODE_SERVER ?? spawnSync('bash', [path.join(packageDir, 'scripts/code-server.sh'), '--no-install'], { encoding: 'utf8' }).stdout.trim();
  assert.ok(cmd, 'code-server is not installed: run packages/vscode/scripts/code-server.sh (.ci/run does)');
  return cmd.split(' ');
}

function chromiumPath(): string {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  const found = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  const p = found.stdout.trim().split('\n')[0];
  assert.ok(found.status === 0 && p, 'chromium is not installed (apt-get install chromium; .ci/run does)');
  return p;
}

before(async () => {
  const mw = mwBinary();
  const [node, entry] = codeServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-editor-'));
  ws = path.join(dir, 'ws');
  fs.mkdirSync(path.join(ws, 'test/workload'), { recursive: true });
  const leaky = path.join(ws, 'test/workload/leaky.cjs');
  fs.copyFileSync(path.join(packageDir, 'test/workload/leaky.cjs'), leaky);
  for (const mode of ['snapshots', 'profiles']) execFileSync(process.execPath, ['--expose-gc', leaky, ws, mode]);
  const userData = path.join(dir, 'user-data');
  const extensions = path.join(dir, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User/settings.json'), JSON.stringify({
    'memwatchdog.mwPath': mw,
    'workbench.startupEditor': 'none',
    // A single click selects (the test builds a multi-selection) instead of opening the file.
    'workbench.list.openMode': 'doubleClick',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  }));
  const vsix = path.join(dir, 'memwatchdog.vsix');
  execFileSync(process.execPath, [path.join(packageDir, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '--skip-license', '-o', vsix], { cwd: packageDir, stdio: ['ignore', 'ignore', 'inherit'] });
  const common = ['--config', '/dev/null', '--user-data-dir', userData, '--extensions-dir', extensions];
  const installed = execFileSync(node, [entry, ...common, '--install-extension', vsix], { encoding: 'utf8' });
  assert.match(installed, /successfully installed/);
  server = spawn(node, [entry, ...common, '--auth', 'none', '--bind-addr', '127.0.0.1:0', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', ws], { stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer) => {
      serverLog += b.toString();
      const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(serverLog);
      if (m) resolve(m[1]);
    };
    server.stdout?.on('data', onData);
    server.stderr?.on('data', onData);
    server.on('exit', (code) => reject(new Error(`code-server exited (${code}):\n${serverLog}`)));
    setTimeout(() => reject(new Error(`code-server did not start in 60 s:\n${serverLog}`)), 60_000);
  });
  browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    defaultViewport: { width: 1400, height: 900 },
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function openWorkbench(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${url}?folder=${encodeURIComponent(ws)}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector(row('base.heapsnapshot'), { timeout: 60_000 });
  // The extension's view is there once the extension host has read the extension.
  await page.waitForFunction(() => [...document.querySelectorAll('.pane-header')].some((h) => h.textContent?.includes('MemWatchdog')), { timeout: 60_000 });
  return page;
}

const row = (name: string) => `.explorer-folders-view .monaco-list-row[aria-label="${name}"]`;

/** Selects the files in the explorer and runs the extension's context-menu command on them. */
async function analyzeFromExplorer(page: Page, files: string[]): Promise<void> {
  await page.click(row(files[0]));
  await page.keyboard.down('Control');
  for (const f of files.slice(1)) await page.click(row(f));
  await page.keyboard.up('Control');
  const selected = await page.$$eval('.explorer-folders-view .monaco-list-row.selected', (els) => els.map((e) => e.getAttribute('aria-label')));
  assert.deepEqual(selected.sort(), [...files].sort(), 'the explorer selection');
  await page.click(row(files[files.length - 1]), { button: 'right' });
  const item = await page.waitForSelector('pierce/.action-label[aria-label="Analyze Heap Snapshots or Profiles"]', { timeout: 10_000 });
  assert.ok(item, 'the explorer context menu has no "Analyze Heap Snapshots or Profiles"');
  // A mouse click on a menu item is sometimes lost while the menu animates; hovering focuses the
  // item and Enter runs it, as a keyboard user does.
  await item.hover();
  await sleep(300);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('.context-view')?.childElementCount === 0 || !document.querySelector('.context-view'), { timeout: 10_000 }).catch(() => undefined);
}

/** The webview's content frame showing the report (it has the #verdict element). */
/** Runs a step on the page; on failure keeps a screenshot of the workbench next to the others. */
async function onPage(name: string, body: (page: Page) => Promise<void>): Promise<void> {
  const page = await openWorkbench();
  try {
    await body(page);
  } catch (e) {
    fs.mkdirSync(path.join(repoRoot, 'target/vscode-screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(repoRoot, `target/vscode-screenshots/failed-${name}.png`) }).catch(() => undefined);
    throw e;
  } finally {
    await page.close();
  }
}

async function reportFrame(page: Page, verdict: RegExp): Promise<Frame> {
  for (let i = 0; i < 120; i++) {
    for (const f of page.frames()) {
      try {
        const text = await f.$eval('#verdict', (e) => e.textContent ?? '');
        if (verdict.test(text)) return f;
      } catch {
        // not this frame, or it went away
      }
    }
    await sleep(500);
  }
  assert.fail(`no webview with a verdict matching ${verdict}`);
}

async function waitStatus(page: Page, text: string): Promise<void> {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('.statusbar-item')].some((e) => e.textContent?.trim() === t),
    { timeout: 20_000 },
    text,
  );
}

/** The rows of the MemWatchdog view, scrolled until one has `text` (the list is virtual). */
async function treeRow(page: Page, text: string): Promise<ElementHandle<Element>> {
  const pane = '.pane:has(.pane-header[aria-label^="MemWatchdog"]) .monaco-list';
  for (let i = 0; i < 40; i++) {
    for (const r of await page.$$(`${pane} .monaco-list-row`)) {
      if ((await r.evaluate((e) => e.textContent ?? '')).includes(text)) return r;
    }
    const list = await page.$(pane);
    if (list) {
      // The list re-renders as it scrolls; a row or the list may be replaced under the mouse.
      await list.hover().catch(() => undefined);
      await page.mouse.wheel({ deltaY: 22 });
    }
    await sleep(250);
  }
  const seen = await page.$$eval(`${pane} .monaco-list-row`, (els) => els.map((e) => e.textContent));
  assert.fail(`no row with ${JSON.stringify(text)} in the MemWatchdog view; shown: ${JSON.stringify(seen)}`);
}

async function errorsShown(page: Page): Promise<string[]> {
  const dialogs = await page.$$eval('.monaco-dialog-box', (els) => els.map((e) => e.textContent ?? ''));
  // Error notifications only (the progress notification may still be fading out).
  const toasts = await page.$$eval('.notification-toast', (els) => els.filter((e) => e.querySelector('.codicon-error')).map((e) => e.textContent ?? ''));
  return [...dialogs, ...toasts];
}

test('three snapshots from the explorer: the page, its go-to-source link, the suspect tree', () => onPage('snapshots', async (page) => {
  await analyzeFromExplorer(page, ['base.heapsnapshot', 'target.heapsnapshot', 'final.heapsnapshot']);
  const frame = await reportFrame(page, /pendingReplies/);
  const link = await frame.waitForSelector('a[href^="vscode://file"]');
  assert.ok(link);
  assert.equal(await link.evaluate((e) => e.getAttribute('href')), `vscode://file${path.join(ws, 'test/workload/leaky.cjs')}:15:41`);
  await link.click();
  await page.waitForSelector('.tab[aria-label^="leaky.cjs"]', { timeout: 20_000 });
  await waitStatus(page, 'Ln 15, Col 41');
  assert.deepEqual(await errorsShown(page), []);
  fs.mkdirSync(path.join(repoRoot, 'target/vscode-screenshots'), { recursive: true });
  await page.screenshot({ path: path.join(repoRoot, 'target/vscode-screenshots/editor-snapshots.png') });

  // The tree view: open the MemWatchdog pane if it is closed, then the suspect's function row.
  const header = await page.waitForSelector('xpath///div[contains(@class,"pane-header")][.//h3[normalize-space()="MemWatchdog"]]');
  assert.ok(header);
  if ((await header.evaluate((e) => e.getAttribute('aria-expanded'))) !== 'true') await header.click();
  await treeRow(page, 'Leak suspects');
  await treeRow(page, '#1 (closure)');
  // Move the cursor away, then go to source from the tree.
  await page.keyboard.down('Control');
  await page.keyboard.press('Home');
  await page.keyboard.up('Control');
  await (await treeRow(page, 'function sendReply')).click().catch(async () => (await treeRow(page, 'function sendReply')).click());
  await waitStatus(page, 'Ln 15, Col 41');
}));

test('two heap profiles: the allocation sites; a mixed selection: the error', () => onPage('profiles', async (page) => {
  await analyzeFromExplorer(page, ['base.heapprofile', 'target.heapprofile']);
  await reportFrame(page, /handleRequest/);
  const header = await page.waitForSelector('xpath///div[contains(@class,"pane-header")][.//h3[normalize-space()="MemWatchdog"]]');
  assert.ok(header);
  if ((await header.evaluate((e) => e.getAttribute('aria-expanded'))) !== 'true') await header.click();
  await treeRow(page, 'Allocation sites');
  await treeRow(page, '#1 handleRequest');
  assert.deepEqual(await errorsShown(page), []);
  await page.screenshot({ path: path.join(repoRoot, 'target/vscode-screenshots/editor-profiles.png') });

  await analyzeFromExplorer(page, ['base.heapsnapshot', 'target.heapprofile']);
  await page.waitForFunction(
    () => [...document.querySelectorAll('.notification-toast')].some((e) => e.textContent?.includes('cannot be mixed')),
    { timeout: 20_000 },
  );
}));
