// Which files can be analyzed together, and the `mw analyze` command line for them. No vscode import.
import * as path from 'node:path';

export type InputKind = 'heapsnapshot' | 'heapprofile';

/** A user-facing error: the message says what to do. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The kind of a file by its extension (mw itself tells files apart by content; the UI needs a kind first). */
export function inputKind(file: string): InputKind | null {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.heapsnapshot') return 'heapsnapshot';
  if (ext === '.heapprofile') return 'heapprofile';
  return null;
}

/**
 * Checks a selection: two or three `.heapsnapshot` files, or two or three `.heapprofile` files, of one
 * kind. Throws a UsageError naming what is wrong otherwise. Returns the kind.
 */
export function checkSelection(files: readonly string[]): InputKind {
  if (files.length < 2 || files.length > 3) {
    throw new UsageError(
      `Select two or three .heapsnapshot files (base, target[, final]) or two .heapprofile files; ${files.length} selected.`,
    );
  }
  const kinds = files.map(inputKind);
  const bad = files.filter((_, i) => kinds[i] === null);
  if (bad.length > 0) {
    throw new UsageError(`Not a .heapsnapshot or .heapprofile file: ${bad.map((f) => path.basename(f)).join(', ')}`);
  }
  if (new Set(kinds).size > 1) {
    throw new UsageError('Heap snapshots and heap profiles cannot be mixed: select files of one kind.');
  }
  return kinds[0] as InputKind;
}

export interface AnalyzeOptions {
  /** Rows of each ranked list (`--top`). */
  top?: number;
  /** Where mw writes the HTML page (`--html`), when this mw supports it. */
  htmlFile?: string;
}

/**
 * `mw analyze` arguments for the files, in the order given (mw orders snapshots by their contents).
 * The JSON report goes to standard output.
 */
export function analyzeArgs(files: readonly string[], options: AnalyzeOptions = {}): string[] {
  checkSelection(files);
  const args = ['analyze', '--json', '--no-progress'];
  if (options.top !== undefined) {
    if (!Number.isInteger(options.top) || options.top < 1) {
      throw new UsageError(`memwatchdog.top must be a whole number of at least 1, not ${options.top}.`);
    }
    args.push('--top', String(options.top));
  }
  if (options.htmlFile !== undefined) args.push('--html', options.htmlFile);
  // `--` so a file named like an option stays a file.
  args.push('--', ...files);
  return args;
}

/** Whether `mw analyze --help` offers `--html`. */
export function helpOffersHtml(helpText: string): boolean {
  return /^\s*--html\b/m.test(helpText);
}
