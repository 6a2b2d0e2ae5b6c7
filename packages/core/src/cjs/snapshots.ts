/**
 * Heap snapshots: asks the native guard whether writing one is safe, writes it with
 * `v8.writeHeapSnapshot` into the configured directory (0700) as a 0600 file, keeps at
 * most `maxFiles` of them, and reports what happened.
 *
 * Files: `<dir>/<service>-<pid>-<ISO time>-<baseline|leak>.heapsnapshot`. The file is
 * written as `<name>.partial` and renamed when complete, so a reader never sees half a
 * snapshot under the final name.
 */
import { chmodSync, mkdirSync, readdirSync, renameSync, statSync, statfsSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { getHeapStatistics, writeHeapSnapshot } from "node:v8";
import { isMainThread } from "node:worker_threads";
import type { NativeWatchdog } from "./binding.js";
import { binding } from "./binding.js";
import type { ResolvedOptions } from "./options.js";

export type SnapshotKind = "baseline" | "leak";

/** Payload of the `snapshot` event. */
export interface SnapshotEvent {
  /** Absolute path of the file (mode 0600). */
  path: string;
  kind: SnapshotKind;
  /** How long writing took (the event loop was stopped meanwhile). */
  durationMs: number;
  /** File size. */
  bytes: number;
  /** Heap objects in the snapshot, from its header. */
  nodes: number | null;
}

/** Payload of the `snapshotRefused` event. */
export interface SnapshotRefusedEvent {
  kind: SnapshotKind;
  /** `cooldown`, `memory_headroom`, `disk` or `error`. */
  reason: string;
  /** The one-line explanation that was logged. */
  message: string;
}

const OUR_FILE = /-(?:baseline|leak)\.heapsnapshot$/;

/** Filename-safe version of the service name. */
export function safeName(service: string): string {
  const s = service.replace(/^@/, "").replace(/[^A-Za-z0-9._-]+/g, "_");
  return s || "node";
}

export function isoForFile(d: Date): string {
  return d.toISOString().replace(/:/g, "-");
}

export class SnapshotTaker {
  private baselinePath: string | null = null;
  baselineTaken = false;
  /** When the baseline was written (`performance.now()`) and the heap then, if it was. */
  baseline: { at: number; heapUsed: number } | null = null;

  constructor(
    private readonly opts: NonNullable<ResolvedOptions["snapshot"]>,
    private readonly service: string,
    private readonly native: NativeWatchdog,
    private readonly log: (line: string) => void,
  ) {}

  /** Creates the directory (0700) if needed; throws with a clear message if it cannot. */
  prepare(): void {
    try {
      mkdirSync(this.opts.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new Error(`snapshot.dir ${this.opts.dir} cannot be created: ${(err as Error).message}`);
    }
  }

  /** Writes a snapshot if the guard allows it; returns what happened. */
  take(kind: SnapshotKind): { written: SnapshotEvent } | { refused: SnapshotRefusedEvent } {
    if (kind === "baseline") this.baselineTaken = true;
    const heapUsed = getHeapStatistics().used_heap_size;
    const rss = process.memoryUsage.rss();
    let diskFree: number | undefined;
    try {
      this.prepare();
      const fs = statfsSync(this.opts.dir);
      diskFree = fs.bavail * fs.bsize;
    } catch (err) {
      return this.refuse(kind, "error", `cannot use snapshot.dir: ${(err as Error).message}`, true);
    }
    const verdict = this.native.checkSnapshot({
      kind,
      nowMs: Date.now(),
      heapUsedBytes: heapUsed,
      rssBytes: rss,
      diskFreeBytes: diskFree,
    });
    if (!verdict.allowed) {
      return this.refuse(kind, verdict.reason ?? "refused", verdict.message ?? "refused", false);
    }

    this.rotate();
    const path = join(this.opts.dir, `${safeName(this.service)}-${process.pid}-${isoForFile(new Date())}-${kind}.heapsnapshot`);
    const partial = `${path}.partial`;
    const started = performance.now();
    // The file must never exist with a looser mode, even briefly (umask is per process;
    // workers cannot change it and rely on the chmod below).
    const oldUmask = isMainThread ? process.umask(0o077) : null;
    try {
      writeHeapSnapshot(partial);
      chmodSync(partial, 0o600);
      renameSync(partial, path);
    } catch (err) {
      try {
        unlinkSync(partial);
      } catch {
        // Nothing was written.
      }
      return this.refuse(kind, "error", `writing ${path} failed: ${(err as Error).message}`, true);
    } finally {
      if (oldUmask !== null) process.umask(oldUmask);
    }
    const durationMs = performance.now() - started;
    const bytes = statSync(path).size;
    const nodes = this.native.snapshotWritten({ kind, path, nowMs: Date.now(), durationMs, heapUsedBytes: heapUsed });
    if (kind === "baseline") {
      this.baselinePath = path;
      this.baseline = { at: performance.now(), heapUsed };
    }
    this.log(
      `wrote heap snapshot ${path} (${binding().formatBytes(bytes)}, ${(durationMs / 1000).toFixed(1)} s${
        nodes === null ? "" : `, ${nodes} objects`
      })`,
    );
    return { written: { path, kind, durationMs, bytes, nodes } };
  }

  private refuse(kind: SnapshotKind, reason: string, message: string, failure: boolean): { refused: SnapshotRefusedEvent } {
    if (failure) this.native.snapshotFailed(reason === "error" ? "io" : reason);
    this.log(`heap snapshot (${kind}) ${failure ? "failed" : "refused"}: ${message}`);
    return { refused: { kind, reason, message } };
  }

  /** Deletes the oldest of our snapshot files so that the new one keeps the count at `maxFiles`. */
  private rotate(): void {
    let files: { path: string; mtime: number }[];
    try {
      files = readdirSync(this.opts.dir)
        .filter((f) => OUR_FILE.test(f))
        .map((f) => {
          const path = join(this.opts.dir, f);
          return { path, mtime: statSync(path).mtimeMs };
        });
    } catch {
      return;
    }
    // This process's baseline is kept: the leak snapshot is diffed against it.
    const candidates = files.filter((f) => f.path !== this.baselinePath).sort((a, b) => a.mtime - b.mtime);
    let excess = files.length + 1 - this.opts.maxFiles;
    for (const f of candidates) {
      if (excess <= 0) break;
      try {
        unlinkSync(f.path);
        this.log(`deleted old heap snapshot ${f.path} (snapshot.maxFiles = ${this.opts.maxFiles})`);
      } catch {
        // Already gone or not ours to delete.
      }
      excess--;
    }
  }
}
