// Generated from options.table.mjs by scripts/options.mjs (run by `npm run build`): edit the
// table, not this file. A test fails when this file is stale.

import type { OptionSpec } from "./option-spec.js";
import type { PromClientRegistry } from "./prom-client.js";

/**
 * Leak detection settings.
 */
export interface DetectionOptions {
  /**
   * Growth in bytes per millisecond that counts as a leak (1 B/ms ≈ 3.4 MiB/h); wins over the
   * detector settings' `threshold`.
   *
   * Default: adaptive. Variable: `MEMWATCHDOG_THRESHOLD`.
   */
  threshold?: number;
  /**
   * Any other detector setting (docs/detection.md, "Defaults"): an object such as `{
   * growth_allowance: { bytes: 8388608 } }`, JSON text (`{...}`) or the path of a JSON file — the
   * file `mw detect --config` takes, so settings tried on recorded traces carry over as they are.
   *
   * Default: defaults. Variable: `MEMWATCHDOG_DETECTOR`.
   */
  detector?: Record<string, unknown> | string;
}

/**
 * The Prometheus `/metrics` endpoint, served from a Rust thread.
 */
export interface PrometheusOptions {
  /**
   * Port of `/metrics`; `0`: any free port; `false` (a variable: `false`/`off`/`no`): no endpoint.
   *
   * Default: `9469`. Variable: `MEMWATCHDOG_PROMETHEUS_PORT`.
   */
  port?: number | false;
  /**
   * Address `/metrics` listens on: all interfaces, because Prometheus scrapes from another host
   * (below).
   *
   * Default: `0.0.0.0`. Variable: `MEMWATCHDOG_PROMETHEUS_HOST`.
   */
  host?: string;
  /**
   * A prom-client `Registry` (e.g. `client.register`): the watchdog's metrics join it, so the
   * service's own `/metrics` serves them (docs/prometheus.md, "With prom-client"). The watchdog
   * then opens no port of its own unless `prometheus.port`, `MEMWATCHDOG_PROMETHEUS_PORT` or
   * `MEMWATCHDOG_PROMETHEUS_PORT_BASE` asks for one.
   *
   * Default: none.
   */
  registry?: PromClientRegistry;
  /**
   * `false`: leave out what prom-client's `collectDefaultMetrics()` already exports — heap used and
   * total, external, RSS, GC counts and pauses (`memwatchdog_heap_used_bytes`, `_heap_total_bytes`,
   * `_external_bytes`, `_rss_bytes`, `_gc_total`, `_gc_duration_seconds`) — so nothing is exported
   * twice.
   *
   * Default: `true`. Variable: `MEMWATCHDOG_PROMETHEUS_PROCESS_METRICS`.
   */
  processMetrics?: boolean;
  /**
   * Name of the label that carries `labels.service` on metrics; `false` (a variable:
   * `false`/`off`/`no`): none — behind a Kubernetes ServiceMonitor, whose target already has a
   * `service` label (docs/prometheus.md, "Kubernetes labels"). Alerts keep `service`.
   *
   * Default: `service`. Variable: `MEMWATCHDOG_PROMETHEUS_SERVICE_LABEL`.
   */
  serviceLabel?: string | false;
  /**
   * Constant labels on every metric sample, e.g. `{ team: "payments" }` (a variable:
   * `team=payments,cluster=eu-1`). Usually the scrape target's labels do this; use it when they
   * cannot.
   *
   * Default: none. Variable: `MEMWATCHDOG_PROMETHEUS_LABELS`.
   */
  labels?: Record<string, string> | string;
}

/**
 * Alertmanager (API v2) alerts.
 */
export interface AlertOptions {
  /**
   * Alertmanager base URL, e.g. `http://alertmanager:9093`.
   *
   * Default: none (no alerts). Variable: `MEMWATCHDOG_ALERT_URL`.
   */
  url?: string;
  /**
   * How often a firing alert is re-sent, in ms (`endsAt` is 3 periods ahead).
   *
   * Default: `60000`. Variable: `MEMWATCHDOG_ALERT_RESEND_INTERVAL_MS`.
   */
  resendIntervalMs?: number;
  /**
   * Constant labels on every alert the watchdog sends, for Alertmanager's routing tree, e.g. `{
   * team: "payments", namespace: "shop" }` (a variable: `team=payments,namespace=shop`). Not
   * `alertname`, `severity`, `signal`, `service` or `instance`: the watchdog sets those.
   *
   * Default: none. Variable: `MEMWATCHDOG_LABELS`.
   */
  labels?: Record<string, string> | string;
}

/**
 * Automatic heap snapshots.
 */
export interface SnapshotOptions {
  /**
   * Directory for `.heapsnapshot` files (created with mode 0700). Setting it enables snapshots.
   *
   * Default: none (no snapshots). Variable: `MEMWATCHDOG_SNAPSHOT_DIR`.
   */
  dir?: string;
  /**
   * Write snapshots; `true` without a dir uses `./heapsnapshots`.
   *
   * Default: `true` when a dir is set. Variable: `MEMWATCHDOG_SNAPSHOT_ENABLED`.
   */
  enabled?: boolean;
  /**
   * Most `.heapsnapshot` files kept in the dir; the oldest are deleted first (this process's
   * baseline is kept).
   *
   * Default: `10`. Variable: `MEMWATCHDOG_SNAPSHOT_MAX_FILES`.
   */
  maxFiles?: number;
  /**
   * Minimum time between leak snapshots, in ms.
   *
   * Default: `900000`. Variable: `MEMWATCHDOG_SNAPSHOT_COOLDOWN_MS`.
   */
  cooldownMs?: number;
  /**
   * Memory limit of the process for the headroom check, replacing the cgroup limit (useful where
   * the real limit is not visible, e.g. a VM size).
   *
   * Default: cgroup limit. Variable: `MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT`.
   */
  memoryLimitBytes?: number | string;
  /**
   * Write snapshots where the memory headroom cannot be read (no `/proc/meminfo` or cgroup, e.g.
   * macOS and Windows) and `snapshot.memoryLimitBytes` is not set; otherwise they are refused with
   * reason `memory_unknown`.
   *
   * Default: `false`. Variable: `MEMWATCHDOG_SNAPSHOT_ALLOW_UNKNOWN_MEMORY`.
   */
  allowUnknownMemory?: boolean;
  /**
   * Largest leak snapshot analyzed in the background, on a Rust thread, so the alert and the
   * `analysis` event name the top suspect's retainer path; `0`: never. Analysis needs about 1.2
   * times the file size in memory and is skipped when that is not available.
   *
   * Default: `1Gi`. Variable: `MEMWATCHDOG_SNAPSHOT_ANALYZE_MAX_BYTES`.
   */
  analyzeMaxBytes?: number | string;
  /**
   * Arm V8's own snapshot near the heap limit (`v8.setHeapSnapshotNearHeapLimit`, below).
   *
   * Default: `true`. Variable: `MEMWATCHDOG_SNAPSHOT_NEAR_HEAP_LIMIT`.
   */
  nearHeapLimit?: boolean;
}

/**
 * Allocation profiling: V8's sampling heap profiler runs in this process (through a same-process
 * `node:inspector` session, no port); a baseline profile is taken when warm-up ends and another on
 * `suspect`/`leaking`, and the allocation sites whose live sampled bytes grew go into the alert,
 * the `leak` event and a JSON report.
 */
export interface ProfileOptions {
  /**
   * Run V8's sampling heap profiler for allocation sites (below).
   *
   * Default: `true`. Variable: `MEMWATCHDOG_PROFILE_ENABLED`.
   */
  enabled?: boolean;
  /**
   * Average bytes allocated between two samples; smaller is finer and costs more CPU
   * (docs/benchmarks-overhead.md). V8's own default is 32768.
   *
   * Default: `1048576` (1 MiB). Variable: `MEMWATCHDOG_PROFILE_SAMPLING_INTERVAL`.
   */
  samplingInterval?: number;
  /**
   * Directory for the `.heapprofile` files and the JSON reports (created with mode 0700). Without
   * it and without `snapshot.dir` profiles are still taken and diffed (the alert and the events get
   * the sites) but no file is written.
   *
   * Default: `snapshot.dir`. Variable: `MEMWATCHDOG_PROFILE_DIR`.
   */
  dir?: string;
  /**
   * Most `.heapprofile` files kept in the dir, oldest deleted first with their reports (this
   * process's baseline is kept).
   *
   * Default: `10`. Variable: `MEMWATCHDOG_PROFILE_MAX_FILES`.
   */
  maxFiles?: number;
  /**
   * Minimum time between two profiles taken on `suspect`/`leaking`, in ms.
   *
   * Default: `60000`. Variable: `MEMWATCHDOG_PROFILE_COOLDOWN_MS`.
   */
  cooldownMs?: number;
}

/**
 * Labels identifying this process in metrics and alerts.
 */
export interface LabelOptions {
  /**
   * `service` label of metrics and alerts; also in file names.
   *
   * Default: under PM2 the app's name, else `npm_package_name`, else `name` in `./package.json`,
   * else the script name. Variable: `MEMWATCHDOG_SERVICE`.
   */
  service?: string;
  /**
   * `instance` label of alerts.
   *
   * Default: `hostname:pid`. Variable: `MEMWATCHDOG_INSTANCE`.
   */
  instance?: string;
}

/**
 * A CSV trace of every sample, for `mw detect`.
 */
export interface TraceOptions {
  /**
   * CSV trace file of every sample, for `mw detect` (created with mode 0600, truncated).
   *
   * Default: none. Variable: `MEMWATCHDOG_TRACE`.
   */
  path: string;
  /**
   * Recording stops (with one log line) at this size.
   *
   * Default: `100Mi`. Variable: `MEMWATCHDOG_TRACE_MAX_BYTES`.
   */
  maxBytes?: number | string;
}

/**
 * Everything `MemWatchdog.start()` accepts. Every field is optional.
 */
export interface MemWatchdogOptions {
  /**
   * Leak detection settings.
   */
  native?: DetectionOptions;
  /**
   * The Prometheus `/metrics` endpoint, served from a Rust thread. `false`: no `/metrics` endpoint.
   */
  prometheus?: PrometheusOptions | false;
  /**
   * Alertmanager (API v2) alerts.
   */
  alert?: AlertOptions;
  /**
   * Automatic heap snapshots. `false`: no snapshots.
   */
  snapshot?: SnapshotOptions | false;
  /**
   * Allocation profiling: V8's sampling heap profiler runs in this process (through a same-process
   * `node:inspector` session, no port); a baseline profile is taken when warm-up ends and another
   * on `suspect`/`leaking`, and the allocation sites whose live sampled bytes grew go into the
   * alert, the `leak` event and a JSON report. `false`: no allocation profiles.
   */
  profile?: ProfileOptions | false;
  /**
   * Labels identifying this process in metrics and alerts.
   */
  labels?: LabelOptions;
  /**
   * A CSV trace of every sample, for `mw detect`. `false`: no trace.
   */
  trace?: TraceOptions | false;
  /**
   * Where log lines go: a function `(line) => void`, or `false` (a variable:
   * `false`/`off`/`no`/`0`) for none.
   *
   * Default: stderr, prefixed `[memwatchdog]`. Variable: `MEMWATCHDOG_LOG`.
   */
  logger?: ((line: string) => void) | false;
  /**
   * Environment to read `MEMWATCHDOG_*` variables from; `false`: none.
   *
   * Default: `process.env`.
   */
  env?: Record<string, string | undefined> | false;
}

/** Each option and variable, by key path (or by variable when it has no option): what the parser checks. */
export const OPTIONS = {
  "native.threshold": {"key":"native.threshold","env":"MEMWATCHDOG_THRESHOLD","type":"number","above":0,"must":"a positive number of bytes per millisecond (e.g. 256)"},
  "native.detector": {"key":"native.detector","env":"MEMWATCHDOG_DETECTOR","type":"detector"},
  "prometheus.port": {"key":"prometheus.port","env":"MEMWATCHDOG_PROMETHEUS_PORT","type":"port","default":9469},
  "MEMWATCHDOG_PROMETHEUS_PORT_BASE": {"env":"MEMWATCHDOG_PROMETHEUS_PORT_BASE","type":"number","integer":true,"min":1,"max":65535,"must":"a port number from 1 to 65535"},
  "prometheus.host": {"key":"prometheus.host","env":"MEMWATCHDOG_PROMETHEUS_HOST","type":"string","default":"0.0.0.0"},
  "prometheus.registry": {"key":"prometheus.registry","type":"registry"},
  "prometheus.processMetrics": {"key":"prometheus.processMetrics","env":"MEMWATCHDOG_PROMETHEUS_PROCESS_METRICS","type":"bool","default":true},
  "prometheus.serviceLabel": {"key":"prometheus.serviceLabel","env":"MEMWATCHDOG_PROMETHEUS_SERVICE_LABEL","type":"label","default":"service"},
  "prometheus.labels": {"key":"prometheus.labels","env":"MEMWATCHDOG_PROMETHEUS_LABELS","type":"labels"},
  "alert.url": {"key":"alert.url","env":"MEMWATCHDOG_ALERT_URL","type":"url"},
  "alert.resendIntervalMs": {"key":"alert.resendIntervalMs","env":"MEMWATCHDOG_ALERT_RESEND_INTERVAL_MS","type":"number","min":1000,"must":"a number of milliseconds of at least 1000","default":60000},
  "alert.labels": {"key":"alert.labels","env":"MEMWATCHDOG_LABELS","type":"labels"},
  "snapshot.dir": {"key":"snapshot.dir","env":"MEMWATCHDOG_SNAPSHOT_DIR","type":"path"},
  "snapshot.enabled": {"key":"snapshot.enabled","env":"MEMWATCHDOG_SNAPSHOT_ENABLED","type":"bool"},
  "snapshot.maxFiles": {"key":"snapshot.maxFiles","env":"MEMWATCHDOG_SNAPSHOT_MAX_FILES","type":"number","integer":true,"min":2,"must":"a whole number of at least 2 (a baseline and a leak snapshot)","default":10},
  "snapshot.cooldownMs": {"key":"snapshot.cooldownMs","env":"MEMWATCHDOG_SNAPSHOT_COOLDOWN_MS","type":"number","min":0,"must":"a number of milliseconds (0 or more)","default":900000},
  "snapshot.memoryLimitBytes": {"key":"snapshot.memoryLimitBytes","env":"MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT","type":"bytes","above":0,"must":"a positive number of bytes (e.g. 536870912, 512Mi or 2G)"},
  "snapshot.allowUnknownMemory": {"key":"snapshot.allowUnknownMemory","env":"MEMWATCHDOG_SNAPSHOT_ALLOW_UNKNOWN_MEMORY","type":"bool","default":false},
  "snapshot.analyzeMaxBytes": {"key":"snapshot.analyzeMaxBytes","env":"MEMWATCHDOG_SNAPSHOT_ANALYZE_MAX_BYTES","type":"bytes","min":0,"must":"a number of bytes, 0 or more (e.g. 1073741824, 1Gi; 0: never)","default":1073741824},
  "snapshot.nearHeapLimit": {"key":"snapshot.nearHeapLimit","env":"MEMWATCHDOG_SNAPSHOT_NEAR_HEAP_LIMIT","type":"bool","default":true},
  "profile.enabled": {"key":"profile.enabled","env":"MEMWATCHDOG_PROFILE_ENABLED","type":"bool","default":true},
  "profile.samplingInterval": {"key":"profile.samplingInterval","env":"MEMWATCHDOG_PROFILE_SAMPLING_INTERVAL","type":"number","integer":true,"min":1,"max":2147483647,"must":"a whole number of bytes from 1 to 2147483647 (e.g. 1048576)","default":1048576},
  "profile.dir": {"key":"profile.dir","env":"MEMWATCHDOG_PROFILE_DIR","type":"path"},
  "profile.maxFiles": {"key":"profile.maxFiles","env":"MEMWATCHDOG_PROFILE_MAX_FILES","type":"number","integer":true,"min":2,"must":"a whole number of at least 2 (a baseline and a leak profile)","default":10},
  "profile.cooldownMs": {"key":"profile.cooldownMs","env":"MEMWATCHDOG_PROFILE_COOLDOWN_MS","type":"number","min":0,"must":"a number of milliseconds (0 or more)","default":60000},
  "labels.service": {"key":"labels.service","env":"MEMWATCHDOG_SERVICE","type":"string"},
  "labels.instance": {"key":"labels.instance","env":"MEMWATCHDOG_INSTANCE","type":"string"},
  "trace.path": {"key":"trace.path","env":"MEMWATCHDOG_TRACE","type":"path","required":true},
  "trace.maxBytes": {"key":"trace.maxBytes","env":"MEMWATCHDOG_TRACE_MAX_BYTES","type":"bytes","above":0,"must":"a positive number of bytes (e.g. 104857600, 100Mi)","default":104857600},
  "logger": {"key":"logger","env":"MEMWATCHDOG_LOG","type":"logger"},
  "MEMWATCHDOG_DISABLED": {"env":"MEMWATCHDOG_DISABLED","type":"bool","default":false},
  "MEMWATCHDOG_PROCESSES": {"env":"MEMWATCHDOG_PROCESSES","type":"string","default":"main"},
  "MEMWATCHDOG_WATCHED_PID": {"env":"MEMWATCHDOG_WATCHED_PID","type":"number","integer":true,"min":1,"must":"a process id (set by the watchdog, not by hand)"},
  "env": {"key":"env","type":"env"},
} as const satisfies Record<string, OptionSpec>;

/** The groups of options; `disable`: the group may be `false`. */
export const SECTIONS = [{"key":"native","disable":false},{"key":"prometheus","disable":true},{"key":"alert","disable":false},{"key":"snapshot","disable":true},{"key":"profile","disable":true},{"key":"labels","disable":false},{"key":"trace","disable":true}] as const;

/** Every environment variable read. */
export const ENV_VARS = [
  "MEMWATCHDOG_THRESHOLD",
  "MEMWATCHDOG_DETECTOR",
  "MEMWATCHDOG_PROMETHEUS_PORT",
  "MEMWATCHDOG_PROMETHEUS_PORT_BASE",
  "MEMWATCHDOG_PROMETHEUS_HOST",
  "MEMWATCHDOG_PROMETHEUS_PROCESS_METRICS",
  "MEMWATCHDOG_PROMETHEUS_SERVICE_LABEL",
  "MEMWATCHDOG_PROMETHEUS_LABELS",
  "MEMWATCHDOG_ALERT_URL",
  "MEMWATCHDOG_ALERT_RESEND_INTERVAL_MS",
  "MEMWATCHDOG_LABELS",
  "MEMWATCHDOG_SNAPSHOT_DIR",
  "MEMWATCHDOG_SNAPSHOT_ENABLED",
  "MEMWATCHDOG_SNAPSHOT_MAX_FILES",
  "MEMWATCHDOG_SNAPSHOT_COOLDOWN_MS",
  "MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT",
  "MEMWATCHDOG_SNAPSHOT_ALLOW_UNKNOWN_MEMORY",
  "MEMWATCHDOG_SNAPSHOT_ANALYZE_MAX_BYTES",
  "MEMWATCHDOG_SNAPSHOT_NEAR_HEAP_LIMIT",
  "MEMWATCHDOG_PROFILE_ENABLED",
  "MEMWATCHDOG_PROFILE_SAMPLING_INTERVAL",
  "MEMWATCHDOG_PROFILE_DIR",
  "MEMWATCHDOG_PROFILE_MAX_FILES",
  "MEMWATCHDOG_PROFILE_COOLDOWN_MS",
  "MEMWATCHDOG_SERVICE",
  "MEMWATCHDOG_INSTANCE",
  "MEMWATCHDOG_TRACE",
  "MEMWATCHDOG_TRACE_MAX_BYTES",
  "MEMWATCHDOG_LOG",
  "MEMWATCHDOG_DISABLED",
  "MEMWATCHDOG_PROCESSES",
  "MEMWATCHDOG_WATCHED_PID",
] as const;
