#!/usr/bin/env bash
# The release binaries this machine can build: the linux-x64-gnu addon and `mw`, linked
# against glibc 2.28 (cargo-zigbuild with zig as the linker: the binaries load on RHEL 8,
# Debian 10, Ubuntu 20.04 and newer), stripped, their debug information kept beside them.
#
#   scripts/dist/build.sh     (make dist runs it, then scripts/dist/pack.mjs)
#
# One cargo call builds both with the release profile, in a target directory of its own
# (target/zigbuild): cargo-zigbuild's linker setting for x86_64-unknown-linux-gnu also applies
# to the build scripts, which in target/release would then be relinked by each of `make build`
# and this script in turn, rebuilding some 40 crates every time. Output,
# where the release workflow's artifacts step puts the other platforms' builds:
#   packages/core/npm/linux-x64-gnu/memwatchdog.linux-x64-gnu.node
#   packages/cli/npm/linux-x64-gnu/bin/mw
#   target/dist/debug/{memwatchdog.linux-x64-gnu.node,mw-linux-x64-gnu}.debug  (objcopy
#     --only-keep-debug; each stripped binary names its file in .gnu_debuglink)
set -euo pipefail
cd "$(dirname "$0")/../.."
GLIBC_FLOOR="${GLIBC_FLOOR:-2.28}"
triple=x86_64-unknown-linux-gnu
for tool in cargo-zigbuild objcopy; do
  command -v "$tool" >/dev/null || {
    echo "make dist: $tool is missing; install with: pip install ziglang cargo-zigbuild (objcopy: apt-get install binutils)" >&2
    exit 1
  }
done
python3 -c 'import ziglang' 2>/dev/null || command -v zig >/dev/null || {
  echo "make dist: zig is missing; install with: pip install ziglang" >&2
  exit 1
}
# CARGO_CACHE_RUSTC_INFO=0 and no stdin: see build-node in the Makefile.
CARGO_TARGET_DIR=target/zigbuild CARGO_CACHE_RUSTC_INFO=0 ${CARGO:-cargo} zigbuild --release --target "$triple.$GLIBC_FLOOR" \
  -p memwatchdog-cli -p memwatchdog-napi </dev/null
out="target/zigbuild/$triple/release"
mkdir -p target/dist/debug packages/cli/npm/linux-x64-gnu/bin

# ship SRC DEST DEBUGNAME: DEST is SRC stripped, with a debug link to target/dist/debug/DEBUGNAME
ship() {
  local src="$1" dest="$2" debug="target/dist/debug/$3"
  objcopy --only-keep-debug "$src" "$debug"
  objcopy --strip-all --add-gnu-debuglink="$debug" "$src" "$dest.tmp"
  mv -f "$dest.tmp" "$dest"
}
ship "$out/libmemwatchdog_napi.so" packages/core/npm/linux-x64-gnu/memwatchdog.linux-x64-gnu.node memwatchdog.linux-x64-gnu.node.debug
ship "$out/mw" packages/cli/npm/linux-x64-gnu/bin/mw mw-linux-x64-gnu.debug
ls -l packages/core/npm/linux-x64-gnu/memwatchdog.linux-x64-gnu.node packages/cli/npm/linux-x64-gnu/bin/mw target/dist/debug/
