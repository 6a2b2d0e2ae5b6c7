/**
 * Options: what users pass to `MemWatchdog.start()`, the `MEMWATCHDOG_*` environment
 * variables that fill in whatever the options leave out, and the defaults.
 *
 * Precedence: option > environment variable > default. A bad value throws a
 * {@link MemWatchdogConfigError} naming the option (`snapshot.maxFiles`) or the variable
 * (`MEMWATCHDOG_SNAPSHOT_MAX_FILES`) it came from.
 */
import { readFileSync } from "node:fs";
import { binding } from "./binding.js";
import { hostname } from "node:os";
import { basename, extname, join, resolve } from "node:path";

/** Leak detection settings. */
export interface DetectionOptions {
  /** Growth in bytes per millisecond that counts as a leak. Omitted: adaptive. */
  threshold?: number;
  /**
   * Any other detector settings (docs/detection.md, "Defaults"), as an object such as
   * `{ growth_allowance: { bytes: 8388608 } }` or the path of a JSON file holding one: the
   * file `mw detect --config` takes, so settings tried on recorded traces carry over as they
   * are. `threshold` above wins over the one in here.
   */
  detector?: Record<string, unknown> | string;
}

/** The Prometheus `/metrics` endpoint, served from a Rust thread. */
export interface PrometheusOptions {
  /**
   * Port (default 9469; 0 picks a free port; `false` disables the endpoint). Without it,
   * `MEMWATCHDOG_PROMETHEUS_PORT_BASE` + the PM2 instance number, or
   * `MEMWATCHDOG_PROMETHEUS_PORT`, applies.
   */
  port?: number | false;
  /** Address to listen on (default `0.0.0.0`: Prometheus scrapes from another host). */
  host?: string;
}

/** Alertmanager (API v2) alerts. */
export interface AlertOptions {
  /** Alertmanager base URL, e.g. `http://alertmanager:9093`. Omitted: no alerts. */
  url?: string;
  /** `severity` label (default `warning`). */
  severity?: string;
  /** How often a firing alert is re-sent, in ms (default 60000). */
  resendIntervalMs?: number;
}

/** Automatic heap snapshots. */
export interface SnapshotOptions {
  /** Directory for `.heapsnapshot` files (created with mode 0700). Setting it enables snapshots. */
  dir?: string;
  /** Write snapshots (default: `true` when `dir` is set). */
  enabled?: boolean;
  /** Most `.heapsnapshot` files kept in `dir`; the oldest are deleted (default 10). */
  maxFiles?: number;
  /** Minimum time between leak snapshots, in ms (default 900000 = 15 min). */
  cooldownMs?: number;
  /**
   * Memory limit of the process in bytes for the headroom check, replacing the cgroup
   * limit (useful where the real limit is not visible, e.g. a VM size).
   */
  memoryLimitBytes?: number;
  /**
   * Largest leak snapshot (bytes) that is analyzed in the background, on a Rust thread,
   * so the alert and the `analysis` event name the top suspect's retainer path (default
   * 1 GiB; `0` never). Analysis needs about 1.2 times the file size in memory and is
   * skipped when that is not available.
   */
  analyzeMaxBytes?: number;
  /** Arm V8's own snapshot near the heap limit (`v8.setHeapSnapshotNearHeapLimit`), default `true`. */
  nearHeapLimit?: boolean;
}

/**
 * Allocation profiling: V8's sampling heap profiler runs in this process (through a
 * same-process `node:inspector` session, no port); a baseline profile is taken when
 * warm-up ends and another on `suspect`/`leaking`, and the allocation sites whose live
 * sampled bytes grew go into the alert, the `leak` event and a JSON report.
 */
export interface ProfileOptions {
  /** Run the sampling heap profiler (default `true`). */
  enabled?: boolean;
  /**
   * Average bytes allocated between two samples (default 1 MiB). Smaller is finer and
   * costs more CPU: see docs/benchmarks-overhead.md. V8's own default is 32768.
   */
  samplingInterval?: number;
  /**
   * Directory for the `.heapprofile` files and the JSON reports (created with mode 0700).
   * Default: `snapshot.dir`. Without either, profiles are still taken and diffed (the
   * alert and the events get the allocation sites) but no file is written.
   */
  dir?: string;
  /** Most `.heapprofile` files kept in `dir`; the oldest go first, with their reports (default 10). */
  maxFiles?: number;
  /** Minimum time between two profiles taken on `suspect`/`leaking`, in ms (default 60000). */
  cooldownMs?: number;
}

/** Labels identifying this process in metrics and alerts. */
export interface LabelOptions {
  /** Service name (default: `npm_package_name`, the `name` in `./package.json`, or the script name). */
  service?: string;
  /** Instance (default `hostname:pid`). */
  instance?: string;
}

/** A CSV trace of every sample, for `mw detect`. */
export interface TraceOptions {
  /** File to write (created with mode 0600, truncated). */
  path: string;
  /** Recording stops at this size in bytes (default 100 MiB). */
  maxBytes?: number;
}

/** Everything `MemWatchdog.start()` accepts. Every field is optional. */
export interface MemWatchdogOptions {
  native?: DetectionOptions;
  prometheus?: PrometheusOptions | false;
  alert?: AlertOptions;
  snapshot?: SnapshotOptions | false;
  profile?: ProfileOptions | false;
  labels?: LabelOptions;
  trace?: TraceOptions | false;
  /** Where log lines go (default: stderr, prefixed `[memwatchdog]`); `false` silences them. */
  logger?: ((line: string) => void) | false;
  /** Environment to read `MEMWATCHDOG_*` variables from (default `process.env`; `false`: none). */
  env?: Record<string, string | undefined> | false;
}

/** Settings after options, environment and defaults are combined. */
export interface ResolvedOptions {
  threshold: number | undefined;
  /** Detector settings as JSON text, checked. */
  detector: string | undefined;
  prometheus: { port: number; host: string } | null;
  alert: { url: string; severity: string; resendIntervalMs: number } | null;
  snapshot: {
    dir: string;
    maxFiles: number;
    cooldownMs: number;
    memoryLimitBytes: number | undefined;
    analyzeMaxBytes: number | undefined;
    nearHeapLimit: boolean;
  } | null;
  profile: {
    samplingInterval: number;
    /** Where files go; `null`: nowhere (the diff still reaches the alert and the events). */
    dir: string | null;
    maxFiles: number;
    cooldownMs: number;
  } | null;
  labels: { service: string; instance: string };
  trace: { path: string; maxBytes: number } | null;
}

/** A setting has a value that cannot work; the message names the option or variable. */
export class MemWatchdogConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MemWatchdogConfigError";
  }
}

export const DEFAULT_PORT = 9469;
export const DEFAULT_HOST = "0.0.0.0";
export const DEFAULT_MAX_FILES = 10;
export const DEFAULT_COOLDOWN_MS = 15 * 60_000;
export const DEFAULT_TRACE_MAX_BYTES = 100 * 1024 * 1024;
export const DEFAULT_RESEND_INTERVAL_MS = 60_000;
/** Chosen from the overhead benchmark (docs/benchmarks-overhead.md). */
export const DEFAULT_SAMPLING_INTERVAL = 1024 * 1024;
export const DEFAULT_PROFILE_COOLDOWN_MS = 60_000;

/** Every environment variable read, for the README and the tests. */
export const ENV_VARS = [
  "MEMWATCHDOG_THRESHOLD",
  "MEMWATCHDOG_DETECTOR",
  "MEMWATCHDOG_PROMETHEUS_PORT",
  "MEMWATCHDOG_PROMETHEUS_PORT_BASE",
  "MEMWATCHDOG_PROMETHEUS_HOST",
  "MEMWATCHDOG_ALERT_URL",
  "MEMWATCHDOG_ALERT_SEVERITY",
  "MEMWATCHDOG_ALERT_RESEND_INTERVAL_MS",
  "MEMWATCHDOG_SNAPSHOT_DIR",
  "MEMWATCHDOG_SNAPSHOT_ENABLED",
  "MEMWATCHDOG_SNAPSHOT_MAX_FILES",
  "MEMWATCHDOG_SNAPSHOT_COOLDOWN_MS",
  "MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT",
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
] as const;

type Env = Record<string, string | undefined>;

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** A value from the options (`name` = option path) or the environment (`name` = variable). */
interface Raw {
  name: string;
  value: unknown;
  fromEnv: boolean;
}

function pick(optionName: string, optionValue: unknown, envName: string, env: Env): Raw | undefined {
  if (optionValue !== undefined) return { name: optionName, value: optionValue, fromEnv: false };
  const v = env[envName];
  if (v !== undefined && v.trim() !== "") return { name: envName, value: v.trim(), fromEnv: true };
  return undefined;
}

function toNumber(raw: Raw, what: string, check: (n: number) => boolean): number {
  const n = typeof raw.value === "number" ? raw.value : typeof raw.value === "string" ? Number(raw.value) : NaN;
  if (!Number.isFinite(n) || !check(n)) {
    throw new MemWatchdogConfigError(`${raw.name} must be ${what}, got ${describe(raw.value)}`);
  }
  return n;
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** Bytes: a number, or in the environment also `512MiB`, `2G`, `1.5GB`. */
function toBytes(raw: Raw): number {
  const what = "a positive number of bytes (e.g. 536870912, 512MiB or 2G)";
  if (typeof raw.value === "string") {
    const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(raw.value);
    const unit = m ? BYTE_UNITS[(m[2] ?? "").toLowerCase()] : undefined;
    if (!m || unit === undefined) {
      throw new MemWatchdogConfigError(`${raw.name} must be ${what}, got ${describe(raw.value)}`);
    }
    return toNumber({ ...raw, value: Math.floor(Number(m[1]) * unit) }, what, (n) => n > 0);
  }
  return toNumber(raw, what, (n) => n > 0);
}

function toBool(raw: Raw): boolean {
  if (typeof raw.value === "boolean") return raw.value;
  if (typeof raw.value === "string") {
    const v = raw.value.toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off"].includes(v)) return false;
  }
  throw new MemWatchdogConfigError(`${raw.name} must be true or false, got ${describe(raw.value)}`);
}

function toString(raw: Raw): string {
  if (typeof raw.value !== "string" || raw.value.trim() === "") {
    throw new MemWatchdogConfigError(`${raw.name} must be a non-empty string, got ${describe(raw.value)}`);
  }
  return raw.value.trim();
}

function isDisabled(value: unknown): boolean {
  return value === false || (typeof value === "string" && ["false", "off", "no", "disabled"].includes(value.toLowerCase()));
}

function objectOrEmpty<T extends object>(name: string, value: T | false | undefined): T | false {
  if (value === undefined) return {} as T;
  if (value === false) return false;
  if (typeof value !== "object" || value === null) {
    throw new MemWatchdogConfigError(`${name} must be an object or false, got ${describe(value)}`);
  }
  return value;
}

/**
 * The name of the variable holding this process's PM2 instance number: PM2's
 * `PM2_PROCESS_INSTANCE_VAR` or the app's `instance_var` when set, else `NODE_APP_INSTANCE`
 * (the order PM2 itself uses).
 */
export function instanceVar(env: Env): string {
  for (const key of ["PM2_PROCESS_INSTANCE_VAR", "instance_var"]) {
    const v = env[key]?.trim();
    if (v) return v;
  }
  return "NODE_APP_INSTANCE";
}

/**
 * `MEMWATCHDOG_PROMETHEUS_PORT_BASE` + the instance number (0 when the process has none),
 * or `undefined` when no base is set.
 */
function instancePort(env: Env): number | undefined {
  const baseRaw = pick("", undefined, "MEMWATCHDOG_PROMETHEUS_PORT_BASE", env);
  if (!baseRaw) return undefined;
  const base = toNumber(baseRaw, "a port number from 1 to 65535", (n) => Number.isInteger(n) && n >= 1 && n <= 65535);
  const key = instanceVar(env);
  const instRaw = pick("", undefined, key, env);
  const instance = instRaw ? toNumber(instRaw, "a whole number of 0 or more (the PM2 instance number)", (n) => Number.isInteger(n) && n >= 0) : 0;
  const port = base + instance;
  if (port > 65535) {
    throw new MemWatchdogConfigError(`MEMWATCHDOG_PROMETHEUS_PORT_BASE ${base} + ${key} ${instance} = ${port} is not a port number (at most 65535)`);
  }
  return port;
}

/** Whether `env` is that of a process PM2 started (PM2 sets `pm_id`). */
function underPm2(env: Env): boolean {
  return env["pm_id"] !== undefined && env["pm_id"] !== "";
}

/**
 * The environment a process started by PM2 will have once PM2 has set it up, for a
 * preload (`node -r @memwatchdog/core/register`) that runs before that.
 *
 * In cluster mode PM2 forks each worker with the app's settings packed into one JSON
 * variable, `pm2_env` (its top-level keys, with the app's `env` merged in, and the
 * instance number), and copies them into `process.env` only after the `-r` preloads ran.
 * This returns `env` with those values on top, as PM2 will put them (the app's settings
 * win over what the PM2 daemon's own environment holds); `env` itself when there is no
 * `pm2_env` (fork mode and plain Node need nothing: the variables are already there).
 * Throws when `pm2_env` is not a JSON object.
 */
export function pm2Environment(env: Env): Env {
  const packed = env["pm2_env"];
  if (packed === undefined || packed === "") return env;
  let parsed: unknown;
  try {
    parsed = JSON.parse(packed);
  } catch (err) {
    throw new Error(`cannot read PM2's pm2_env variable: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error("cannot read PM2's pm2_env variable: it is not a JSON object");
  }
  const settings = parsed as Record<string, unknown>;
  const out: Env = { ...env };
  const copy = (from: Record<string, unknown>): void => {
    for (const [key, value] of Object.entries(from)) {
      if (value === null || value === undefined || typeof value === "object" || typeof value === "function") continue;
      out[key] = String(value);
    }
  };
  const appEnv = settings["env"];
  if (typeof appEnv === "object" && appEnv !== null && !Array.isArray(appEnv)) copy(appEnv as Record<string, unknown>);
  copy(settings); // PM2 sets the top-level keys last (they include the instance number)
  delete out["pm2_env"];
  return out;
}

/** The service name when none is configured. */
export function defaultService(env: Env): string {
  // Under PM2: the app's name (a cluster worker's script is PM2's own ProcessContainer).
  const fromPm2 = underPm2(env) ? env["name"] : undefined;
  if (fromPm2) return fromPm2;
  const fromNpm = env["npm_package_name"];
  if (fromNpm) return fromNpm;
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(process.cwd(), "package.json"), "utf8"));
    if (pkg && typeof pkg === "object" && "name" in pkg && typeof pkg.name === "string" && pkg.name) return pkg.name;
  } catch {
    // No package.json here: fall through.
  }
  const script = process.argv[1];
  if (script) return basename(script, extname(script));
  return process.title || "node";
}

/** Combines options, environment and defaults; throws on the first bad value. */
export function resolveOptions(options: MemWatchdogOptions = {}): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new MemWatchdogConfigError(`MemWatchdog.start() options must be an object, got ${describe(options)}`);
  }
  const env: Env = options.env === false ? {} : (options.env ?? process.env);

  const native = options.native ?? {};
  const thresholdRaw = pick("native.threshold", native.threshold, "MEMWATCHDOG_THRESHOLD", env);
  const threshold = thresholdRaw
    ? toNumber(thresholdRaw, "a positive number of bytes per millisecond (e.g. 256)", (n) => n > 0)
    : undefined;
  const detectorRaw = pick("native.detector", native.detector, "MEMWATCHDOG_DETECTOR", env);
  const detector = detectorRaw ? detectorSettings(detectorRaw) : undefined;

  let prometheus: ResolvedOptions["prometheus"] = null;
  const prom = objectOrEmpty("prometheus", options.prometheus);
  if (prom !== false) {
    const portRaw = pick("prometheus.port", prom.port, "MEMWATCHDOG_PROMETHEUS_PORT", env);
    const enabled = !(portRaw && isDisabled(portRaw.value));
    if (enabled) {
      // A per-instance port (PM2 cluster mode) wins over MEMWATCHDOG_PROMETHEUS_PORT, not over the option.
      const basePort = prom.port === undefined ? instancePort(env) : undefined;
      const port =
        basePort ??
        (portRaw
          ? toNumber(portRaw, 'a port number from 0 to 65535 (0: any free port) or "false"', (n) => Number.isInteger(n) && n >= 0 && n <= 65535)
          : DEFAULT_PORT);
      const hostRaw = pick("prometheus.host", prom.host, "MEMWATCHDOG_PROMETHEUS_HOST", env);
      const host = hostRaw ? toString(hostRaw) : DEFAULT_HOST;
      prometheus = { port, host };
    }
  }

  const alertOpts = options.alert ?? {};
  const urlRaw = pick("alert.url", alertOpts.url, "MEMWATCHDOG_ALERT_URL", env);
  let alert: ResolvedOptions["alert"] = null;
  if (urlRaw) {
    const url = toString(urlRaw);
    if (!/^https?:\/\/[^/\s]+/.test(url)) {
      throw new MemWatchdogConfigError(`${urlRaw.name} must be an http:// or https:// base URL like http://alertmanager:9093, got ${describe(url)}`);
    }
    const sevRaw = pick("alert.severity", alertOpts.severity, "MEMWATCHDOG_ALERT_SEVERITY", env);
    const resendRaw = pick("alert.resendIntervalMs", alertOpts.resendIntervalMs, "MEMWATCHDOG_ALERT_RESEND_INTERVAL_MS", env);
    alert = {
      url,
      severity: sevRaw ? toString(sevRaw) : "warning",
      resendIntervalMs: resendRaw
        ? toNumber(resendRaw, "a number of milliseconds of at least 1000", (n) => n >= 1000)
        : DEFAULT_RESEND_INTERVAL_MS,
    };
  }

  let snapshot: ResolvedOptions["snapshot"] = null;
  const snap = objectOrEmpty("snapshot", options.snapshot);
  const snapDirRaw = snap === false ? undefined : pick("snapshot.dir", snap.dir, "MEMWATCHDOG_SNAPSHOT_DIR", env);
  if (snap !== false) {
    const dirRaw = snapDirRaw;
    const enabledRaw = pick("snapshot.enabled", snap.enabled, "MEMWATCHDOG_SNAPSHOT_ENABLED", env);
    const enabled = enabledRaw ? toBool(enabledRaw) : dirRaw !== undefined;
    if (enabled) {
      const dir = resolve(dirRaw ? toString(dirRaw) : "heapsnapshots");
      const maxRaw = pick("snapshot.maxFiles", snap.maxFiles, "MEMWATCHDOG_SNAPSHOT_MAX_FILES", env);
      const coolRaw = pick("snapshot.cooldownMs", snap.cooldownMs, "MEMWATCHDOG_SNAPSHOT_COOLDOWN_MS", env);
      const limitRaw = pick("snapshot.memoryLimitBytes", snap.memoryLimitBytes, "MEMWATCHDOG_SNAPSHOT_MEMORY_LIMIT", env);
      const analyzeRaw = pick("snapshot.analyzeMaxBytes", snap.analyzeMaxBytes, "MEMWATCHDOG_SNAPSHOT_ANALYZE_MAX_BYTES", env);
      const nearRaw = pick("snapshot.nearHeapLimit", snap.nearHeapLimit, "MEMWATCHDOG_SNAPSHOT_NEAR_HEAP_LIMIT", env);
      snapshot = {
        dir,
        maxFiles: maxRaw
          ? toNumber(maxRaw, "a whole number of at least 2 (a baseline and a leak snapshot)", (n) => Number.isInteger(n) && n >= 2)
          : DEFAULT_MAX_FILES,
        cooldownMs: coolRaw ? toNumber(coolRaw, "a number of milliseconds (0 or more)", (n) => n >= 0) : DEFAULT_COOLDOWN_MS,
        memoryLimitBytes: limitRaw ? toBytes(limitRaw) : undefined,
        analyzeMaxBytes: analyzeRaw !== undefined ? toBytes(analyzeRaw) : undefined,
        nearHeapLimit: nearRaw ? toBool(nearRaw) : true,
      };
    }
  }

  let profile: ResolvedOptions["profile"] = null;
  const prof = objectOrEmpty("profile", options.profile);
  if (prof !== false) {
    const enabledRaw = pick("profile.enabled", prof.enabled, "MEMWATCHDOG_PROFILE_ENABLED", env);
    if (!enabledRaw || toBool(enabledRaw)) {
      const intervalRaw = pick("profile.samplingInterval", prof.samplingInterval, "MEMWATCHDOG_PROFILE_SAMPLING_INTERVAL", env);
      const dirRaw = pick("profile.dir", prof.dir, "MEMWATCHDOG_PROFILE_DIR", env) ?? snapDirRaw;
      const maxRaw = pick("profile.maxFiles", prof.maxFiles, "MEMWATCHDOG_PROFILE_MAX_FILES", env);
      const coolRaw = pick("profile.cooldownMs", prof.cooldownMs, "MEMWATCHDOG_PROFILE_COOLDOWN_MS", env);
      profile = {
        samplingInterval: intervalRaw
          ? toNumber(intervalRaw, "a whole number of bytes from 1 to 2147483647 (e.g. 1048576)", (n) => Number.isInteger(n) && n >= 1 && n <= 2 ** 31 - 1)
          : DEFAULT_SAMPLING_INTERVAL,
        dir: dirRaw ? resolve(toString(dirRaw)) : snapshot ? snapshot.dir : null,
        maxFiles: maxRaw
          ? toNumber(maxRaw, "a whole number of at least 2 (a baseline and a leak profile)", (n) => Number.isInteger(n) && n >= 2)
          : DEFAULT_MAX_FILES,
        cooldownMs: coolRaw ? toNumber(coolRaw, "a number of milliseconds (0 or more)", (n) => n >= 0) : DEFAULT_PROFILE_COOLDOWN_MS,
      };
    }
  }

  const labelOpts = options.labels ?? {};
  const serviceRaw = pick("labels.service", labelOpts.service, "MEMWATCHDOG_SERVICE", env);
  const instanceRaw = pick("labels.instance", labelOpts.instance, "MEMWATCHDOG_INSTANCE", env);
  const labels = {
    service: serviceRaw ? toString(serviceRaw) : defaultService(env),
    instance: instanceRaw ? toString(instanceRaw) : `${hostname()}:${process.pid}`,
  };

  let trace: ResolvedOptions["trace"] = null;
  const traceOpts = objectOrEmpty<Partial<TraceOptions>>("trace", options.trace);
  if (traceOpts !== false) {
    const pathRaw = pick("trace.path", traceOpts.path, "MEMWATCHDOG_TRACE", env);
    if (pathRaw) {
      const maxRaw = pick("trace.maxBytes", traceOpts.maxBytes, "MEMWATCHDOG_TRACE_MAX_BYTES", env);
      trace = { path: resolve(toString(pathRaw)), maxBytes: maxRaw ? toBytes(maxRaw) : DEFAULT_TRACE_MAX_BYTES };
    }
  }

  return { threshold, detector, prometheus, alert, snapshot, profile, labels, trace };
}

/**
 * Detector settings as checked JSON text, from an object, JSON text (`{...}`, handy in an
 * environment variable) or the path of a JSON file.
 */
function detectorSettings(raw: Raw): string {
  let json: string;
  if (typeof raw.value === "object" && raw.value !== null && !Array.isArray(raw.value)) {
    json = JSON.stringify(raw.value);
  } else if (typeof raw.value === "string" && raw.value.trimStart().startsWith("{")) {
    json = raw.value;
  } else if (typeof raw.value === "string") {
    try {
      json = readFileSync(raw.value, "utf8");
    } catch (err) {
      throw new MemWatchdogConfigError(`${raw.name}: cannot read ${raw.value} (${(err as Error).message})`);
    }
  } else {
    throw new MemWatchdogConfigError(
      `${raw.name} must be an object of detector settings, JSON text or the path of a JSON file, got ${describe(raw.value)}`,
    );
  }
  const error = binding().detectorSettingsError(json);
  if (error) throw new MemWatchdogConfigError(`${raw.name}: ${error} (settings: docs/detection.md)`);
  return json;
}

/** Whether the environment turns logging off (`MEMWATCHDOG_LOG=off`). */
export function envLogOff(env: Env): boolean {
  const v = env["MEMWATCHDOG_LOG"];
  return v !== undefined && isDisabled(v.trim());
}
