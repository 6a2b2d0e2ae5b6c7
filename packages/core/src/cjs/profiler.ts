/**
 * V8's sampling heap profiler, driven through a `node:inspector` session in this very
 * process (no port is opened, no debugger is involved).
 *
 * `start()` connects the session and runs `HeapProfiler.startSampling` with the
 * configured interval; V8 then records a stack for about one allocation per interval
 * bytes and keeps the samples of objects that are still alive (collected objects drop
 * out). `take()` returns the current profile (`HeapProfiler.getSamplingProfile`) as the
 * JSON text of a `.heapprofile` file (what Chrome DevTools opens); the Rust side writes
 * it, diffs it against the baseline and names the allocation sites that grew.
 *
 * A same-process session answers synchronously (the callback of `session.post` runs
 * before `post` returns, checked on Node 20, 22 and 24), so every method here is
 * synchronous. The session holds no event-loop handle; `stop()` stops sampling and
 * disconnects it.
 *
 * The sampling profiler is one per isolate, shared by every inspector session: if a
 * debugger (DevTools) also samples, a second `startSampling` is silently ignored and its
 * `stopSampling` ends ours too. That shows here as a failed `take()`; the caller logs it
 * and carries on without profiles.
 */
import type { Session } from "node:inspector";

/** One same-process inspector call; its callback runs synchronously. */
function post<T>(session: Session, method: string, params: object): T {
  let error: Error | null = null;
  let result: T | undefined;
  let answered = false;
  session.post(method, params, (err: Error | null, res?: unknown) => {
    answered = true;
    error = err;
    result = res as T;
  });
  if (!answered) throw new Error(`${method} did not answer synchronously`);
  if (error) throw error;
  return result as T;
}

export class HeapSampler {
  private session: Session | null = null;

  constructor(private readonly samplingInterval: number) {}

  /** Whether sampling runs (as far as this process's session knows). */
  get running(): boolean {
    return this.session !== null;
  }

  /** Starts sampling; throws an `Error` saying why it cannot (no inspector in this build...). */
  start(): void {
    if (this.session) return;
    // Loaded here: `node:inspector` throws at import when Node was built without it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const inspector = require("node:inspector") as typeof import("node:inspector");
    const session = new inspector.Session();
    session.connect();
    try {
      post(session, "HeapProfiler.startSampling", { samplingInterval: this.samplingInterval });
    } catch (err) {
      session.disconnect();
      throw err;
    }
    this.session = session;
  }

  /**
   * The live sampled allocations now, as the JSON text of a `.heapprofile` file. Throws
   * when the profile cannot be had (e.g. another inspector session stopped the sampling).
   */
  take(): string {
    if (!this.session) throw new Error("the sampling heap profiler is not running");
    const { profile } = post<{ profile: unknown }>(this.session, "HeapProfiler.getSamplingProfile", {});
    return JSON.stringify(profile);
  }

  /** Stops sampling and disconnects the session. Idempotent; never throws. */
  stop(): void {
    const session = this.session;
    this.session = null;
    if (!session) return;
    try {
      post(session, "HeapProfiler.stopSampling", {});
    } catch {
      // Already stopped (by another session): nothing to undo.
    }
    session.disconnect();
  }
}
