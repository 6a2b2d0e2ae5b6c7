/**
 * Loads the napi-rs addon through the loader `napi build` generates in `native/`.
 * `NAPI_RS_NATIVE_LIBRARY_PATH` (honoured by that loader) points it at another build.
 */
import native = require("../../native/index.js");

export type NativeModule = typeof native;
export type NativeWatchdog = InstanceType<NativeModule["NativeWatchdog"]>;
export type { NativeEvent, NativeOptions, SnapshotVerdict } from "../../native/index.js";

export const binding: NativeModule = native;
