// Source locations of a report (`file:line:col`, 1-based as mw's JSON carries them) and finding
// them in the workspace. No vscode import.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A source position as the report gives it: line and column 1-based (V8's are 0-based; mw adds 1). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number | null;
}

/** A position for an editor: line and character 0-based. */
export interface EditorPosition {
  line: number;
  character: number;
}

/** The editor position of a 1-based report location (column unknown: the line's start). */
export function toEditorPosition(loc: SourceLocation): EditorPosition {
  return { line: Math.max(0, loc.line - 1), character: Math.max(0, (loc.column ?? 1) - 1) };
}

/** `file:line:col` (or `file:line`) as one string, as mw prints it. */
export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}${loc.column !== null ? `:${loc.column}` : ''}`;
}

/**
 * Parses `FILE:LINE[:COL]` (FILE may itself hold colons, e.g. `C:\app\x.js` or a `file://` url);
 * null when the text does not end in a line (and column) number.
 */
export function parseLocation(text: string): SourceLocation | null {
  const m = /^(.*?):(\d+)(?::(\d+))?$/.exec(text.trim());
  if (!m || m[1] === '') return null;
  const line = Number(m[2]);
  const column = m[3] !== undefined ? Number(m[3]) : null;
  if (line < 1 || (column !== null && column < 1)) return null;
  return { file: m[1], line, column };
}

/** A frame's or function's url as a file path: `file://` urls decoded; null for `node:`, http, or empty urls. */
export function urlToPath(url: string): string | null {
  if (url === '') return null;
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return null;
    }
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) && !/^[a-z]:[\\/]/i.test(url)) return null; // node:, http:, ...
  return url;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the file of a report location in the workspace: the path itself when it exists (the
 * snapshot was taken on this machine), else, for a path recorded elsewhere (a container's
 * `/srv/app/src/x.js`), the longest tail of it that exists under a workspace folder
 * (`src/x.js`, then `x.js`). Null when none does.
 */
export function resolveInWorkspace(url: string, workspaceFolders: readonly string[]): string | null {
  const file = urlToPath(url);
  if (file === null) return null;
  if (path.isAbsolute(file) && isFile(file)) return file;
  const parts = file.split(/[\\/]+/).filter((p) => p !== '' && p !== '.' && p !== '..' && !/^[a-z]:$/i.test(p));
  for (let start = 0; start < parts.length; start++) {
    const tail = parts.slice(start);
    for (const folder of workspaceFolders) {
      const candidate = path.join(folder, ...tail);
      if (isFile(candidate)) return candidate;
    }
  }
  return null;
}
