#!/usr/bin/env node
// The `mw` command of @memwatchdog/cli: finds the prebuilt binary in the package of this
// platform (@memwatchdog/cli-<platform>, an optional dependency npm installs only where its
// os/cpu/libc match) and runs it with the same arguments, standard streams and exit status.
// MEMWATCHDOG_MW_BINARY points it at another `mw` (a source build, say).
"use strict";

const { spawnSync } = require("node:child_process");
const { readFileSync } = require("node:fs");
const path = require("node:path");

function isMusl() {
  try {
    return readFileSync("/usr/bin/ldd", "utf8").includes("musl");
  } catch {
    // no ldd to read: ask Node which libc it runs on
  }
  const report = typeof process.report?.getReport === "function" ? process.report.getReport() : null;
  if (report?.header?.glibcVersionRuntime) return false;
  return Array.isArray(report?.sharedObjects) && report.sharedObjects.some((f) => f.includes("libc.musl-") || f.includes("ld-musl-"));
}

/** The platform part of the binary package's name: linux-x64-gnu, darwin-arm64, win32-x64-msvc, ... */
function platformKey() {
  const { platform, arch } = process;
  if (platform === "linux") return `linux-${arch}-${isMusl() ? "musl" : "gnu"}`;
  if (platform === "win32") return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

function binaryPath() {
  if (process.env.MEMWATCHDOG_MW_BINARY) return process.env.MEMWATCHDOG_MW_BINARY;
  const key = platformKey();
  const pkg = `@memwatchdog/cli-${key}`;
  const exe = process.platform === "win32" ? "mw.exe" : "mw";
  try {
    return require.resolve(`${pkg}/bin/${exe}`);
  } catch {
    const own = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
    const platforms = own.mw?.platforms ?? [];
    const known = platforms.includes(key);
    process.stderr.write(
      `mw: no prebuilt binary for ${key} (Node ${process.version}): ` +
        (known
          ? `the package ${pkg} is not installed — reinstall without --no-optional / --omit=optional, and keep package-lock.json from another platform from pinning it out`
          : `@memwatchdog/cli has binaries for ${platforms.join(", ")}`) +
        ".\nBuild from source instead (Rust >= 1.85): cargo install --path crates/cli in a clone of the repository " +
        "(or cargo install memwatchdog-cli), then run mw directly or set MEMWATCHDOG_MW_BINARY to its path.\n",
    );
    process.exit(127);
  }
}

const result = spawnSync(binaryPath(), process.argv.slice(2), { stdio: "inherit", windowsHide: true });
if (result.error) {
  process.stderr.write(`mw: could not run ${result.error.path ?? "the binary"}: ${result.error.message}\n`);
  process.exit(127);
}
if (result.signal) process.kill(process.pid, result.signal);
process.exit(result.status ?? 1);
