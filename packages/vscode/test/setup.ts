// Shared by the tests: the real mw (target/release/mw of this repository, or $MW) and real
// snapshots and heap profiles written by test/workload/leaky.cjs, made once per test file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** packages/vscode (tests run from out/test/). */
export const packageDir = path.resolve(__dirname, '../..');
export const repoRoot = path.resolve(packageDir, '../..');
export const workload = path.join(packageDir, 'test/workload/leaky.cjs');

export function mwBinary(): string {
  const mw = process.env.MW ?? path.join(repoRoot, 'target/release/mw');
  assert.ok(fs.existsSync(mw), `${mw} is missing: run make build (or cargo build --release -p memwatchdog-cli) first`);
  return mw;
}

export interface Inputs {
  dir: string;
  snapshots: string[];
  profiles: string[];
}

export function makeInputs(): Inputs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-vscode-'));
  for (const mode of ['snapshots', 'profiles']) {
    execFileSync(process.execPath, ['--expose-gc', workload, dir, mode], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return {
    dir,
    snapshots: ['base', 'target', 'final'].map((n) => path.join(dir, `${n}.heapsnapshot`)),
    profiles: ['base', 'target'].map((n) => path.join(dir, `${n}.heapprofile`)),
  };
}
