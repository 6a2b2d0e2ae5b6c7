/**
 * Which processes `register` watches. `NODE_OPTIONS="-r @memwatchdog/core/register"` reaches
 * every Node process of a tree: the package manager that runs the start script, the tools
 * around the app, the app, and the app's own Node children. Only the app should take the
 * metrics port. This module decides, from facts the caller gathers (the main script as given
 * and with symlinks resolved, the environment, the pid), whether this process is one to watch
 * and why; it reads no file and touches no global.
 *
 * 0. Worker threads run `-r` preloads too: only the main thread may start the watchdog.
 * 1. Package-manager and tool processes are never watched: npm, npx, yarn (classic and berry),
 *    pnpm, corepack, nodemon, PM2's CLI and daemon, and launchers that only start another
 *    process (cross-env, concurrently, npm-run-all, dotenv-cli, env-cmd, tsx's CLI, node-gyp);
 *    nor install scripts (`npm_lifecycle_event` preinstall/install/postinstall/prepare).
 * 2. `MEMWATCHDOG_PROCESSES` says which of the others: `main` (default) watches a process
 *    unless it inherited `MEMWATCHDOG_WATCHED_PID` naming another process (the watchdog sets
 *    it when it starts, so Node processes started below a watched one carry it); `all`
 *    watches every one; script patterns watch the processes whose main script matches.
 */
import { MemWatchdogConfigError } from "./options.js";
import { OPTIONS } from "./options.generated.js";

type Env = Record<string, string | undefined>;

/** The variable a running watchdog sets to its pid, inherited by the processes it starts. */
export const WATCHED_PID = "MEMWATCHDOG_WATCHED_PID";
/** The variable that says which processes `register` watches. */
export const PROCESSES = "MEMWATCHDOG_PROCESSES";

/** What the caller knows about this process. */
export interface ProcessFacts {
  /** `process.argv`: `[1]` is the main script (absent for `node -e`, the REPL; `-` for stdin). */
  argv: readonly string[];
  env: Env;
  pid: number;
  /** A path with its symlinks resolved (`fs.realpathSync`), or `undefined` when it cannot be. */
  realpath: (path: string) => string | undefined;
  /** `false` in a worker thread (`-r` preloads run there too); default `true`. */
  isMainThread?: boolean;
}

/** Whether to watch this process, and why (one phrase, for `NODE_DEBUG=memwatchdog`). */
export interface ProcessRole {
  watch: boolean;
  reason: string;
}

/** `MEMWATCHDOG_PROCESSES`, read. */
export interface ProcessSelection {
  /** `all`: every process that is not a tool. */
  all: boolean;
  /** `main`: the first process of its tree to watch (no watched ancestor). */
  main: boolean;
  /** Script patterns: the processes whose main script matches one. */
  patterns: string[];
}

const PROCESSES_MUST =
  "main, all, or a comma-separated list of script patterns, each with a dot, a slash or a wildcard (worker*.js, jobs/*.js; main,worker.js)";

/**
 * Packages whose scripts are tools, never the app: package managers and launchers that run the
 * app as a child process. (Tools that run the app in their own process, like ts-node, are the app.)
 */
const TOOL_PACKAGES: Record<string, string> = {
  npm: "npm",
  yarn: "yarn",
  "@yarnpkg/cli-dist": "yarn",
  pnpm: "pnpm",
  corepack: "corepack",
  nodemon: "nodemon",
  pm2: "pm2",
  "node-gyp": "node-gyp",
  "cross-env": "cross-env",
  concurrently: "concurrently",
  "npm-run-all": "npm-run-all",
  "npm-run-all2": "npm-run-all",
  "dotenv-cli": "dotenv-cli",
  "env-cmd": "env-cmd",
  tsx: "tsx",
  // MemWatchdog's own `mw` launcher (npx @memwatchdog/cli): it runs the native binary.
  "@memwatchdog/cli": "mw",
};

/** npm lifecycle events that package managers run while installing. */
const INSTALL_EVENTS = new Set(["preinstall", "install", "postinstall", "preprepare", "prepare", "postprepare"]);

/**
 * The tool a script belongs to (`npm`, `npx`, `yarn`, ...), or `undefined` when it is not a
 * tool's. By the package that owns it (the path after the last `node_modules/`, scoped names
 * included), else by the places yarn and corepack keep package managers outside node_modules:
 * `.yarn/releases/yarn-*.cjs`, `<COREPACK_HOME>/v1/<name>/<version>/`.
 */
export function toolOf(script: string, env: Env = {}): string | undefined {
  const at = script.lastIndexOf("/node_modules/");
  if (at >= 0) {
    const parts = script.slice(at + "/node_modules/".length).split("/");
    const pkg = parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1] ?? ""}` : (parts[0] ?? "");
    const file = parts[parts.length - 1] ?? "";
    const tool = TOOL_PACKAGES[pkg];
    // PM2 runs each app inside its own ProcessContainer*.js: that process is the app.
    if (tool === "pm2" && file.startsWith("ProcessContainer")) return undefined;
    if (tool === "npm" && file === "npx-cli.js") return "npx";
    if (tool !== undefined) return tool;
  }
  if (/(?:^|\/)\.yarn\/releases\/yarn-[^/]*\.c?js$/.test(script)) return "yarn";
  const homes = [env["COREPACK_HOME"]?.replace(/\/+$/, ""), "/corepack"].filter((h): h is string => !!h);
  for (const home of homes) {
    const m = new RegExp(`${escape(home)}/v1/(npm|yarn|pnpm)/[^/]+/`).exec(script);
    if (m) return m[1] === "npm" && script.endsWith("/npx-cli.js") ? "npx" : m[1];
  }
  return undefined;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * `MEMWATCHDOG_PROCESSES` read (`main` when unset or blank); throws a
 * {@link MemWatchdogConfigError} naming the variable on a value that is not one.
 */
export function processSelection(env: Env): ProcessSelection {
  const raw = env[PROCESSES]?.trim() || String(OPTIONS.MEMWATCHDOG_PROCESSES.default);
  const selection: ProcessSelection = { all: false, main: false, patterns: [] };
  const entries = raw.split(",").map((e) => e.trim());
  for (const entry of entries) {
    const word = entry.toLowerCase();
    if (word === "all" && entries.length === 1) selection.all = true;
    else if (word === "main") selection.main = true;
    else if (/[./*?]/.test(entry)) selection.patterns.push(entry);
    else {
      // Empty entries, `all` beside others, and bare words (most likely a misspelt `main`).
      throw new MemWatchdogConfigError(`${PROCESSES} must be ${PROCESSES_MUST}, got ${JSON.stringify(env[PROCESSES])}`);
    }
  }
  return selection;
}

/** The pid in `MEMWATCHDOG_WATCHED_PID`, `undefined` when unset; throws when it is not a pid. */
export function watchedPid(env: Env): number | undefined {
  const raw = env[WATCHED_PID]?.trim();
  if (!raw) return undefined;
  const pid = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(pid >= 1) || !Number.isSafeInteger(pid)) {
    throw new MemWatchdogConfigError(`${WATCHED_PID} must be ${OPTIONS.MEMWATCHDOG_WATCHED_PID.must}, got ${JSON.stringify(env[WATCHED_PID])}`);
  }
  return pid;
}

/**
 * Whether `path` matches a script pattern: `*` and `?` stay within a path segment, `**` crosses
 * them. A pattern without a slash is matched against the file name, one starting with `/`
 * against the whole path, any other against the path's last segments (`jobs/*.js` matches
 * `/srv/app/jobs/nightly.js`).
 */
export function matchesScript(pattern: string, path: string): boolean {
  const p = pattern.replace(/^\.\//, "");
  let re = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === "*" && p[i + 1] === "*") {
      i++;
      if (p[i + 1] === "/") {
        i++;
        re += "(?:.*/)?";
      } else {
        re += ".*";
      }
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += escape(c);
  }
  if (!p.includes("/")) return new RegExp(`^${re}$`).test(path.slice(path.lastIndexOf("/") + 1));
  return new RegExp(p.startsWith("/") ? `^${re}$` : `(?:^|/)${re}$`).test(path);
}

/**
 * Decides whether `register` watches this process. Throws a {@link MemWatchdogConfigError}
 * naming the variable when `MEMWATCHDOG_PROCESSES` or `MEMWATCHDOG_WATCHED_PID` is not valid
 * (in a process that is not a tool: a tool stays silent whatever the settings).
 */
export function processRole(facts: ProcessFacts): ProcessRole {
  const { env, pid } = facts;
  if (facts.isMainThread === false) {
    return { watch: false, reason: "a worker thread (the watchdog is one per process, started on the main thread)" };
  }
  const given = facts.argv[1] === "-" ? undefined : facts.argv[1];
  // Under PM2 the app's script is pm_exec_path (in cluster mode Node runs PM2's
  // ProcessContainer.js, which loads it); `pm2 start npm -- start` makes npm the "app": still a tool.
  const pm2Script = env["pm_id"] ? env["pm_exec_path"] : undefined;
  const scripts: string[] = [];
  for (const s of [pm2Script, given]) {
    if (!s) continue;
    const real = facts.realpath(s);
    for (const p of [real, s]) if (p && !scripts.includes(p)) scripts.push(p);
  }

  for (const s of scripts) {
    const tool = toolOf(s, env);
    if (tool) return { watch: false, reason: `${tool}'s own process (${s})` };
  }
  const lifecycle = env["npm_lifecycle_event"];
  if (lifecycle && INSTALL_EVENTS.has(lifecycle)) {
    return { watch: false, reason: `an install script (npm_lifecycle_event=${lifecycle})` };
  }

  const selection = processSelection(env);
  const parent = watchedPid(env);
  const script = scripts[0] ?? "(no main script)";
  if (selection.all) return { watch: true, reason: `${PROCESSES}=all (${script})` };
  for (const pattern of selection.patterns) {
    const hit = scripts.find((s) => matchesScript(pattern, s));
    if (hit) return { watch: true, reason: `${hit} matches ${pattern} in ${PROCESSES}` };
  }
  if (selection.main) {
    if (parent !== undefined && parent !== pid) {
      return {
        watch: false,
        reason:
          `below watched process ${parent} (${WATCHED_PID}; ${PROCESSES}=main); ` +
          `to watch it too: ${PROCESSES}=all, or a pattern matching ${script}`,
      };
    }
    return { watch: true, reason: `the main process of its tree (${script}), no watched ancestor` };
  }
  return { watch: false, reason: `${script} matches none of ${PROCESSES}=${env[PROCESSES]?.trim()}` };
}
