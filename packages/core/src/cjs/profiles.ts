/**
 * Allocation profiles: when to take a sampling heap profile, and handing it to the
 * native side, which writes it (`<dir>/<service>-<pid>-<ISO time>-<kind>.heapprofile`,
 * 0600 in a 0700 directory, through a `.partial` file), diffs it against the baseline on
 * a Rust thread and writes the allocation report next to it.
 *
 * Kinds: `baseline` — one at `start()` (nearly empty: the profiler samples only what is
 * allocated after it starts, so a diff against it is everything sampled since) and one
 * that replaces it when warm-up ends (so caches filling during warm-up are not counted as
 * growth) — then `suspect` and `leak` when a signal enters those states, at most one per
 * `profile.cooldownMs`, each diffed against the baseline of the moment. Unlike a heap
 * snapshot, a baseline profile cannot be taken late: an early one is what makes a fast
 * leak that never lets warm-up end visible.
 * Everything here runs on the JS thread and is cheap except `HeapSampler.take()`, which
 * serializes the live samples (about heap size ÷ sampling interval of them).
 */
import { join } from "node:path";
import type { NativeWatchdog } from "./binding.js";
import type { ResolvedOptions } from "./options.js";
import { HeapSampler } from "./profiler.js";
import { isoForFile, safeName } from "./snapshots.js";

export type ProfileKind = "baseline" | "suspect" | "leak";

/** One stack frame of an allocation site. */
export interface AllocationFrame {
  /** `(anonymous)` for a function without a name. */
  functionName: string;
  /** Script path or URL; empty for V8 builtins. */
  url: string;
  /** 1-based line of the function's *definition* (not of the allocating statement), when known. */
  line: number | undefined;
  /** 1-based column of the function's definition, when known. */
  column: number | undefined;
  /** `user` (the application and its dependencies), `node` (Node's own JS), `builtin` (V8) or `vm`. */
  kind: "user" | "node" | "builtin" | "vm";
  /**
   * Where the function is in the original source (`src/app.ts`, 1-based line and column), when
   * the script has a source map (`//# sourceMappingURL`, inline or a file); `url`, `line` and
   * `column` stay the position in the generated JavaScript.
   */
  original?: { url: string; line: number; column: number };
}

/**
 * An allocation site whose live sampled bytes grew between the baseline profile and a
 * later one. The profiler locates a frame by its function's definition, not by the
 * allocating statement, and V8 may inline a small function into its caller: read the
 * stack, not just the leaf.
 */
export interface AllocationSite {
  /**
   * One line, as in the alert's `top_allocation_site` annotation:
   * `+12 MB in pushEntry (server.js:41:18) < handle (server.js:80:3) < …`.
   */
  summary: string;
  /** The innermost application frame: `pushEntry (server.js:41:18)`. */
  site: string;
  /** Growth of the live sampled bytes at this site (an estimate: V8 samples). */
  deltaBytes: number;
  /** Live sampled bytes at this site in the newer profile. */
  bytes: number;
  /** The call stack, innermost (allocating) frame first. */
  stack: AllocationFrame[];
  /** Index in `stack` of the innermost application frame (the one a reader looks at first). */
  userFrame: number | undefined;
}

/** Payload of the `allocationProfile` event. */
export interface AllocationProfileEvent {
  kind: ProfileKind;
  /** The `.heapprofile` file written, or `null` (no `profile.dir`, or writing failed). */
  path: string | null;
  /** The JSON allocation report written next to it (not for a baseline), or `null`. */
  reportPath: string | null;
  /** Sites whose live sampled bytes grew since the baseline, most first (empty for a baseline). */
  sites: AllocationSite[];
  /** Why the profile could not be stored or diffed, if it could not. */
  error?: string;
  at: Date;
}

export class ProfileTaker {
  private readonly sampler: HeapSampler;
  private failed = false;
  private lastCompareAt = -Infinity;
  private warmBaselineTaken = false;
  /** `suspect`/`leak` profiles handed to the native side whose diff has not come back. */
  inFlight = 0;

  constructor(
    private readonly opts: NonNullable<ResolvedOptions["profile"]>,
    private readonly service: string,
    private readonly native: NativeWatchdog,
    private readonly log: (line: string) => void,
  ) {
    this.sampler = new HeapSampler(opts.samplingInterval);
  }

  /**
   * Starts sampling and takes the start baseline; on failure logs why and leaves
   * profiling off (the watchdog runs on).
   */
  start(): void {
    try {
      this.sampler.start();
    } catch (err) {
      this.disable(`cannot start V8's sampling heap profiler (${(err as Error).message})`);
      return;
    }
    this.hand("baseline");
  }

  /** Whether profiles can be taken. */
  get active(): boolean {
    return this.sampler.running && !this.failed;
  }

  /**
   * Takes a profile of `kind`: `baseline` once (warm-up ended), `suspect`/`leak` unless
   * the cooldown says not yet. Returns whether one was handed to the native side; its
   * outcome comes back later as a native `profile` event.
   */
  take(kind: ProfileKind): boolean {
    if (!this.active) return false;
    const now = performance.now();
    if (kind === "baseline") {
      if (this.warmBaselineTaken) return false;
      this.warmBaselineTaken = true;
    } else {
      if (now - this.lastCompareAt < this.opts.cooldownMs) return false;
      this.lastCompareAt = now;
    }
    return this.hand(kind);
  }

  /** Reads the profile and hands it to the native side. */
  private hand(kind: ProfileKind): boolean {
    let json: string;
    try {
      json = this.sampler.take();
    } catch (err) {
      this.disable(
        `cannot read the sampling heap profile (${(err as Error).message}); another inspector session (a debugger?) may have stopped it`,
      );
      return false;
    }
    const path = this.opts.dir
      ? join(this.opts.dir, `${safeName(this.service)}-${process.pid}-${isoForFile(new Date())}-${kind}.heapprofile`)
      : undefined;
    this.native.profileTaken({ kind, json, path, maxFiles: this.opts.maxFiles, samplingInterval: this.opts.samplingInterval });
    if (kind !== "baseline") this.inFlight++;
    return true;
  }

  /** Stops sampling and disconnects the inspector session. Idempotent. */
  stop(): void {
    this.sampler.stop();
  }

  private disable(why: string): void {
    this.failed = true;
    this.sampler.stop();
    this.native.profileFailed("inspector");
    this.log(`allocation profiles are off: ${why}`);
  }
}
