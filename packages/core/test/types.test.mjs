// The published declarations, type-checked the way TypeScript consumers compile against them:
// every moduleResolution (with its module setting) × skipLibCheck on/off × a CommonJS and an
// ESM consumer, with the oldest @types/node the package supports (peerDependencies), under
// the package's own TypeScript (devDependency, TypeScript 7) and the TypeScript 5 most users
// run. The package is what `npm pack` would publish (its "files"), copied into
// node_modules/@memwatchdog/core of a project in a temp dir outside the repo; needs dist/
// (`npm run build:ts`).
//
// Each consumer fails to compile if a declaration does not resolve or has an error, or if
// `MemWatchdog`, its default export or an event payload is `any` (the `@ts-expect-error`
// lines then have no error to expect), or if a typo in an option name or an event name is
// not an error. Errors inside @types/node's own files are shown, not failed: @types/node
// 20.0.0 does not type-check under TypeScript >= 5.7 with skipLibCheck off, package or not.
//
// TypeScript 5 cannot be a devDependency alias (its `tsc` bin would replace TypeScript 7's
// in node_modules/.bin), so it is installed once from npm into a cache folder, like the
// Node versions of test/matrix.sh (MW_TS_CACHE, default ~/.cache/memwatchdog-typescript).
// MW_TYPES_KEEP=1 keeps the temp projects and prints where they are.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { PKG } from "./helpers.mjs";

const TS5_VERSION = "5.9.3";
const pkgJson = JSON.parse(readFileSync(join(PKG, "package.json"), "utf8"));
// The oldest @types/node the package claims, installed by `npm ci` as the alias types-node-oldest.
const OLDEST_TYPES_DIR = join(PKG, "node_modules", "types-node-oldest");

/** TypeScript compilers: [name, path of its tsc entry, whether it still has node10]. */
function compilers() {
  const ts7 = join(PKG, "node_modules", "typescript");
  const ts7Version = JSON.parse(readFileSync(join(ts7, "package.json"), "utf8")).version;
  return [
    { name: `ts${ts7Version}`, tsc: join(ts7, "bin", "tsc"), node10: Number(ts7Version.split(".")[0]) < 7 },
    { name: `ts${TS5_VERSION}`, tsc: join(ensureTs5(), "bin", "tsc"), node10: true },
  ];
}

function ensureTs5() {
  const cache = process.env.MW_TS_CACHE || join(homedir(), ".cache", "memwatchdog-typescript");
  const dir = join(cache, TS5_VERSION);
  const ts = join(dir, "node_modules", "typescript");
  const installed = () => {
    try {
      return JSON.parse(readFileSync(join(ts, "package.json"), "utf8")).version === TS5_VERSION;
    } catch {
      return false;
    }
  };
  if (!installed()) {
    mkdirSync(dir, { recursive: true });
    execFileSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", `typescript@${TS5_VERSION}`], {
      cwd: dir,
      stdio: ["ignore", "ignore", "inherit"],
    });
    assert.ok(installed(), `could not install typescript@${TS5_VERSION} into ${dir}`);
  }
  return ts;
}

/**
 * Consumer settings: moduleResolution, module, and which consumers the mode has (an ESM
 * consumer file extension, a CommonJS one, and a checked `.js`/`.cjs` that calls `require`).
 */
const MODES = [
  { resolution: "node16", module: "node16", esm: ".mts", cjs: ".cts", js: ".cjs" },
  { resolution: "nodenext", module: "nodenext", esm: ".mts", cjs: ".cts", js: ".cjs" },
  { resolution: "bundler", module: "esnext", esm: ".ts", cjs: null, js: null },
  { resolution: "bundler", module: "preserve", esm: ".ts", cjs: ".cts", js: ".cjs" },
  // node10 reads "types" (the CommonJS declarations) and "typesVersions" (for "./register");
  // there an ESM-syntax `.ts` compiles to require().
  { resolution: "node10", module: "commonjs", esm: ".ts", cjs: ".ts", js: ".js", node10: true },
];

// What both kinds of consumer check, given MemWatchdog, MemWatchdogConfigError and the types
// MemWatchdogController, MemWatchdogOptions and StateEvent in scope.
const CHECKS = `
// MemWatchdog is the controller: were it \`any\`, this would be no error.
// @ts-expect-error
const notANumber: number = MemWatchdog;
const controller: MemWatchdogController = MemWatchdog.start({
  prometheus: { port: 9469 },
  snapshot: { dir: "./heapsnapshots", maxFiles: 3 },
});
const running: boolean = controller.running;
MemWatchdog.on("leak", (e) => {
  const signal: "heap" | "external" | "rss" = e.signal;
  const slope: number = e.slopeBytesPerMs;
  // @ts-expect-error the payload is a StateEvent, not \`any\`
  const wrong: number = e.signal;
  console.log(signal, slope, wrong);
});
MemWatchdog.once("snapshot", (s) => {
  const path: string = s.path;
  // @ts-expect-error the payload is a SnapshotEvent, not \`any\`
  const wrong: boolean = s.durationMs;
  console.log(path, wrong);
});
MemWatchdog.off("state", (e: StateEvent) => console.log(e.state));
// @ts-expect-error not an event of the watchdog
MemWatchdog.on("leek", () => {});
// @ts-expect-error a typo in an option name
MemWatchdog.start({ snapshot: { maxfiles: 3 } });
// @ts-expect-error a wrong option type
MemWatchdog.start({ prometheus: { port: "9469" } });
const options: MemWatchdogOptions = { alert: { url: "http://alertmanager:9093" } };
try {
  MemWatchdog.start(options).stop();
} catch (err) {
  if (err instanceof MemWatchdogConfigError) console.log(err.message);
}
const state: "normal" | "suspect" | "leaking" | "oom_risk" | "resolved" = MemWatchdog.state("rss");
console.log(notANumber, running, state);
`;

const ESM_CONSUMER = `import { MemWatchdog, MemWatchdogConfigError, MemWatchdogController, type MemWatchdogOptions, type StateEvent } from "@memwatchdog/core";
import defaultWatchdog from "@memwatchdog/core";
import "@memwatchdog/core/register";

const viaDefault: MemWatchdogController = defaultWatchdog;
// @ts-expect-error the default export is the controller, not \`any\`
const defaultNotANumber: number = defaultWatchdog;
const isController: boolean = MemWatchdog instanceof MemWatchdogController;
console.log(viaDefault, defaultNotANumber, isController);
${CHECKS}`;

const CJS_CONSUMER = `import core = require("@memwatchdog/core");
import { MemWatchdog as Named } from "@memwatchdog/core";
import "@memwatchdog/core/register";

const { MemWatchdog, MemWatchdogConfigError } = core;
type MemWatchdogController = core.MemWatchdogController;
type MemWatchdogOptions = core.MemWatchdogOptions;
type StateEvent = core.StateEvent;

// @ts-expect-error a named import is the controller, not \`any\`
const namedNotANumber: number = Named;
const isController: boolean = MemWatchdog instanceof core.MemWatchdogController;
console.log(namedNotANumber, isController);
${CHECKS}`;

// Plain JavaScript checked by TypeScript (checkJs): what an editor shows a require() user.
const JS_CONSUMER = `const { MemWatchdog, MemWatchdogConfigError } = require("@memwatchdog/core");

// @ts-expect-error MemWatchdog is the controller, not \`any\`
/** @type {number} */ const notANumber = MemWatchdog;
MemWatchdog.on("leak", (e) => {
  // @ts-expect-error the payload is a StateEvent, not \`any\`
  /** @type {number} */ const wrong = e.signal;
  console.log(wrong);
});
// @ts-expect-error a typo in an option name
MemWatchdog.start({ snapshot: { maxfiles: 3 } });
console.log(notANumber, MemWatchdogConfigError.name);
`;

/** The consumer projects: one per compiler × mode × skipLibCheck × kind. */
function consumers() {
  const list = [];
  for (const compiler of compilers()) {
    for (const mode of MODES) {
      if (mode.node10 && !compiler.node10) continue;
      for (const skipLibCheck of [false, true]) {
        for (const kind of ["esm", "cjs"]) {
          if (kind === "cjs" && !mode.cjs) continue;
          const name = `${compiler.name} ${mode.resolution}/${mode.module} ${kind} skipLibCheck=${skipLibCheck}`;
          list.push({ name, compiler, mode, skipLibCheck, kind });
        }
      }
    }
  }
  return list;
}

/** The files `npm pack` would publish ("files", plus package.json and README). */
function packedFiles() {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts", "--loglevel=error"], {
    cwd: PKG,
    encoding: "utf8",
  });
  return JSON.parse(out)[0].files.map((f) => f.path);
}

let root;

before(() => {
  assert.ok(existsSync(join(PKG, "dist", "esm", "index.d.mts")), "no dist/: run npm run build:ts first");
  assert.ok(existsSync(OLDEST_TYPES_DIR), "node_modules/types-node-oldest is missing: run npm ci");
  root = mkdtempSync(join(tmpdir(), "mw-types-"));
  const pkg = join(root, "node_modules", "@memwatchdog", "core");
  for (const file of packedFiles()) {
    mkdirSync(dirname(join(pkg, file)), { recursive: true });
    cpSync(join(PKG, file), join(pkg, file));
  }
  cpSync(OLDEST_TYPES_DIR, join(root, "node_modules", "@types", "node"), { recursive: true, dereference: true });
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "consumer", private: true }));
});

after(() => {
  if (process.env.MW_TYPES_KEEP) console.log(`types consumers kept in ${root}`);
  else if (root) rmSync(root, { recursive: true, force: true });
});

/** Writes a consumer project under the shared root; returns its directory. */
function writeConsumer({ compiler, mode, skipLibCheck, kind }) {
  const dir = join(root, `${compiler.name}-${mode.resolution}-${mode.module}-${kind}-${skipLibCheck ? "skip" : "check"}`);
  mkdirSync(dir);
  const files = [];
  const add = (name, text) => {
    writeFileSync(join(dir, name), text);
    files.push(name);
  };
  if (kind === "esm") {
    add(`consumer${mode.esm}`, ESM_CONSUMER);
  } else {
    add(`consumer${mode.cjs}`, CJS_CONSUMER);
    add(`plain${mode.js}`, JS_CONSUMER);
  }
  const compilerOptions = {
    target: "ES2022",
    lib: ["ES2022"],
    module: mode.module,
    moduleResolution: mode.resolution,
    strict: true,
    noEmit: true,
    skipLibCheck,
    types: ["node"],
    esModuleInterop: true,
    allowJs: true,
    checkJs: true,
    noUncheckedSideEffectImports: true,
  };
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, files }, null, 2));
  return dir;
}

// Compiles run at a lower priority (`nice`), so the timing-sensitive tests running beside
// this one (leak detection within a deadline) keep their CPU.
const NICE = ["/usr/bin/nice", "/bin/nice"].find((p) => existsSync(p));

/** Runs tsc -p dir; resolves to { code, output }. */
function tsc(compiler, dir) {
  const args = [compiler.tsc, "-p", join(dir, "tsconfig.json"), "--pretty", "false"];
  return new Promise((resolve) => {
    execFile(
      NICE ?? process.execPath,
      NICE ? ["-n", "10", process.execPath, ...args] : args,
      { cwd: dir, encoding: "utf8", maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

/** At most `n` compilers at once (each loads all of @types/node). */
function limiter(n) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= n || queue.length === 0) return;
    active++;
    const { fn, resolve, reject } = queue.shift();
    fn()
      .then(resolve, reject)
      .finally(() => {
        active--;
        next();
      });
  };
  return (fn) =>
    new Promise((resolve, reject) => {
      queue.push({ fn, resolve, reject });
      next();
    });
}

test("the declarations type-check for TypeScript consumers, and MemWatchdog is never any", { timeout: 240_000 }, async (t) => {
  const peer = pkgJson.peerDependencies?.["@types/node"];
  const oldest = JSON.parse(readFileSync(join(OLDEST_TYPES_DIR, "package.json"), "utf8")).version;
  assert.ok(peer, 'package.json peerDependencies has no "@types/node"');
  assert.equal(peer, `>=${oldest}`, "the tested @types/node (devDependency types-node-oldest) is the oldest the peer range allows");
  const run = limiter(Math.max(2, Math.min(4, availableParallelism())));
  const inTypesNode = new Set();
  await Promise.all(
    consumers().map((c) =>
      t.test(c.name, async () => {
        const dir = writeConsumer(c);
        const { code, output } = await run(() => tsc(c.compiler, dir));
        const found = diagnostics(output);
        assert.ok(code === 0 || found.length > 0, `tsc exited with ${code} in ${dir}:\n${output}`);
        const ours = found.filter((d) => !d.startsWith(TYPES_NODE_FILE));
        for (const d of found) if (d.startsWith(TYPES_NODE_FILE)) inTypesNode.add(`${c.compiler.name}: ${d.split("\n")[0]}`);
        assert.deepEqual(ours, [], `tsc in ${dir}:\n${ours.join("\n")}`);
      }),
    ),
  );
  // Old @types/node does not type-check under newer TypeScript libs whatever the package
  // (20.0.0 under TypeScript >= 5.7: Buffer vs the generic Uint8Array); a consumer with
  // skipLibCheck off gets these from @types/node alone, so they are shown, not failed.
  if (inTypesNode.size > 0) t.diagnostic(`errors inside @types/node@${oldest} itself (not failed):`);
  for (const d of [...inTypesNode].sort()) t.diagnostic(`  ${d}`);
});

// A diagnostic in a file of @types/node (paths in tsc's output are relative to the consumer).
const TYPES_NODE_FILE = "../node_modules/@types/node/";

/** tsc's diagnostics (`file(line,col): error TS...` with its indented continuation lines). */
function diagnostics(output) {
  const list = [];
  for (const line of output.split("\n")) {
    if (line.trim() === "") continue;
    if (/^\s/.test(line) && list.length > 0) list[list.length - 1] += `\n${line}`;
    else list.push(line);
  }
  return list;
}
