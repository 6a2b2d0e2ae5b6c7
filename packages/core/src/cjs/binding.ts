/**
 * Loads the napi-rs addon through the loader `napi build` generates in `native/`, on
 * first use (in `start()`), so that importing the package never fails: on a platform
 * without a build, `start()` throws a clear error and `register` logs it instead of
 * crashing the application. The loader takes the addon from `native/` (a source build)
 * or from the per-platform package `@memwatchdog/core-<platform>`, an optional
 * dependency npm installs only where its os, cpu and libc match.
 * `NAPI_RS_NATIVE_LIBRARY_PATH` (honoured by that loader) points it at another build.
 */
import type * as Native from "../../native/index.js";

export type NativeModule = typeof Native;
export type NativeWatchdog = Native.NativeWatchdog;
export type { NativeEvent, NativeFamily, NativeOptions, SnapshotVerdict } from "../../native/index.js";

let loaded: NativeModule | null = null;

/** The platform part of the per-platform package names: linux-x64-gnu, darwin-arm64, win32-x64-msvc... */
export function platformKey(): string {
  const { platform, arch } = process;
  if (platform === "linux") {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return `linux-${arch}-${report?.header?.glibcVersionRuntime ? "gnu" : "musl"}`;
  }
  if (platform === "win32") return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** The per-platform packages this copy of the package was published with (none in a source checkout). */
function platformPackages(): string[] {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const own = require("../../package.json") as { optionalDependencies?: Record<string, string> };
    return Object.keys(own.optionalDependencies ?? {});
  } catch {
    return [];
  }
}

/** The message of the error `binding()` throws when the addon cannot be loaded. */
export function loadErrorMessage(cause: string, key = platformKey(), packages = platformPackages()): string {
  const wanted = `@memwatchdog/core-${key}`;
  const prefix = "@memwatchdog/core-";
  const have = packages.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
  const where = packages.includes(wanted)
    ? `its prebuilt addon is the optional dependency ${wanted}, which is not installed: reinstall without ` +
      `--omit=optional / --no-optional (and without a lockfile made where optional packages were left out)`
    : have.length > 0
      ? `there is no prebuilt addon for ${key}`
      : `this copy of @memwatchdog/core has no prebuilt addons (a source checkout): run \`make build\` at the repository's root`;
  const exist = have.length > 0 ? `; prebuilt addons exist for ${have.join(", ")} (${prefix}<platform>)` : "";
  return (
    `MemWatchdog: the native addon for ${key} (Node ${process.versions.node}) could not be loaded; ${where}${exist}. ` +
    `To build it from source (Rust >= 1.85): \`make build\` in a clone of the repository, then set ` +
    `NAPI_RS_NATIVE_LIBRARY_PATH to its packages/core/native/memwatchdog.${key}.node (${cause.split("\n")[0]})`
  );
}

/** The addon; throws an `Error` saying what is missing when it cannot be loaded. */
export function binding(): NativeModule {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require("../../native/index.js") as NativeModule;
  } catch (err) {
    throw new Error(loadErrorMessage((err as Error).message));
  }
  return loaded;
}
