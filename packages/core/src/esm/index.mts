/**
 * ESM entry of `@memwatchdog/core`. It re-exports the CommonJS build, so `import` and
 * `require` in one process share the same singleton watchdog (one GC observer, one
 * metrics port).
 */
import core from "../cjs/index.js";

export const MemWatchdog = core.MemWatchdog;
export const MemWatchdogController = core.MemWatchdogController;
export const MemWatchdogConfigError = core.MemWatchdogConfigError;
export const ENV_VARS = core.ENV_VARS;
export const resolveOptions = core.resolveOptions;
export type * from "../cjs/index.js";
export default MemWatchdog;
