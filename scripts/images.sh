#!/usr/bin/env bash
# Builds the Kubernetes images with buildah, from `make dist`'s output (target/dist/npm),
# FROM scratch, as root, with the vfs storage driver (no overlay or fuse needed):
#
#   scripts/images.sh [init] [agent]     (make images: both)
#
#   init   deploy/kubernetes/Containerfile, localhost/memwatchdog-init:VERSION (or $INIT_IMAGE):
#          the init container that copies @memwatchdog/core into the pod's emptyDir
#   agent  deploy/kubernetes/Containerfile.agent, localhost/memwatchdog-agent:VERSION (or
#          $AGENT_IMAGE): `mw agent`, the sidecar
#
# Stages each build context in target/images/:
#   init-context/copytree      crates/copytree linked statically (glibc's libc.a, -C
#                              target-feature=+crt-static) in a target directory of its own
#                              (target/images), stripped
#   init-context/memwatchdog/  `npm install --offline` of @memwatchdog/core and
#                              @memwatchdog/core-linux-x64-gnu from the tarballs, into an empty
#                              prefix, exactly as npm lays them out
#   agent-context/mw           bin/mw of the @memwatchdog/cli-linux-x64-gnu tarball (the dist
#                              build: glibc 2.28 floor, stripped)
#   agent-context/rootfs/      exactly the libraries `ldd mw` lists, from this machine, at the
#                              paths it names, and the CA bundle /etc/ssl/certs/ca-certificates.crt
# Prints each image's name and size; writes target/images/{init,agent}.json { name, id, bytes }.
# Push with `buildah --storage-driver vfs push NAME docker://REGISTRY/...`.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dist="$root/target/dist/npm"
triple=x86_64-unknown-linux-gnu
version="$(node -p 'require("./packages/core/package.json").version')"
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(init agent)
for w in "${which[@]}"; do
  case "$w" in init | agent) ;; *) echo "make images: unknown image $w (init or agent)" >&2; exit 2 ;; esac
done
for tool in buildah npm objcopy readelf ldd tar; do
  command -v "$tool" >/dev/null || {
    echo "make images: $tool is missing; install with: apt-get install buildah (objcopy, readelf: binutils; npm: nodejs; ldd: libc-bin)" >&2
    exit 1
  }
done
[ "$(id -u)" = 0 ] || { echo "make images: buildah with --storage-driver vfs runs as root here (run as root)" >&2; exit 1; }
need() {
  [ -f "$1" ] || { echo "make images: $1 is missing; $2" >&2; exit 1; }
}

# build CONTAINERFILE CONTEXT NAME JSON: the image, its size, target/images/JSON.
build() {
  local file="$1" ctx="$2" name="$3" json="$4" id bytes
  chmod -R a+rX,go-w "$ctx"
  # One commit (no --layers); --timestamp 0 for reproducible layers.
  id="$(buildah --storage-driver vfs bud --quiet --timestamp 0 -f "$file" -t "$name" "$ctx")"
  # The image's size: its layers, uncompressed, as the manifest lists them.
  bytes="$(buildah --storage-driver vfs inspect --type image "$name" |
    node -e 'const d = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(JSON.parse(d.Manifest).layers.reduce((s, l) => s + l.size, 0))')"
  printf '{"name":"%s","id":"%s","bytes":%s}\n' "$name" "$id" "${bytes:-0}" >"$root/target/images/$json"
  echo "$name $id: $((bytes / 1000)) kB (layers, uncompressed)"
}

init_image() {
  local ctx="$root/target/images/init-context" name="${INIT_IMAGE:-localhost/memwatchdog-init:$version}"
  local core="$dist/memwatchdog-core-$version.tgz" addon="$dist/memwatchdog-core-linux-x64-gnu-$version.tgz"
  need "$core" "run make dist first"
  need "$addon" "run make dist first"
  need /usr/lib/x86_64-linux-gnu/libc.a "glibc's static libc.a: install with: apt-get install libc6-dev"
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
  build deploy/kubernetes/Containerfile "$ctx" "$name" init.json
}

agent_image() {
  local ctx="$root/target/images/agent-context" name="${AGENT_IMAGE:-localhost/memwatchdog-agent:$version}"
  local cli="$dist/memwatchdog-cli-linux-x64-gnu-$version.tgz" ca=/etc/ssl/certs/ca-certificates.crt
  need "$cli" "run make dist first"
  need "$ca" "the CA bundle: install with: apt-get install ca-certificates"
  rm -rf "$ctx"
  mkdir -p "$ctx/rootfs/etc/ssl/certs" "$ctx/mountpoint"
  tar -xzf "$cli" -O package/bin/mw >"$ctx/mw"
  chmod 0755 "$ctx/mw"
  local interp
  interp="$(readelf -l "$ctx/mw" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')"
  # `ldd` lines: `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)`, `/lib64/ld-linux-x86-64.so.2
  # (0x…)`, `linux-vdso.so.1 (0x…)` (the kernel's, no file); `not found` is an error.
  local deps
  deps="$(ldd "$ctx/mw")"
  if grep -q 'not found' <<<"$deps"; then
    echo "make images: a library of mw is missing on this machine:" >&2
    echo "$deps" >&2
    exit 1
  fi
  local lib libs=()
  while read -r lib; do
    [ -n "$lib" ] || continue
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
    libs+=("$lib")
  done < <(sed -n -e 's/^\s*[^ ]* => \(\/[^ ]*\) .*/\1/p' -e 's/^\s*\(\/[^ ]*\) .*/\1/p' <<<"$deps")
  [ -n "$interp" ] && [ -f "$ctx/rootfs$interp" ] || {
    echo "make images: mw's program interpreter ${interp:-(none)} is not among what ldd lists (${libs[*]})" >&2
    exit 1
  }
  cp -L "$ca" "$ctx/rootfs$ca"
  echo "agent image: mw with ${libs[*]}"
  build deploy/kubernetes/Containerfile.agent "$ctx" "$name" agent.json
}

mkdir -p "$root/target/images"
for w in "${which[@]}"; do
  "${w}_image"
done
