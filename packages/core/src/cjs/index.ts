/**
 * `@memwatchdog/core`: an in-process memory-leak watchdog for Node.js services.
 *
 * ```js
 * const { MemWatchdog } = require("@memwatchdog/core");
 * MemWatchdog.start({ prometheus: { port: 9469 }, snapshot: { dir: "./heapsnapshots" } });
 * MemWatchdog.on("leak", (e) => console.error("leak", e.signal, e.slopeBytesPerMs));
 * ```
 */
import { MemWatchdogController } from "./watchdog.js";

/** The process-wide watchdog: `MemWatchdog.start(options)`, `.stop()`, `.on('leak', ...)`. */
export const MemWatchdog: MemWatchdogController = new MemWatchdogController();

export { MemWatchdogController } from "./watchdog.js";
export type { AnalysisEvent, DetectorState, MemWatchdogEvents, Signal, StateEvent } from "./watchdog.js";
export { ENV_VARS, MemWatchdogConfigError, resolveOptions } from "./options.js";
export type {
  AlertOptions,
  DetectionOptions,
  LabelOptions,
  MemWatchdogOptions,
  ProfileOptions,
  PrometheusOptions,
  ResolvedOptions,
  SnapshotOptions,
  TraceOptions,
} from "./options.js";
export type { SnapshotEvent, SnapshotKind, SnapshotRefusedEvent } from "./snapshots.js";
export type { AllocationFrame, AllocationProfileEvent, AllocationSite, ProfileKind } from "./profiles.js";
export type { PromClientMetric, PromClientRegistry } from "./prom-client.js";
export default MemWatchdog;
