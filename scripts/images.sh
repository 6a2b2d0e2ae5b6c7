#!/usr/bin/env bash
# Builds the Kubernetes init-container image (deploy/kubernetes/Containerfile) with buildah,
# from `make dist`'s tarballs (target/dist/npm), FROM scratch, as root, with the vfs storage
# driver (no overlay or fuse needed).
#
#   scripts/images.sh [NAME]      (make images; NAME defaults to localhost/memwatchdog-init:VERSION)
#
# Stages the build context in target/images/context:
#   copytree      crates/copytree linked statically (glibc's libc.a, -C target-feature=+crt-static)
#                 in a target directory of its own (target/images), stripped
#   memwatchdog/  `npm install --offline` of @memwatchdog/core and @memwatchdog/core-linux-x64-gnu
#                 from the tarballs, into an empty prefix, exactly as npm lays them out
# Prints the image name and its size; writes target/images/image.json { name, id, bytes }.
# Push it with `buildah --storage-driver vfs push NAME docker://REGISTRY/...`.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dist="$root/target/dist/npm"
ctx="$root/target/images/context"
triple=x86_64-unknown-linux-gnu
version="$(node -p 'require("./packages/core/package.json").version')"
name="${1:-localhost/memwatchdog-init:$version}"
for tool in buildah npm objcopy readelf; do
  command -v "$tool" >/dev/null || {
    echo "make images: $tool is missing; install with: apt-get install buildah (objcopy: binutils; npm: nodejs)" >&2
    exit 1
  }
done
[ "$(id -u)" = 0 ] || { echo "make images: buildah with --storage-driver vfs runs as root here (run as root)" >&2; exit 1; }
core="$dist/memwatchdog-core-$version.tgz"
addon="$dist/memwatchdog-core-linux-x64-gnu-$version.tgz"
for f in "$core" "$addon"; do
  [ -f "$f" ] || { echo "make images: $f is missing; run make dist first" >&2; exit 1; }
done
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || { echo "make images: glibc's static libc.a is missing; install with: apt-get install libc6-dev" >&2; exit 1; }

# CARGO_CACHE_RUSTC_INFO=0 and no stdin: see build-node in the Makefile.
CARGO_TARGET_DIR=target/images RUSTFLAGS="-C target-feature=+crt-static" CARGO_CACHE_RUSTC_INFO=0 \
  ${CARGO:-cargo} build --release --target "$triple" -p memwatchdog-copytree </dev/null
rm -rf "$ctx"
mkdir -p "$ctx/memwatchdog" "$ctx/mountpoint"
objcopy --strip-all "target/images/$triple/release/copytree" "$ctx/copytree"
if readelf -d "$ctx/copytree" | grep -q NEEDED; then
  echo "make images: $ctx/copytree is dynamically linked; the image has no libc to load it" >&2
  exit 1
fi
# An empty cache: nothing is fetched; the other platforms' optional packages are skipped.
cache="$(mktemp -d)"
trap 'rm -rf "$cache"' EXIT
(cd "$ctx/memwatchdog" && npm_config_cache="$cache" npm install --offline --no-audit --no-fund --no-package-lock \
  --ignore-scripts --omit=dev --loglevel=error --prefix . "$core" "$addon" >/dev/null)
rm -f "$ctx/memwatchdog/package.json"
[ -f "$ctx/memwatchdog/node_modules/@memwatchdog/core/dist/cjs/register.js" ] &&
  [ -f "$ctx/memwatchdog/node_modules/@memwatchdog/core-linux-x64-gnu/memwatchdog.linux-x64-gnu.node" ] || {
  echo "make images: npm did not install @memwatchdog/core and its linux-x64-gnu addon into $ctx/memwatchdog" >&2
  exit 1
}
chmod -R a+rX,go-w "$ctx"

# --layers=false, one commit: an image of two COPY layers; --timestamp 0 for reproducible layers.
id="$(buildah --storage-driver vfs bud --quiet --timestamp 0 -f deploy/kubernetes/Containerfile -t "$name" "$ctx")"
# The image's size: its layers, uncompressed, as the manifest lists them.
bytes="$(buildah --storage-driver vfs inspect --type image "$name" |
  node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(JSON.parse(d.Manifest).layers.reduce((s, l) => s + l.size, 0))')"
printf '{"name":"%s","id":"%s","bytes":%s}\n' "$name" "$id" "${bytes:-0}" >"$root/target/images/image.json"
echo "$name $id: $((bytes / 1000)) kB (layers, uncompressed)"
