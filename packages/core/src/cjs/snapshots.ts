/**
 * Heap snapshots: asks the native guard whether writing one is safe, writes it with
 * `v8.writeHeapSnapshot` into the configured directory (0700) as a 0600 file, keeps at
 * most `maxFiles` of them, and reports what happened.
 *
 * Files: `<dir>/<service>-<pid>-<ISO time>-<baseline|leak>.heapsnapshot`. The file is
 * written as `<name>.partial` and renamed when complete, so a reader never sees half a
 * snapshot under the final name. A failed write gives its space back: the partial file is
 * removed and the descriptor Node leaves open on a write error is closed (below). Partial
 * files of writes that died with their process are removed at start and before each write.
 */
import { accessSync, chmodSync, closeSync, constants, mkdirSync, readdirSync, readlinkSync, renameSync, statSync, statfsSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from "node:v8";
import { isMainThread } from "node:worker_threads";
import type { NativeWatchdog } from "./binding.js";
import { binding } from "./binding.js";
import { MemWatchdogConfigError, type ResolvedOptions } from "./options.js";

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
  /** `cooldown`, `memory_headroom`, `memory_unknown`, `disk` or `error`. */
  reason: string;
  /** The one-line explanation that was logged. */
  message: string;
}

const OUR_FILE = /-(?:baseline|leak)\.heapsnapshot$/;
/** A partial file of ours: `<service>-<pid>-<ISO time>-<kind>.heapsnapshot.partial`. */
const OUR_PARTIAL = /-(\d+)-[^/]*-(?:baseline|leak)\.heapsnapshot\.partial$/;

/**
 * Whether a partial snapshot file belongs to a write that died. V8 writes a snapshot file
 * continuously from the moment it opens it until it closes it, so a live write's file is
 * never idle for long:
 * - at start, a file with this process's pid is a dead predecessor's (a restarted
 *   container gets the same pid);
 * - a file idle for 5 s whose pid is not a live process here is dead (the grace covers a
 *   writer in another pid namespace sharing the volume, whose pid means nothing here);
 * - a file idle for a minute is dead whoever wrote it.
 */
export function isStalePartial(pid: number, idleMs: number, starting: boolean): boolean {
  if (starting && pid === process.pid) return true;
  if (idleMs >= 60_000) return true;
  return idleMs >= 5_000 && !isAlive(pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
}

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

  /**
   * At start: creates the directory (0700) if needed, checks it is writable, and removes
   * partial files left by an earlier run of this process. Throws a
   * {@link MemWatchdogConfigError} saying why the directory cannot be used.
   */
  start(): void {
    try {
      this.prepare();
    } catch (err) {
      throw new MemWatchdogConfigError(`snapshot.dir ${this.opts.dir} cannot be used: ${(err as Error).message}`);
    }
    this.removeStalePartials(true);
  }

  /** Creates the directory (0700) if needed and checks that it is writable. */
  private prepare(): void {
    makeDir(this.opts.dir);
    accessSync(this.opts.dir, constants.W_OK);
  }

  /** Writes a snapshot if the guard allows it; returns what happened. */
  take(kind: SnapshotKind): { written: SnapshotEvent } | { refused: SnapshotRefusedEvent } {
    if (kind === "baseline") this.baselineTaken = true;
    const heapUsed = getHeapStatistics().used_heap_size;
    const largeObjects = largeObjectBytes();
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
      largeObjectBytes: largeObjects,
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
      discard(partial);
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

  /** Removes partial files of writes that died ({@link isStalePartial}); live writes are left alone. */
  private removeStalePartials(starting: boolean): void {
    let names: string[];
    try {
      names = readdirSync(this.opts.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const m = OUR_PARTIAL.exec(name);
      if (!m) continue;
      const path = join(this.opts.dir, name);
      try {
        if (!isStalePartial(Number(m[1]), Date.now() - statSync(path).mtimeMs, starting)) continue;
        unlinkSync(path);
        this.log(`deleted ${path}, left by a snapshot write that did not finish`);
      } catch {
        // Gone meanwhile, or not ours to delete.
      }
    }
  }

  /** Deletes the oldest of our snapshot files so that the new one keeps the count at `maxFiles`. */
  private rotate(): void {
    this.removeStalePartials(false);
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

/**
 * Used bytes of V8's large-object spaces (`large_object_space`, `new_large_object_space`,
 * `code_large_object_space`, ...): objects of 128 KiB and more, which a snapshot's memory
 * estimate counts as few objects (crates/snapguard).
 */
function largeObjectBytes(): number {
  let total = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name.endsWith("large_object_space")) total += space.space_used_size;
  }
  return total;
}

/**
 * `mkdir -p` with mode 0700 that reports the real cause: Node's recursive `mkdirSync`
 * says ENOENT where a parent cannot be created (e.g. EROFS on a read-only volume).
 */
function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    if (code !== "ENOENT" || dirname(dir) === dir) throw err;
    makeDir(dirname(dir));
    mkdirSync(dir, { mode: 0o700 });
  }
}

/**
 * Removes a partial snapshot file after a failed write, and gives its space back: Node's
 * `v8.writeHeapSnapshot` returns on a write error (ENOSPC) without closing the file
 * (node/src/heap_utils.cc, `WriteSnapshot`), so the deleted file would keep the disk full
 * until the process exits. Node never uses that descriptor again; it is found through
 * `/proc/self/fd` (Linux) and closed.
 */
function discard(partial: string): void {
  try {
    unlinkSync(partial);
  } catch {
    // Nothing was written.
  }
  let fds: string[];
  try {
    fds = readdirSync("/proc/self/fd");
  } catch {
    return; // not Linux: the descriptor (if any) stays open until the process exits
  }
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target === partial || target === `${partial} (deleted)`) closeSync(Number(fd));
    } catch {
      // Closed meanwhile.
    }
  }
}
