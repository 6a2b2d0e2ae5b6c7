/**
 * Every option of `MemWatchdog.start()` and every `MEMWATCHDOG_*` variable, once: key path,
 * variable, type, bounds, default and doc line. `scripts/options.mjs` generates from it
 * `src/cjs/options.generated.ts` (the option interfaces with their docs, the table the parser
 * reads, `ENV_VARS`) and the options table of README.md; `npm run build` runs it, and a test
 * fails when either is stale. Edit this file, never the generated ones.
 *
 * Types and what a value must be:
 * - `number`: a finite number within `min`/`max` (`integer`: whole; `above`: strictly greater).
 *   `must` is the phrase of the error message (`... must be <must>, got ...`).
 * - `bytes`: like `number`; a string (variable or option) is a size read by the addon, the reader
 *   `mw`'s byte flags use: `536870912`, `512Mi`, `1G`, `0.5Gi`, `64MiB` (Kubernetes units: `Ki Mi Gi Ti
 *   Pi Ei` powers of 1024, `k M G T P E` powers of 1000, also `KiB`.../`KB`... in any case; a fraction of
 *   a byte rounds up). `512m` is refused as ambiguous (Kubernetes: milli; Docker: MiB).
 * - `port`: a port number from 0 to 65535, or a "no" word (`false` as an option) to disable.
 * - `bool`: `true/false`, `1/0`, `yes/no`, `on/off` (any case) in a variable; a boolean as an option.
 * - `string`: non-empty (trimmed); `path`: a string made absolute against the working directory;
 *   `url`: an Alertmanager base URL, checked by the addon (the one check, shared with Rust users).
 * - `detector`: detector settings as an object, JSON text or the path of a JSON file.
 * - `label`: a Prometheus label name, or a "no" word (`false` as an option) for none.
 * - `labels`: constant labels: an object of strings, or `name=value,name=value` text; each name is
 *   checked by the addon (a valid name, not one of the watchdog's own).
 * - `registry`: a prom-client `Registry` (an option only: anything with `registerMetric` and
 *   `removeSingleMetric`).
 * - `logger`, `env`: options only JS can hold (a function, an object).
 *
 * `default` is the value used when neither option nor variable is set (absent: the resolver
 * decides, and `defaultDoc` says how); `defaultDoc` is also what the docs show.
 */

/** @typedef {"number" | "bytes" | "port" | "bool" | "string" | "path" | "url" | "detector" | "label" | "labels" | "registry" | "logger" | "env"} OptionType */

/**
 * The option groups, in the order of `MemWatchdogOptions`. `disable`: the group may be `false`.
 * @type {{ key: string, name: string, doc: string, disable?: string }[]}
 */
export const SECTIONS = [
  { key: "native", name: "DetectionOptions", doc: "Leak detection settings." },
  {
    key: "prometheus",
    name: "PrometheusOptions",
    doc: "The Prometheus `/metrics` endpoint, served from a Rust thread.",
    disable: "no `/metrics` endpoint",
  },
  { key: "alert", name: "AlertOptions", doc: "Alertmanager (API v2) alerts." },
  { key: "snapshot", name: "SnapshotOptions", doc: "Automatic heap snapshots.", disable: "no snapshots" },
  {
    key: "profile",
    name: "ProfileOptions",
    doc:
      "Allocation profiling: V8's sampling heap profiler runs in this process (through a same-process " +
      "`node:inspector` session, no port); a baseline profile is taken when warm-up ends and another on " +
      "`suspect`/`leaking`, and the allocation sites whose live sampled bytes grew go into the alert, the " +
      "`leak` event and a JSON report.",
    disable: "no allocation profiles",
  },
  { key: "labels", name: "LabelOptions", doc: "Labels identifying this process in metrics and alerts." },
  { key: "trace", name: "TraceOptions", doc: "A CSV trace of every sample, for `mw detect`.", disable: "no trace" },
];

const MS = "a number of milliseconds (0 or more)";

/**
 * `key`: the option's path (`section.name`, or a top-level name), absent for a variable that
 * has no option; `env`: its variable, absent for an option without one.
 * @type {{ key?: string, env?: string, type: OptionType, doc: string, default?: unknown,
 *          defaultDoc?: string, min?: number, max?: number, above?: number, integer?: boolean,
 *          must?: string, required?: boolean }[]}
 */
export const OPTIONS = [
  {
    key: "native.threshold",
    env: "MEMWATCHDOG_THRESHOLD",
    type: "number",
    above: 0,
    must: "a positive number of bytes per millisecond (e.g. 256)",
    defaultDoc: "adaptive",
    doc: "Growth in bytes per millisecond that counts as a leak (1 B/ms ≈ 3.4 MiB/h); wins over the detector settings' `threshold`.",
  },
  {
    key: "native.detector",
    env: "MEMWATCHDOG_DETECTOR",
    type: "detector",
    defaultDoc: "defaults",
    doc:
      "Any other detector setting (docs/detection.md, \"Defaults\"): an object such as " +
      "`{ growth_allowance: { bytes: 8388608 } }`, JSON text (`{...}`) or the path of a JSON file — the file " +
      "`mw detect --config` takes, so settings tried on recorded traces carry over as they are.",
  },
  {
    key: "prometheus.port",
    env: "MEMWATCHDOG_PROMETHEUS_PORT",
    type: "port",
    default: 9469,
    doc: "Port of `/metrics`; `0`: any free port; `false` (a variable: `false`/`off`/`no`): no endpoint.",
  },
  {
    env: "MEMWATCHDOG_PROMETHEUS_PORT_BASE",
    type: "number",
    integer: true,
    min: 1,
    max: 65535,
    must: "a port number from 1 to 65535",
    defaultDoc: "none",
    doc:
      "Port = base + the instance number (`NODE_APP_INSTANCE`, or the variable named by PM2's `instance_var`; " +
      "0 when unset): one port per PM2 worker. Wins over `MEMWATCHDOG_PROMETHEUS_PORT` (except its `false`), " +
      "not over `prometheus.port`.",
  },
  {
    key: "prometheus.host",
    env: "MEMWATCHDOG_PROMETHEUS_HOST",
    type: "string",
    default: "0.0.0.0",
    doc: "Address `/metrics` listens on: all interfaces, because Prometheus scrapes from another host (below).",
  },
  {
    key: "prometheus.registry",
    type: "registry",
    defaultDoc: "none",
    doc:
      "A prom-client `Registry` (e.g. `client.register`): the watchdog's metrics join it, so the service's own " +
      "`/metrics` serves them (docs/prometheus.md, \"With prom-client\"). The watchdog then opens no port of its " +
      "own unless `prometheus.port`, `MEMWATCHDOG_PROMETHEUS_PORT` or `MEMWATCHDOG_PROMETHEUS_PORT_BASE` asks for one.",
  },
  {
    key: "prometheus.processMetrics",
    env: "MEMWATCHDOG_PROMETHEUS_PROCESS_METRICS",
    type: "bool",
    default: true,
    doc:
      "`false`: leave out what prom-client's `collectDefaultMetrics()` already exports — heap used and total, " +
      "external, RSS, GC counts and pauses (`memwatchdog_heap_used_bytes`, `_heap_total_bytes`, `_external_bytes`, " +
      "`_rss_bytes`, `_gc_total`, `_gc_duration_seconds`) — so nothing is exported twice.",
  },
  {
    key: "prometheus.serviceLabel",
    env: "MEMWATCHDOG_PROMETHEUS_SERVICE_LABEL",
    type: "label",
    default: "service",
    doc:
      "Name of the label that carries `labels.service` on metrics; `false` (a variable: `false`/`off`/`no`): none — " +
      "behind a Kubernetes ServiceMonitor, whose target already has a `service` label (docs/prometheus.md, " +
      "\"Kubernetes labels\"). Alerts keep `service`.",
  },
  {
    key: "prometheus.labels",
    env: "MEMWATCHDOG_PROMETHEUS_LABELS",
    type: "labels",
    defaultDoc: "none",
    doc:
      "Constant labels on every metric sample, e.g. `{ team: \"payments\" }` (a variable: `team=payments,cluster=eu-1`). " +
      "Usually the scrape target's labels do this; use it when they cannot.",
  },
  {
    key: "alert.url",
    env: "MEMWATCHDOG_ALERT_URL",
    type: "url",
    defaultDoc: "none (no alerts)",
    doc: "Alertmanager base URL, e.g. `http://alertmanager:9093`.",
  },
  {
    key: "alert.resendIntervalMs",
    env: "MEMWATCHDOG_ALERT_RESEND_INTERVAL_MS",
    type: "number",
    min: 1000,
    must: "a number of milliseconds of at least 1000",
    default: 60_000,
    doc: "How often a firing alert is re-sent, in ms (`endsAt` is 3 periods ahead).",
  },
  {
    key: "alert.labels",
    env: "MEMWATCHDOG_LABELS",
    type: "labels",
    defaultDoc: "none",
    doc:
      "Constant labels on every alert the watchdog sends, for Alertmanager's routing tree, e.g. " +
      "`{ team: \"payments\", namespace: \"shop\" }` (a variable: `team=payments,namespace=shop`). " +
      "Not `alertname`, `severity`, `signal`, `service` or `instance`: the watchdog sets those.",
  },
  {
    key: "snapshot.dir",
    env: "MEMWATCHDOG_SNAPSHOT_DIR",
    type: "path",
    defaultDoc: "none (no snapshots)",
    doc: "Directory for `.heapsnapshot` files (created with mode 0700). Setting it enables snapshots.",
  },
  {
    key: "snapshot.enabled",
    env: "MEMWATCHDOG_SNAPSHOT_ENABLED",
    type: "bool",
    defaultDoc: "`true` when a dir is set",
    doc: "Write snapshots; `true` without a dir uses `./heapsnapshots`.",
  },
  {
    key: "snapshot.maxFiles",
    env: "MEMWATCHDOG_SNAPSHOT_MAX_FILES",
    type: "number",
    integer: true,
    min: 2,
    must: "a whole number of at least 2 (a baseline and a leak snapshot)",
    default: 10,
    doc: "Most `.heapsnapshot` files kept in the dir; the oldest are deleted first (this process's baseline is kept).",
  },
  {
    key: "snapshot.cooldownMs",
    env: "MEMWATCHDOG_SNAPSHOT_COOLDOWN_MS",
    type: "number",
    min: 0,
    must: MS,
    default: 15 * 60_000,
    doc: "Minimum time between leak snapshots, in ms.",
  },
  {
    key: "snapshot.memoryLimitBytes",
    env: "MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT",
    type: "bytes",
    above: 0,
    must: "a positive number of bytes (e.g. 536870912, 512Mi or 2G)",
    defaultDoc: "cgroup limit",
    doc: "Memory limit of the process for the headroom check, replacing the cgroup limit (useful where the real limit is not visible, e.g. a VM size).",
  },
  {
    key: "snapshot.allowUnknownMemory",
    env: "MEMWATCHDOG_SNAPSHOT_ALLOW_UNKNOWN_MEMORY",
    type: "bool",
    default: false,
    doc:
      "Write snapshots where the memory headroom cannot be read (no `/proc/meminfo` or cgroup, e.g. macOS and " +
      "Windows) and `snapshot.memoryLimitBytes` is not set; otherwise they are refused with reason `memory_unknown`.",
  },
  {
    key: "snapshot.analyzeMaxBytes",
    env: "MEMWATCHDOG_SNAPSHOT_ANALYZE_MAX_BYTES",
    type: "bytes",
    min: 0,
    must: "a number of bytes, 0 or more (e.g. 1073741824, 1Gi; 0: never)",
    default: 1024 ** 3,
    defaultDoc: "`1Gi`",
    doc:
      "Largest leak snapshot analyzed in the background, on a Rust thread, so the alert and the `analysis` event " +
      "name the top suspect's retainer path; `0`: never. Analysis needs about 1.2 times the file size in memory " +
      "and is skipped when that is not available.",
  },
  {
    key: "snapshot.nearHeapLimit",
    env: "MEMWATCHDOG_SNAPSHOT_NEAR_HEAP_LIMIT",
    type: "bool",
    default: true,
    doc: "Arm V8's own snapshot near the heap limit (`v8.setHeapSnapshotNearHeapLimit`, below).",
  },
  {
    key: "profile.enabled",
    env: "MEMWATCHDOG_PROFILE_ENABLED",
    type: "bool",
    default: true,
    doc: "Run V8's sampling heap profiler for allocation sites (below).",
  },
  {
    key: "profile.samplingInterval",
    env: "MEMWATCHDOG_PROFILE_SAMPLING_INTERVAL",
    type: "number",
    integer: true,
    min: 1,
    max: 2 ** 31 - 1,
    must: "a whole number of bytes from 1 to 2147483647 (e.g. 1048576)",
    default: 1024 * 1024,
    defaultDoc: "`1048576` (1 MiB)",
    doc:
      "Average bytes allocated between two samples; smaller is finer and costs more CPU " +
      "(docs/benchmarks-overhead.md). V8's own default is 32768.",
  },
  {
    key: "profile.dir",
    env: "MEMWATCHDOG_PROFILE_DIR",
    type: "path",
    defaultDoc: "`snapshot.dir`",
    doc:
      "Directory for the `.heapprofile` files and the JSON reports (created with mode 0700). Without it and " +
      "without `snapshot.dir` profiles are still taken and diffed (the alert and the events get the sites) but " +
      "no file is written.",
  },
  {
    key: "profile.maxFiles",
    env: "MEMWATCHDOG_PROFILE_MAX_FILES",
    type: "number",
    integer: true,
    min: 2,
    must: "a whole number of at least 2 (a baseline and a leak profile)",
    default: 10,
    doc: "Most `.heapprofile` files kept in the dir, oldest deleted first with their reports (this process's baseline is kept).",
  },
  {
    key: "profile.cooldownMs",
    env: "MEMWATCHDOG_PROFILE_COOLDOWN_MS",
    type: "number",
    min: 0,
    must: MS,
    default: 60_000,
    doc: "Minimum time between two profiles taken on `suspect`/`leaking`, in ms.",
  },
  {
    key: "labels.service",
    env: "MEMWATCHDOG_SERVICE",
    type: "string",
    defaultDoc: "under PM2 the app's name, else `npm_package_name`, else `name` in `./package.json`, else the script name",
    doc: "`service` label of metrics and alerts; also in file names.",
  },
  {
    key: "labels.instance",
    env: "MEMWATCHDOG_INSTANCE",
    type: "string",
    defaultDoc: "`hostname:pid`",
    doc: "`instance` label of alerts.",
  },
  {
    key: "trace.path",
    env: "MEMWATCHDOG_TRACE",
    type: "path",
    required: true,
    defaultDoc: "none",
    doc: "CSV trace file of every sample, for `mw detect` (created with mode 0600, truncated).",
  },
  {
    key: "trace.maxBytes",
    env: "MEMWATCHDOG_TRACE_MAX_BYTES",
    type: "bytes",
    above: 0,
    must: "a positive number of bytes (e.g. 104857600, 100Mi)",
    default: 100 * 1024 * 1024,
    defaultDoc: "`100Mi`",
    doc: "Recording stops (with one log line) at this size.",
  },
  {
    key: "logger",
    env: "MEMWATCHDOG_LOG",
    type: "logger",
    defaultDoc: "stderr, prefixed `[memwatchdog]`",
    doc: "Where log lines go: a function `(line) => void`, or `false` (a variable: `false`/`off`/`no`/`0`) for none.",
  },
  {
    env: "MEMWATCHDOG_DISABLED",
    type: "bool",
    default: false,
    doc: "`register` does not start the watchdog.",
  },
  {
    env: "MEMWATCHDOG_PROCESSES",
    type: "string",
    default: "main",
    doc:
      "Which Node processes `register` watches, package managers and tools never (\"Which processes `register` " +
      "watches\", above): `main`, a process that no watched process started (not the app's Node children); `all`, " +
      "every one; or comma-separated script patterns (`worker*.js`, `jobs/*.js`, `main,worker.js`) matched against " +
      "the main script's file name, or its path when the pattern has a slash. A pattern needs a dot, a slash or a wildcard.",
  },
  {
    env: "MEMWATCHDOG_WATCHED_PID",
    type: "number",
    integer: true,
    min: 1,
    must: "a process id (set by the watchdog, not by hand)",
    defaultDoc: "set by the watchdog",
    doc:
      "Set by `start()` to this process's pid and inherited by the processes it starts: `register` there sees that " +
      "it runs below a watched process (with `MEMWATCHDOG_PROCESSES=main`: skips). Not for setting by hand.",
  },
  {
    key: "env",
    type: "env",
    defaultDoc: "`process.env`",
    doc: "Environment to read `MEMWATCHDOG_*` variables from; `false`: none.",
  },
];
