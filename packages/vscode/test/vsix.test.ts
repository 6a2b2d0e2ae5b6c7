// The .vsix that @vscode/vsce packs: exactly the manifest, README and compiled extension (no
// node_modules, no tests, no sources), a main that is in it, and every command the manifest
// contributes registered by the extension (and no other). The zip is listed with Python's zipfile.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { packageDir } from './setup';

function zipRead(vsix: string, member?: string): string {
  const script = member === undefined
    ? 'import sys, zipfile\nprint("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))'
    : 'import sys, zipfile\nsys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())';
  return execFileSync('python3', ['-c', script, vsix, ...(member === undefined ? [] : [member])], { encoding: 'utf8' });
}

test('the .vsix holds the manifest, README and compiled extension only', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-vsix-'));
  try {
    const vsix = path.join(dir, 'memwatchdog.vsix');
    execFileSync(process.execPath, [path.join(packageDir, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '--skip-license', '-o', vsix], {
      cwd: packageDir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const names = zipRead(vsix).trim().split('\n').sort();
    const modules = ['args', 'extension', 'location', 'model', 'mw', 'webview'].map((m) => `extension/out/src/${m}.js`);
    assert.deepEqual(names, ['[Content_Types].xml', 'extension.vsixmanifest', 'extension/package.json', 'extension/readme.md', ...modules].sort());
    assert.ok(fs.statSync(vsix).size < 100_000, `the .vsix is ${fs.statSync(vsix).size} bytes`);
    const manifest = JSON.parse(zipRead(vsix, 'extension/package.json'));
    assert.equal(`extension/${path.posix.normalize(manifest.main)}`, 'extension/out/src/extension.js');
    assert.match(zipRead(vsix, 'extension.vsixmanifest'), /<Identity Language="en-US" Id="memwatchdog-vscode" Version="[^"]+" Publisher="memwatchdog"/);
    const contributed = (manifest.contributes.commands as { command: string }[]).map((c) => c.command).sort();
    const main = zipRead(vsix, 'extension/out/src/extension.js');
    const registered = [...main.matchAll(/registerCommand\('([^']+)'/g)].map((m) => m[1]).sort();
    assert.deepEqual(registered, contributed);
    // Every command a menu names is contributed; the tree view is declared.
    for (const items of Object.values(manifest.contributes.menus) as { command: string }[][]) {
      for (const item of items) assert.ok(contributed.includes(item.command), `menu names unknown command ${item.command}`);
    }
    assert.equal(manifest.contributes.views.explorer[0].id, 'memwatchdog.report');
    assert.ok(main.includes("registerTreeDataProvider('memwatchdog.report'"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
