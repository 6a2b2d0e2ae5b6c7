// Finding the mw binary and running it as a child process, with cancellation. No vscode import.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** An mw run that failed: the message says what happened, in mw's own words where it gave any. */
export class MwError extends Error {
  override name = 'MwError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
  }
}

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    if (process.platform === 'win32') return true;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function exeNames(name: string, platform: NodeJS.Platform): string[] {
  return platform === 'win32' ? [`${name}.exe`, `${name}.cmd`, name] : [name];
}

/**
 * The mw to run: the `memwatchdog.mwPath` setting when set (relative paths against the first
 * workspace folder), else `mw` on PATH, else `node_modules/.bin/mw` in a workspace folder.
 * Throws an Error saying where it looked when none is found.
 */
export function resolveMw(
  setting: string | undefined,
  envPath: string | undefined,
  workspaceFolders: readonly string[],
  platform: NodeJS.Platform = process.platform,
): string {
  const configured = (setting ?? '').trim();
  if (configured !== '') {
    const file = path.isAbsolute(configured) || workspaceFolders.length === 0
      ? configured
      : path.resolve(workspaceFolders[0], configured);
    if (isExecutable(file)) return file;
    throw new Error(`memwatchdog.mwPath is "${configured}", but ${file} is not an executable file. Fix the setting or clear it to use mw from PATH.`);
  }
  const looked: string[] = [];
  for (const dir of (envPath ?? '').split(path.delimiter).filter((d) => d !== '')) {
    for (const name of exeNames('mw', platform)) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  looked.push('PATH');
  for (const folder of workspaceFolders) {
    for (const name of exeNames('mw', platform)) {
      const file = path.join(folder, 'node_modules', '.bin', name);
      if (isExecutable(file)) return file;
    }
    looked.push(path.join(folder, 'node_modules', '.bin'));
  }
  throw new Error(
    `mw was not found (looked in ${looked.join(', ')}). Install it (npm install --save-dev @memwatchdog/cli) or set memwatchdog.mwPath.`,
  );
}

/** What mw's exit codes mean (docs/cli.md). */
export function exitCodeMeaning(code: number): string {
  switch (code) {
    case 1: return 'internal error in mw (a bug: please report it with the command line)';
    case 2: return 'bad command line';
    case 3: return 'an input is missing, unreadable, not a heap snapshot or heap profile, truncated or corrupt';
    case 4: return 'the snapshots cannot be compared (they come from different processes)';
    case 5: return 'the report could not be written';
    case 8: return 'no object has that id or class';
    default: return `mw exited with code ${code}`;
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs `mw ARGS`. Resolves with its output when it exits 0; rejects with an MwError carrying mw's
 * message (its stderr, which names the file and the fix) and the meaning of its exit code otherwise.
 * Aborting `signal` kills mw and rejects with an MwError saying it was cancelled.
 */
export function runMw(mw: string, args: readonly string[], signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new MwError('Cancelled.', null, ''));
      return;
    }
    const child = spawn(mw, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let cancelled = false;
    const onAbort = () => {
      cancelled = true;
      child.kill('SIGTERM');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new MwError(`Could not run ${mw}: ${e.message}`, null, ''));
    });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (cancelled) {
        reject(new MwError('Cancelled.', code, stderr));
      } else if (code === 0) {
        resolve({ stdout, stderr });
      } else if (code === null) {
        reject(new MwError(`mw was killed by ${sig}.`, null, stderr));
      } else {
        const said = stderr.trim();
        reject(new MwError(`${exitCodeMeaning(code)} (exit code ${code})${said ? `: ${said}` : ''}`, code, stderr));
      }
    });
  });
}
