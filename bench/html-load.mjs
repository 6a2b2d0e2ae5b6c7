#!/usr/bin/env node
// Opens an `mw analyze --html` page in headless chromium (Debian's, through tests/report's
// puppeteer-core) RUNS times, a new tab each in one browser, and prints how long it took from
// navigation start until the page's script had drawn everything (its 'mw-drawn' performance
// mark), the first contentful paint and the load event: median and range. bench/html.sh runs it.
//
//   node bench/html-load.mjs PAGE.html [--runs N]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'tests/report/package.json'));
const puppeteer = require('puppeteer-core');

const [file, ...rest] = process.argv.slice(2);
if (!file) { console.error('usage: node bench/html-load.mjs PAGE.html [--runs N]'); process.exit(2); }
const runs = rest[0] === '--runs' ? Number(rest[1]) : 10;
const chromium = process.env.CHROMIUM || execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
const version = execFileSync(chromium, ['--version'], { encoding: 'utf8' }).trim();

const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const rows = [];
for (let i = 0; i < runs; i++) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const t0 = performance.now();
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForSelector('body[data-rendered="true"]');
  const wall = performance.now() - t0;
  const m = await page.evaluate(() => ({
    drawn: performance.getEntriesByName('mw-drawn')[0]?.startTime,
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    load: performance.getEntriesByType('navigation')[0]?.loadEventEnd,
  }));
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  rows.push({ ...m, wall });
  await page.close();
}
await browser.close();
const stat = (k) => {
  const v = rows.map((r) => r[k]).filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return `${v[Math.floor(v.length / 2)].toFixed(1)} ms (${v[0].toFixed(1)}–${v[v.length - 1].toFixed(1)})`;
};
console.log(`page: ${file} (${fs.statSync(file).size} bytes)`);
console.log(`browser: ${version}, headless, ${runs} runs (first run included)`);
console.log(`navigation to drawn (mw-drawn mark): ${stat('drawn')}`);
console.log(`first contentful paint: ${stat('fcp')}`);
console.log(`load event end: ${stat('load')}`);
console.log(`goto to drawn, measured from Node: ${stat('wall')}`);
