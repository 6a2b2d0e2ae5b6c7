/**
 * ESM entry of `@memwatchdog/core`. It re-exports the CommonJS build, so `import` and
 * `require` in one process share the same singleton watchdog (one GC observer, one
 * metrics port).
 *
 * By name, not through the CommonJS module's default export: to Node that is
 * `module.exports`, but to TypeScript under `moduleResolution: bundler` (and to bundlers that
 * honour `__esModule`) it is `exports.default`, the watchdog itself, so declarations written
 * against it (`core.MemWatchdogController`) did not resolve there. Node finds these names in
 * the CommonJS build statically (cjs-module-lexer); test/types.test.mjs type-checks the
 * declarations in every resolution mode.
 */
import { MemWatchdog } from "../cjs/index.js";

export { ENV_VARS, MemWatchdog, MemWatchdogConfigError, MemWatchdogController, resolveOptions } from "../cjs/index.js";
export type * from "../cjs/index.js";
export default MemWatchdog;
