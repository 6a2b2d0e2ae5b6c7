/**
 * Options: what users pass to `MemWatchdog.start()`, the `MEMWATCHDOG_*` environment
 * variables that fill in whatever the options leave out, and the defaults.
 *
 * Every option and variable is a row of one table (options.table.mjs, generated into
 * `options.generated.ts` with the option interfaces and their docs); this file reads and
 * checks values by their row, then assembles the groups. Precedence: option > environment
 * variable > default. A bad value, an unknown option or an unknown `MEMWATCHDOG_*` variable
 * throws a {@link MemWatchdogConfigError} naming what the user wrote (`snapshot.maxFiles`,
 * `MEMWATCHDOG_SNAPSHOT_MAX_FILES`).
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, extname, join, resolve } from "node:path";
import { binding } from "./binding.js";
import type { OptionSpec } from "./option-spec.js";
import { isRegistry, type PromClientRegistry } from "./prom-client.js";
import { ENV_VARS, type MemWatchdogOptions, OPTIONS, SECTIONS } from "./options.generated.js";

export { ENV_VARS };
export type {
  AlertOptions,
  DetectionOptions,
  LabelOptions,
  MemWatchdogOptions,
  ProfileOptions,
  PrometheusOptions,
  SnapshotOptions,
  TraceOptions,
} from "./options.generated.js";

/** Settings after options, environment and defaults are combined. */
export interface ResolvedOptions {
  threshold: number | undefined;
  /** Detector settings as JSON text, checked. */
  detector: string | undefined;
  /**
   * `null`: `prometheus: false`. `port` `null`: no endpoint of the watchdog's own (the
   * port is `false`, or a `registry` serves the metrics and no port was asked for).
   */
  prometheus: {
    port: number | null;
    host: string;
    registry: PromClientRegistry | null;
    processMetrics: boolean;
    /** The service label's name on metrics; `false`: none. */
    serviceLabel: string | false;
    labels: Record<string, string>;
  } | null;
  alert: { url: string; resendIntervalMs: number; labels: Record<string, string> } | null;
  snapshot: {
    dir: string;
    maxFiles: number;
    cooldownMs: number;
    memoryLimitBytes: number | undefined;
    allowUnknownMemory: boolean;
    analyzeMaxBytes: number;
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

type Env = Record<string, string | undefined>;
type Id = keyof typeof OPTIONS;
type Group = Record<string, unknown>;

/** What reading an option of each type gives. */
type ValueOf<T extends OptionSpec["type"]> = T extends "number" | "bytes"
  ? number
  : T extends "port"
    ? number | false
    : T extends "bool"
      ? boolean
      : T extends "registry"
        ? PromClientRegistry
        : T extends "label"
        ? string | false
        : T extends "labels"
        ? Record<string, string>
        : T extends "logger"
        ? ((line: string) => void) | boolean
        : T extends "env"
          ? Env | false
          : string;
type Value<K extends Id> = ValueOf<(typeof OPTIONS)[K]["type"]>;

/** The one yes/no vocabulary of variables (any case). */
const YES = ["true", "yes", "on", "1"];
const NO = ["false", "no", "off", "0"];

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : typeof value === "function" ? "a function" : String(value);
}

/** A value as the user gave it: `name` is the option's key path or the variable. */
interface Given {
  name: string;
  value: unknown;
}

/** The option's value, else the variable's (trimmed, when not blank), else `undefined`. */
function given(spec: OptionSpec, group: Group | undefined, env: Env): Given | undefined {
  if (spec.key !== undefined && group !== undefined) {
    const value = group[spec.key.slice(spec.key.lastIndexOf(".") + 1)];
    if (value !== undefined) return { name: spec.key, value };
  }
  const value = spec.env === undefined ? undefined : env[spec.env]?.trim();
  return value ? { name: spec.env as string, value } : undefined;
}

/** The value of one row as the user set it, checked; `undefined` when neither option nor variable is set. */
function read<K extends Id>(id: K, group: Group | undefined, env: Env): Value<K> | undefined {
  const spec: OptionSpec = OPTIONS[id];
  const g = given(spec, group, env);
  return g === undefined ? undefined : (parse(spec, g) as Value<K>);
}

/**
 * Every value the user set, each read and checked once by its row — also those of a group
 * that ends up unused (a bad value is an error wherever it sits).
 */
class Values {
  private readonly values = new Map<Id, unknown>();

  constructor(options: Group, env: Env) {
    for (const id of Object.keys(OPTIONS) as Id[]) {
      const key: string | undefined = (OPTIONS[id] as OptionSpec).key;
      const section = key?.includes(".") ? group(options, key.slice(0, key.indexOf("."))) : options;
      this.values.set(id, read(id, section || undefined, env));
    }
  }

  /** The value set, or `undefined`. */
  get<K extends Id>(id: K): Value<K> | undefined {
    return this.values.get(id) as Value<K> | undefined;
  }

  /** The value set, else the table's default. */
  or<K extends Id>(id: K): Value<K> {
    return this.get(id) ?? ((OPTIONS[id] as OptionSpec).default as Value<K>);
  }
}

function fail(g: Given, must: string): never {
  throw new MemWatchdogConfigError(`${g.name} must be ${must}, got ${describe(g.value)}`);
}

/**
 * A number within the row's bounds. A `bytes` string (variable or option) is read by the
 * addon's size reader, the one `mw` uses too: `536870912`, `512Mi`, `1G`, `0.5Gi` (Kubernetes
 * units; a fraction of a byte rounds up); its message says what is wrong and what to write.
 */
function number(spec: OptionSpec, g: Given): number {
  const must = spec.must ?? "a number";
  let n = typeof g.value === "number" ? g.value : typeof g.value === "string" ? Number(g.value) : NaN;
  if (spec.type === "bytes" && typeof g.value === "string") {
    const { parseSize } = binding(); // outside the try: a missing addon is not a bad value
    try {
      n = parseSize(g.value);
    } catch (err) {
      throw new MemWatchdogConfigError(`${g.name} must be ${must}, got ${describe(g.value)}: ${(err as Error).message}`);
    }
  }
  const ok =
    Number.isFinite(n) &&
    (!spec.integer || Number.isInteger(n)) &&
    (spec.min === undefined || n >= spec.min) &&
    (spec.max === undefined || n <= spec.max) &&
    (spec.above === undefined || n > spec.above);
  return ok ? n : fail(g, must);
}

function bool(g: Given): boolean {
  if (typeof g.value === "boolean") return g.value;
  const word = typeof g.value === "string" ? g.value.toLowerCase() : undefined;
  if (word !== undefined && YES.includes(word)) return true;
  if (word !== undefined && NO.includes(word)) return false;
  return fail(g, "true or false (in a variable also 1/0, yes/no, on/off)");
}

function string(g: Given): string {
  if (typeof g.value !== "string" || g.value.trim() === "") fail(g, "a non-empty string");
  return g.value.trim();
}

const PORT = { type: "number", integer: true, min: 0, max: 65535, must: 'a port number from 0 to 65535 (0: any free port) or "false"' } as const;

/** Reads and checks one value by its row of the table. */
function parse(spec: OptionSpec, g: Given): unknown {
  switch (spec.type) {
    case "number":
    case "bytes":
      return number(spec, g);
    case "port":
      if (g.value === false) return false;
      if (typeof g.value === "string" && NO.includes(g.value.toLowerCase()) && g.value !== "0") return false;
      return number(PORT, g);
    case "bool":
      return bool(g);
    case "string":
      return string(g);
    case "path":
      return resolve(string(g));
    case "url": {
      const url = string(g);
      const problem = binding().alertUrlError(url);
      if (problem) throw new MemWatchdogConfigError(`${g.name}: ${problem}`);
      return url;
    }
    case "detector":
      return detectorSettings(g);
    case "label": {
      if (g.value === false || (typeof g.value === "string" && NO.includes(g.value.toLowerCase()))) return false;
      const name = string(g);
      const problem = binding().labelNameError(name, "metric");
      return problem ? fail(g, `a label name or false, but ${problem}`) : name;
    }
    case "labels":
      return labels(spec, g);
    case "registry":
      return isRegistry(g.value) ? g.value : fail(g, "a prom-client Registry (e.g. require(\"prom-client\").register)");
    case "logger":
      if (typeof g.value === "function" || g.value === false) return g.value;
      if (typeof g.value === "string") return bool(g);
      return fail(g, "a function (line) => void or false");
    case "env":
      if (g.value === false || (typeof g.value === "object" && g.value !== null && !Array.isArray(g.value))) return g.value;
      return fail(g, "an object of environment variables or false");
  }
}

/**
 * Constant labels from an object of strings or `name=value,name=value` text, each name checked
 * by the addon: on alerts (`alert.labels`) or on metrics.
 */
function labels(spec: OptionSpec, g: Given): Record<string, string> {
  const must = "labels as an object of strings or name=value,name=value text";
  let pairs: [string, unknown][];
  if (typeof g.value === "string") {
    pairs = g.value.split(",").map((item) => {
      const eq = item.indexOf("=");
      return eq < 0 ? fail(g, `${must} (no "=" in ${JSON.stringify(item.trim())})`) : [item.slice(0, eq).trim(), item.slice(eq + 1).trim()];
    });
  } else if (typeof g.value === "object" && g.value !== null && !Array.isArray(g.value)) {
    pairs = Object.entries(g.value);
  } else {
    return fail(g, must);
  }
  const out: Record<string, string> = {};
  for (const [name, value] of pairs) {
    if (typeof value !== "string" || value === "") fail(g, `${must} (the value of ${JSON.stringify(name)} is ${describe(value)})`);
    const problem = binding().labelNameError(name, spec.key === "alert.labels" ? "alert" : "metric");
    if (problem) throw new MemWatchdogConfigError(`${g.name}: ${problem}`);
    out[name] = value;
  }
  return out;
}

/** Levenshtein distance, ignoring case. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) {
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[y.length] ?? 0;
}

/** The part of a name after its group (`snapshot.`) or the variables' `MEMWATCHDOG_`. */
function ownPart(name: string): string {
  return name.replace(/^MEMWATCHDOG_/, "").replace(/^[^.]*\./, "");
}

/** Throws "unknown <what> <name>", with the nearest valid name when one is close. */
function unknown(what: string, name: string, valid: readonly string[]): never {
  const far = (candidate: string): number => distance(ownPart(name), ownPart(candidate));
  const [best] = [...valid].sort((a, b) => far(a) - far(b));
  const close = best !== undefined && far(best) <= Math.max(1, Math.floor(ownPart(best).length / 3));
  const hint = close ? `did you mean ${best}? (all of them: README.md, "Options and environment variables")` : `valid: ${valid.join(", ")}`;
  throw new MemWatchdogConfigError(`unknown ${what} ${name}: ${hint}`);
}

/** Throws on an option or `MEMWATCHDOG_*` variable the table does not have. */
function rejectUnknown(options: Group, env: Env): void {
  const keys = Object.values(OPTIONS as Record<string, OptionSpec>).flatMap((o) => (o.key ? [o.key] : []));
  const topLevel = [...SECTIONS.map((s) => s.key), ...keys.filter((k) => !k.includes("."))];
  for (const key of Object.keys(options)) {
    if (!topLevel.includes(key)) unknown("option", key, topLevel);
  }
  for (const section of SECTIONS) {
    const group = options[section.key];
    if (typeof group !== "object" || group === null) continue;
    const valid = keys.filter((k) => k.startsWith(`${section.key}.`));
    for (const key of Object.keys(group)) {
      if (!valid.includes(`${section.key}.${key}`)) unknown("option", `${section.key}.${key}`, valid);
    }
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith("MEMWATCHDOG_") && !(ENV_VARS as readonly string[]).includes(name)) {
      unknown("environment variable", name, ENV_VARS);
    }
  }
}

/** A group of options: `undefined` when not given, `false` when turned off (where allowed). */
function group(options: Group, key: string): Group | false | undefined {
  const value = options[key];
  const section = SECTIONS.find((s) => s.key === key);
  if (value === undefined) return undefined;
  if (value === false && section?.disable) return false;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Group;
  throw new MemWatchdogConfigError(`${key} must be an object${section?.disable ? " or false" : ""}, got ${describe(value)}`);
}

/** Where `MEMWATCHDOG_*` variables are read from: the `env` option, else `process.env`. */
function environment(options: Group): Env {
  const env = read("env", options, {});
  return env === false ? {} : (env ?? process.env);
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
function instancePort(base: number | undefined, env: Env): number | undefined {
  if (base === undefined) return undefined;
  const key = instanceVar(env);
  const value = env[key]?.trim();
  const instance = value ? number(INSTANCE, { name: key, value }) : 0;
  const port = base + instance;
  if (port > 65535) {
    throw new MemWatchdogConfigError(`MEMWATCHDOG_PROMETHEUS_PORT_BASE ${base} + ${key} ${instance} = ${port} is not a port number (at most 65535)`);
  }
  return port;
}

const INSTANCE = { type: "number", integer: true, min: 0, must: "a whole number of 0 or more (the PM2 instance number)" } as const;

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
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new MemWatchdogConfigError(`MemWatchdog.start() options must be an object, got ${describe(options)}`);
  }
  const opts = options as Group;
  const env = environment(opts);
  rejectUnknown(opts, env);
  const v = new Values(opts, env);

  let prometheus: ResolvedOptions["prometheus"] = null;
  if (group(opts, "prometheus") !== false) {
    const port = v.get("prometheus.port");
    const registry = v.get("prometheus.registry") ?? null;
    // A per-instance port (PM2 cluster mode) wins over MEMWATCHDOG_PROMETHEUS_PORT, not over the option.
    const option = (opts["prometheus"] as Group | undefined)?.["port"];
    const perInstance = option === undefined && port !== false ? instancePort(v.get("MEMWATCHDOG_PROMETHEUS_PORT_BASE"), env) : undefined;
    // With a registry, the watchdog's own endpoint is opt-in.
    const fallback = registry === null ? OPTIONS["prometheus.port"].default : null;
    prometheus = {
      port: port === false ? null : (perInstance ?? port ?? fallback),
      host: v.or("prometheus.host"),
      registry,
      processMetrics: v.or("prometheus.processMetrics"),
      serviceLabel: v.or("prometheus.serviceLabel"),
      labels: v.get("prometheus.labels") ?? {},
    };
  }

  const url = v.get("alert.url");
  const alert = url === undefined ? null : { url, resendIntervalMs: v.or("alert.resendIntervalMs"), labels: v.get("alert.labels") ?? {} };

  let snapshot: ResolvedOptions["snapshot"] = null;
  const snapOff = group(opts, "snapshot") === false;
  const snapDir = snapOff ? undefined : v.get("snapshot.dir");
  if (!snapOff && (v.get("snapshot.enabled") ?? snapDir !== undefined)) {
    snapshot = {
      dir: snapDir ?? resolve("heapsnapshots"),
      maxFiles: v.or("snapshot.maxFiles"),
      cooldownMs: v.or("snapshot.cooldownMs"),
      memoryLimitBytes: v.get("snapshot.memoryLimitBytes"),
      allowUnknownMemory: v.or("snapshot.allowUnknownMemory"),
      analyzeMaxBytes: v.or("snapshot.analyzeMaxBytes"),
      nearHeapLimit: v.or("snapshot.nearHeapLimit"),
    };
  }

  let profile: ResolvedOptions["profile"] = null;
  if (group(opts, "profile") !== false && v.or("profile.enabled")) {
    profile = {
      samplingInterval: v.or("profile.samplingInterval"),
      dir: v.get("profile.dir") ?? snapDir ?? snapshot?.dir ?? null,
      maxFiles: v.or("profile.maxFiles"),
      cooldownMs: v.or("profile.cooldownMs"),
    };
  }

  const labels = {
    service: v.get("labels.service") ?? defaultService(env),
    instance: v.get("labels.instance") ?? `${hostname()}:${process.pid}`,
  };

  const tracePath = group(opts, "trace") === false ? undefined : v.get("trace.path");
  const trace = tracePath === undefined ? null : { path: tracePath, maxBytes: v.or("trace.maxBytes") };

  return {
    threshold: v.get("native.threshold"),
    detector: v.get("native.detector"),
    prometheus,
    alert,
    snapshot,
    profile,
    labels,
    trace,
  };
}

/** Where log lines go: the `logger` option, else stderr unless `MEMWATCHDOG_LOG` says no. */
export function resolveLogger(options: MemWatchdogOptions = {}): (line: string) => void {
  const opts = options as Group;
  const logger = read("logger", opts, environment(opts));
  if (typeof logger === "function") return logger;
  if (logger === false) return () => {};
  return (line: string) => {
    process.stderr.write(`[memwatchdog] ${line}\n`);
  };
}

/** Whether `MEMWATCHDOG_DISABLED` keeps `register` from starting; throws on a value that is not yes or no. */
export function registerDisabled(env: Env): boolean {
  return read("MEMWATCHDOG_DISABLED", undefined, env) ?? OPTIONS.MEMWATCHDOG_DISABLED.default;
}

/**
 * Detector settings as checked JSON text, from an object, JSON text (`{...}`, handy in an
 * environment variable) or the path of a JSON file.
 */
function detectorSettings(raw: Given): string {
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
