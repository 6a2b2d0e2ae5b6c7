/**
 * `MemWatchdog`: the process-wide watchdog. `start()` creates the native half (detector,
 * metrics server, alert client), observes V8 GC events and feeds each one to it with a
 * single call; `stop()` undoes all of it.
 *
 * Hot path (once per GC event, ~40/s on a busy service): one `v8.getHeapStatistics()`
 * per observer callback, `process.memoryUsage()` at most once a second (it reads /proc),
 * and one native call with plain numbers per entry. Events are fetched from the native
 * side only when it reports some.
 */
import { EventEmitter } from "node:events";
import * as inspector from "node:inspector";
import { PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { getHeapStatistics, setHeapSnapshotNearHeapLimit } from "node:v8";
import { isDeepStrictEqual } from "node:util";
import { binding, type NativeEvent, type NativeModule, type NativeWatchdog } from "./binding.js";
import { MemWatchdogConfigError, type MemWatchdogOptions, type ResolvedOptions, resolveLogger, resolveOptions } from "./options.js";
import { isRegistry, type PromClientRegistry, RegisteredFamilies } from "./prom-client.js";
import { WATCHED_PID } from "./process-role.js";
import { type AllocationFrame, type AllocationProfileEvent, type AllocationSite, type ProfileKind, ProfileTaker } from "./profiles.js";
import { type SnapshotEvent, type SnapshotKind, type SnapshotRefusedEvent, SnapshotTaker } from "./snapshots.js";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = (require("../../package.json") as { version: string }).version;

export type Signal = "heap" | "external" | "rss";
/**
 * `leaking` is a confirmed leak (alert severity warning); `oom_risk` a confirmed leak that, at
 * its current rate, reaches the memory limit (V8's heap limit or the container's) within the
 * horizon, one hour by default (severity critical).
 */
export type DetectorState = "normal" | "suspect" | "leaking" | "oom_risk" | "resolved";

/** Payload of the `state`, `leak`, `oomRisk` and `resolved` events. */
export interface StateEvent {
  /** Which memory figure: the JS heap floor, off-heap (Buffers) memory, or RSS. */
  signal: Signal;
  from: DetectorState;
  state: DetectorState;
  /** Growth rate behind the change, bytes per millisecond. */
  slopeBytesPerMs: number;
  /** The threshold it was compared with, bytes per millisecond. */
  thresholdBytesPerMs: number;
  /** Whether that threshold was derived from the service's own noise. */
  adaptive: boolean;
  /** One-sided p-value of the upward trend. */
  pValue: number;
  /** Growth over the episode in bytes, when known. */
  growthBytes: number | undefined;
  /** The limit the signal runs into (V8 heap limit or container memory limit), when known. */
  limitBytes: number | undefined;
  /** What was left below that limit. */
  headroomBytes: number | undefined;
  /** Projected milliseconds until the limit at the current growth, when growing. */
  exhaustionMs: number | undefined;
  /** JS heap used at the change. */
  heapUsedBytes: number;
  /** The signal's own value at the change. */
  valueBytes: number;
  /** When it happened. */
  at: Date;
  /**
   * `leak` events only, when allocation profiling runs: the allocation sites whose live
   * sampled bytes grew most since the baseline profile (from the profile taken at this
   * leak, or at the `suspect` state just before it), most first. Absent when no diff
   * exists yet (no baseline profile, or profiling is off).
   */
  allocationSites?: AllocationSite[];
  /** `leak` events only: the JSON allocation report those sites come from, when one was written. */
  allocationReport?: string | null;
}

export interface MemWatchdogEvents {
  leak: [StateEvent];
  oomRisk: [StateEvent];
  resolved: [StateEvent];
  state: [StateEvent];
  snapshot: [SnapshotEvent];
  snapshotRefused: [SnapshotRefusedEvent];
  analysis: [AnalysisEvent];
  allocationProfile: [AllocationProfileEvent];
}

/**
 * The baseline/leak snapshot pair was analyzed in the background (the same diff as
 * `mw analyze BASELINE LEAK`). `outcome` is `found` (then `topSuspect` is set, e.g.
 * `AuditEntry ×36,609 (+16.4 MB) held by global > … > auditLog > [] > AuditEntry`),
 * `nothing`, or `skipped` (then `reason` says why: too large, not enough memory, unreadable).
 */
export interface AnalysisEvent {
  outcome: "found" | "nothing" | "skipped";
  topSuspect?: string;
  reason?: string;
  at: Date;
}

const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

/** A read of V8's heap statistics including `external_memory` (Node 20+). */
interface HeapStats {
  used_heap_size: number;
  total_heap_size: number;
  heap_size_limit: number;
  external_memory?: number;
}

interface GcDetail {
  kind: number;
}

/** A listener of the watchdog event `K`. */
type Listener<K extends keyof MemWatchdogEvents> = (...args: MemWatchdogEvents[K]) => void;

/**
 * The event methods, typed by {@link MemWatchdogEvents}. Declared here rather than through
 * `EventEmitter<MemWatchdogEvents>`, whose type parameter only @types/node 20.11 and later have:
 * with an older @types/node that is an error, and under `skipLibCheck` every listener's payload
 * silently becomes `any`.
 */
export interface MemWatchdogController {
  on<K extends keyof MemWatchdogEvents>(event: K, listener: Listener<K>): this;
  addListener<K extends keyof MemWatchdogEvents>(event: K, listener: Listener<K>): this;
  prependListener<K extends keyof MemWatchdogEvents>(event: K, listener: Listener<K>): this;
  once<K extends keyof MemWatchdogEvents>(event: K, listener: Listener<K>): this;
  prependOnceListener<K extends keyof MemWatchdogEvents>(event: K, listener: Listener<K>): this;
  off<K extends keyof MemWatchdogEvents>(event: K, listener: Listener<K>): this;
  removeListener<K extends keyof MemWatchdogEvents>(event: K, listener: Listener<K>): this;
  removeAllListeners(event?: keyof MemWatchdogEvents): this;
  emit<K extends keyof MemWatchdogEvents>(event: K, ...args: MemWatchdogEvents[K]): boolean;
  listeners<K extends keyof MemWatchdogEvents>(event: K): Listener<K>[];
  rawListeners<K extends keyof MemWatchdogEvents>(event: K): Listener<K>[];
  listenerCount(event: keyof MemWatchdogEvents): number;
}

/** The watchdog. Use the exported singleton `MemWatchdog`. */
export class MemWatchdogController extends EventEmitter {
  private native: NativeWatchdog | null = null;
  private observer: PerformanceObserver | null = null;
  private snapshots: SnapshotTaker | null = null;
  private profiles: ProfileTaker | null = null;
  /** `leak` events waiting for the allocation profile diff taken for them (milliseconds, on a Rust thread). */
  private pendingLeaks: StateEvent[] = [];
  /** The newest allocation diff of this leak episode. */
  private latestSites: { sites: AllocationSite[]; reportPath: string | null } | null = null;
  private resolved: ResolvedOptions | null = null;
  private log: (line: string) => void = () => {};
  private lastMemoryRead = -Infinity;
  private arrayBuffers = 0;
  private handlingEvents = false;
  /** A leak snapshot waits until the heap has grown enough past the baseline to diff. */
  private leakSnapshotPending = false;
  /** prom-client registries the metrics join while the watchdog runs ({@link registerMetrics}). */
  private readonly registries = new Map<PromClientRegistry, RegisteredFamilies>();

  /** Whether the watchdog runs. */
  get running(): boolean {
    return this.native !== null;
  }

  /** The settings in use (after options, environment and defaults), or `null` when stopped. */
  get options(): ResolvedOptions | null {
    return this.resolved;
  }

  /** The port `/metrics` listens on (useful with port 0), or `null`. */
  get metricsPort(): number | null {
    return this.native?.metricsPort ?? null;
  }

  /** The current metrics in the Prometheus text format (what `/metrics` serves). */
  metrics(): string {
    return this.native?.renderMetrics() ?? "";
  }

  /**
   * Adds the watchdog's metrics to a prom-client registry (e.g. `client.register`), so the
   * service's own `/metrics` serves them: now if the watchdog runs, and from every later
   * `start()` until its `stop()`. For a watchdog started by `register` (`node -r
   * @memwatchdog/core/register`); with `start()`, the `prometheus.registry` option does the
   * same. Throws when a registry already has a metric of the same name.
   */
  registerMetrics(registry: PromClientRegistry): this {
    if (!isRegistry(registry)) {
      throw new MemWatchdogConfigError('registerMetrics() takes a prom-client Registry (e.g. require("prom-client").register)');
    }
    if (this.registries.has(registry)) return this;
    const families = new RegisteredFamilies(registry, () => this.native?.metricFamilies() ?? null);
    if (this.native) families.register(this.native.metricFamilies());
    this.registries.set(registry, families);
    return this;
  }

  /** The detector's current state for a signal. */
  state(signal: Signal = "heap"): DetectorState {
    return (this.native?.state(signal) as DetectorState | undefined) ?? "normal";
  }

  /**
   * Starts watching. Safe to call again: a running watchdog is returned as is (with a
   * warning when the options differ). Throws {@link MemWatchdogConfigError} on bad
   * settings and a plain `Error` when the metrics port is taken.
   */
  start(options: MemWatchdogOptions = {}): this {
    const resolved = resolveOptions(options);
    const log = resolveLogger(options);
    if (this.native) {
      if (!isDeepStrictEqual(resolved, this.resolved)) {
        log("start() called again with different options; the running watchdog keeps its settings (call stop() first to change them)");
      }
      return this;
    }
    const native = nativeWatchdog(
      {
        threshold: resolved.threshold,
        detector: resolved.detector,
        prometheusPort: resolved.prometheus?.port ?? undefined,
        prometheusHost: resolved.prometheus?.host ?? "",
        prometheusProcessMetrics: resolved.prometheus?.processMetrics,
        prometheusServiceLabel: resolved.prometheus?.serviceLabel === false ? "" : resolved.prometheus?.serviceLabel,
        prometheusLabels: resolved.prometheus?.labels,
        alertLabels: resolved.alert?.labels,
        alertUrl: resolved.alert?.url,
        alertResendIntervalMs: resolved.alert?.resendIntervalMs,
        service: resolved.labels.service,
        instance: resolved.labels.instance,
        version: VERSION,
        tracePath: resolved.trace?.path,
        traceMaxBytes: resolved.trace?.maxBytes,
        snapshotCooldownMs: resolved.snapshot?.cooldownMs ?? 0,
        snapshotMemoryLimitBytes: resolved.snapshot?.memoryLimitBytes,
        snapshotAllowUnknownMemory: resolved.snapshot?.allowUnknownMemory,
        snapshotAnalyzeMaxBytes: resolved.snapshot?.analyzeMaxBytes,
      },
      (line: string) => log(line),
    );
    let snapshots: SnapshotTaker | null = null;
    const registry = resolved.prometheus?.registry;
    const added = registry && !this.registries.has(registry) ? registry : null;
    try {
      if (added) this.registerMetrics(added);
      const families = native.metricFamilies();
      for (const registered of this.registries.values()) registered.register(families);
      if (resolved.snapshot) {
        snapshots = new SnapshotTaker(resolved.snapshot, resolved.labels.service, native, log);
        snapshots.start();
      }
    } catch (err) {
      for (const registered of this.registries.values()) registered.unregister();
      if (added) this.registries.delete(added);
      native.stop();
      throw err;
    }
    this.native = native;
    this.snapshots = snapshots;
    this.profiles = resolved.profile ? new ProfileTaker(resolved.profile, resolved.labels.service, native, log) : null;
    this.pendingLeaks = [];
    this.latestSites = null;
    this.resolved = resolved;
    this.log = log;
    this.lastMemoryRead = -Infinity;

    const observer = new PerformanceObserver((list) => this.onGc(list.getEntries()));
    observer.observe({ entryTypes: ["gc"] });
    this.observer = observer;
    this.profiles?.start();

    if (resolved.snapshot) {
      if (resolved.snapshot.nearHeapLimit) {
        // No-op if --heapsnapshot-near-heap-limit is set or it was armed before; V8
        // writes Heap.<date>.<time>.<pid>.<tid>.<seq>.heapsnapshot into --diagnostic-dir
        // (default: the working directory), not into snapshot.dir.
        setHeapSnapshotNearHeapLimit(1);
      }
      if (NODE_MAJOR < 22) {
        log(
          `Node ${process.versions.node}: writing a heap snapshot of a big heap can take minutes here (Node 22+ is several times faster); the process is frozen while it runs`,
        );
      }
    }
    // Node processes started from now on inherit the mark: `register` in them sees that they
    // run below a watched process (and by default skips them: process-role.ts).
    process.env[WATCHED_PID] = String(process.pid);
    const where = native.metricsAddress ? `, metrics on http://${native.metricsAddress}/metrics` : "";
    log(`watching ${resolved.labels.service} (${resolved.labels.instance})${where}`);
    return this;
  }

  /**
   * Stops watching: disconnects the GC observer, stops the metrics server (its port is
   * free when this returns) and the alert thread, and closes the trace. Idempotent.
   * Listeners stay registered.
   */
  stop(): this {
    this.observer?.disconnect();
    this.observer = null;
    this.profiles?.stop();
    this.profiles = null;
    this.releaseLeaks();
    for (const registered of this.registries.values()) registered.unregister();
    this.native?.stop();
    this.native = null;
    this.snapshots = null;
    this.resolved = null;
    this.leakSnapshotPending = false;
    return this;
  }

  /** Writes a heap snapshot now, subject to the same safety checks (`snapshot` must be configured). */
  writeSnapshot(kind: SnapshotKind = "leak"): SnapshotEvent | SnapshotRefusedEvent {
    if (!this.snapshots) throw new Error("MemWatchdog: snapshots are not enabled (set snapshot.dir)");
    return this.snapshot(kind);
  }

  private onGc(entries: PerformanceEntry[]): void {
    const native = this.native;
    if (!native) return;
    const hs = getHeapStatistics() as HeapStats;
    const used = hs.used_heap_size;
    const total = hs.total_heap_size;
    let external = hs.external_memory ?? 0;
    for (const entry of entries) {
      const t = entry.startTime + entry.duration;
      let rss = -1;
      if (t - this.lastMemoryRead >= 1000) {
        const mu = process.memoryUsage();
        rss = mu.rss;
        this.arrayBuffers = mu.arrayBuffers;
        if (hs.external_memory === undefined) external = mu.external;
        this.lastMemoryRead = t;
      }
      const kind = (entry as PerformanceEntry & { detail: GcDetail }).detail.kind;
      if (native.sample(t, kind, entry.duration, used, total, external, this.arrayBuffers, rss, hs.heap_size_limit) > 0) {
        this.onEvents(native.takeEvents());
      }
    }
    if (this.leakSnapshotPending) this.maybeLeakSnapshot(used);
  }

  /**
   * Takes the leak snapshot now, unless the baseline is so recent that the pair would
   * show little growth: then it waits (checked on later GC events) until the heap grew
   * by max(10 %, 16 MB) since the baseline, or a minute passed.
   */
  private maybeLeakSnapshot(heapUsed: number): void {
    const taker = this.snapshots;
    if (!taker) {
      this.leakSnapshotPending = false;
      return;
    }
    const base = taker.baseline;
    const grown = base === null || heapUsed - base.heapUsed >= Math.max(0.1 * base.heapUsed, 16 * 1024 * 1024);
    if (grown || performance.now() - (base?.at ?? 0) >= 60_000) {
      this.leakSnapshotPending = false;
      this.snapshot("leak");
    } else {
      this.leakSnapshotPending = true;
    }
  }

  private onEvents(events: NativeEvent[]): void {
    if (this.handlingEvents) return;
    this.handlingEvents = true;
    try {
      for (const e of events) {
        if (e.kind === "warmedUp") {
          if (this.snapshots && !this.snapshots.baselineTaken) this.snapshot("baseline");
          this.profiles?.take("baseline");
          continue;
        }
        if (e.kind === "profile") {
          this.onProfile(e);
          continue;
        }
        if (e.kind === "gc") {
          confirmationGc();
          continue;
        }
        if (e.kind === "analysis") {
          const outcome = e.state as AnalysisEvent["outcome"];
          this.safeEmit("analysis", {
            outcome,
            ...(outcome === "found" ? { topSuspect: e.detail ?? "" } : { reason: e.detail ?? "" }),
            at: new Date(),
          });
          continue;
        }
        const ev: StateEvent = {
          signal: e.signal as Signal,
          from: e.from as DetectorState,
          state: e.state as DetectorState,
          slopeBytesPerMs: e.slopeBytesPerMs,
          thresholdBytesPerMs: e.thresholdBytesPerMs,
          adaptive: e.adaptive,
          pValue: e.pValue,
          growthBytes: e.growthBytes,
          limitBytes: e.limitBytes ?? undefined,
          headroomBytes: e.headroomBytes ?? undefined,
          exhaustionMs: e.exhaustionMs ?? undefined,
          heapUsedBytes: e.heapUsedBytes,
          valueBytes: e.valueBytes,
          at: new Date(),
        };
        const projection =
          ev.exhaustionMs !== undefined && ev.limitBytes !== undefined
            ? `, limit ${binding().formatBytes(ev.limitBytes)} reached in ~${Math.round(ev.exhaustionMs / 60_000)} min at this rate`
            : "";
        this.log(
          `${ev.signal}: ${ev.from} -> ${ev.state} (slope ${ev.slopeBytesPerMs.toFixed(1)} B/ms, threshold ${ev.thresholdBytesPerMs.toFixed(1)} B/ms, heap ${binding().formatBytes(ev.heapUsedBytes)}${projection})`,
        );
        this.safeEmit("state", ev);
        if (ev.state === "oom_risk") {
          this.safeEmit("oomRisk", ev);
        } else if (ev.state === "leaking" && ev.from === "oom_risk") {
          // Back from oom_risk: still the same leak; nothing new to capture.
        } else if (ev.state === "leaking") {
          // The leak event waits for the diff of the profile taken now, or of the one taken
          // at `suspect` if that is still running (done on a Rust thread in milliseconds,
          // picked up on a following GC event); without one it goes at once.
          this.profiles?.take("leak");
          if (this.profiles && this.profiles.inFlight > 0) this.pendingLeaks.push(ev);
          else this.emitLeak(ev);
          this.maybeLeakSnapshot(ev.heapUsedBytes);
        } else if (ev.state === "resolved") {
          this.leakSnapshotPending = false;
          if (ev.signal === "heap") this.latestSites = null;
          this.safeEmit("resolved", ev);
        } else if (ev.state === "suspect") {
          // A leak that starts with the process never lets warm-up settle: take the
          // baseline at the first suspicion instead, so a leak snapshot has a pair.
          if (this.snapshots && !this.snapshots.baselineTaken) this.snapshot("baseline");
          this.profiles?.take("suspect");
        }
      }
    } finally {
      this.handlingEvents = false;
    }
  }

  /** A profile was stored and, unless it is the baseline, diffed on the native side. */
  private onProfile(e: NativeEvent): void {
    const kind = e.state as ProfileKind;
    const sites: AllocationSite[] = (e.sites ?? []).map((s) => ({
      summary: s.summary,
      site: s.site,
      deltaBytes: s.deltaBytes,
      bytes: s.bytes,
      stack: s.stack.map((f) => ({
        functionName: f.functionName,
        url: f.url,
        line: f.line,
        column: f.column,
        kind: f.kind as AllocationFrame["kind"],
        ...(f.original ? { original: { url: f.original.url, line: f.original.line, column: f.original.column } } : {}),
      })),
      userFrame: s.userFrame,
    }));
    const event: AllocationProfileEvent = {
      kind,
      path: e.profilePath ?? null,
      reportPath: e.reportPath ?? null,
      sites,
      ...(e.detail ? { error: e.detail } : {}),
      at: new Date(),
    };
    if (kind !== "baseline") {
      if (this.profiles) this.profiles.inFlight = Math.max(0, this.profiles.inFlight - 1);
      if (sites.length > 0) this.latestSites = { sites, reportPath: event.reportPath };
    }
    this.safeEmit("allocationProfile", event);
    if (kind !== "baseline" && (this.profiles?.inFlight ?? 0) === 0) this.releaseLeaks();
  }

  /** Emits the `leak` events that waited for a profile diff. */
  private releaseLeaks(): void {
    const pending = this.pendingLeaks;
    this.pendingLeaks = [];
    for (const ev of pending) this.emitLeak(ev);
  }

  private emitLeak(ev: StateEvent): void {
    const latest = this.latestSites;
    this.safeEmit("leak", latest ? { ...ev, allocationSites: latest.sites, allocationReport: latest.reportPath } : ev);
  }

  private snapshot(kind: SnapshotKind): SnapshotEvent | SnapshotRefusedEvent {
    const taker = this.snapshots;
    if (!taker) throw new Error("snapshots are not enabled");
    const result = taker.take(kind);
    if ("written" in result) {
      this.safeEmit("snapshot", result.written);
      return result.written;
    }
    this.safeEmit("snapshotRefused", result.refused);
    return result.refused;
  }

  /** Emits; a listener that throws does not break the watchdog (the error is re-thrown asynchronously). */
  private safeEmit<K extends keyof MemWatchdogEvents>(event: K, ...args: MemWatchdogEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: MemWatchdogEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }
}

/**
 * Runs a full GC, asked for by the detector when the heap floor is stale and a fast rise may
 * already be urgent (its GC event then shows the floor). Through an in-process inspector session
 * (`HeapProfiler.collectGarbage`, no port, no `--expose-gc`). V8 runs it as a task after this
 * returns and answers later; the session is closed after the answer, from `setImmediate`
 * (Node 20 stalls the event loop when a session is disconnected inside its own callback).
 * A pending request does not keep the process alive.
 */
function confirmationGc(): void {
  const session = new inspector.Session();
  try {
    session.connect();
  } catch {
    return; // No inspector in this build of Node: the floor waits for V8's own GC.
  }
  session.post("HeapProfiler.collectGarbage", () => {
    setImmediate(() => session.disconnect());
  });
}

/**
 * Creates the native half. The addon rejects settings with napi's `InvalidArg` status
 * (their message names the option): those become {@link MemWatchdogConfigError}s; a failure
 * of the environment (the metrics port is taken) stays a plain `Error`.
 */
function nativeWatchdog(...args: ConstructorParameters<NativeModule["NativeWatchdog"]>): NativeWatchdog {
  try {
    return new (binding().NativeWatchdog)(...args);
  } catch (err) {
    if ((err as { code?: unknown }).code === "InvalidArg") throw new MemWatchdogConfigError((err as Error).message);
    throw err;
  }
}
