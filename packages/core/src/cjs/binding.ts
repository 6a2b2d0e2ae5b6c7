/**
 * Loads the napi-rs addon through the loader `napi build` generates in `native/`, on
 * first use (in `start()`), so that importing the package never fails: on a platform
 * without a build, `start()` throws a clear error and `register` logs it instead of
 * crashing the application. `NAPI_RS_NATIVE_LIBRARY_PATH` (honoured by that loader)
 * points it at another build.
 */
import type * as Native from "../../native/index.js";

export type NativeModule = typeof Native;
export type NativeWatchdog = Native.NativeWatchdog;
export type { NativeEvent, NativeFamily, NativeOptions, SnapshotVerdict } from "../../native/index.js";

let loaded: NativeModule | null = null;

/** The addon; throws an `Error` saying what is missing when it cannot be loaded. */
export function binding(): NativeModule {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require("../../native/index.js") as NativeModule;
  } catch (err) {
    throw new Error(
      `MemWatchdog: the native addon for ${process.platform}-${process.arch} (Node ${process.versions.node}) could not be loaded; ` +
        `build it with \`npm run build\` in @memwatchdog/core (${(err as Error).message.split("\n")[0]})`,
    );
  }
  return loaded;
}
