#!/usr/bin/env bash
# Installs mw for the memory-check action and writes its path as the step output `mw`.
# MW_VERSION: a version (or dist-tag) of the @memwatchdog/cli npm package, or `source` to build
# mw with cargo from ACTION_PATH (this action's checkout); a package that cannot be installed
# (no release for this platform yet) falls back to the source build.
set -euo pipefail
: "${ACTION_PATH:?ACTION_PATH (the action checkout) is not set}"
: "${RUNNER_TEMP:?RUNNER_TEMP is not set}"
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
version="${MW_VERSION:-latest}"
mw=""
if [ "$version" != source ]; then
  prefix="$RUNNER_TEMP/memwatchdog-cli"
  if npm install --no-audit --no-fund --loglevel=error --prefix "$prefix" "@memwatchdog/cli@$version" \
    && "$prefix/node_modules/.bin/mw" --version; then
    mw="$prefix/node_modules/.bin/mw"
  else
    echo "::warning::@memwatchdog/cli@$version could not be installed or run here; building mw from source instead"
  fi
fi
if [ -z "$mw" ]; then
  command -v cargo >/dev/null || { echo "::error::building mw needs cargo (add a Rust toolchain step, or set mw-version to a published version)"; exit 1; }
  cargo build --release --locked -p memwatchdog-cli --manifest-path "$ACTION_PATH/Cargo.toml"
  mw="${CARGO_TARGET_DIR:-$ACTION_PATH/target}/release/mw"
  "$mw" --version
fi
echo "mw=$mw" >> "$GITHUB_OUTPUT"
