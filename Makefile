# MemWatchdog. The two set-up commands are `make demo` and `make test`; both build what
# they need from source. `make check` is what to run before a commit.
SHELL := /bin/bash
CARGO ?= cargo
MW := target/release/mw

.PHONY: build build-rust build-node dist test test-rust test-node test-kit test-replay test-dist test-action test-report test-vscode test-vscode-editor test-kubernetes test-agent test-fuzz fuzz images bench-html bench-agent check fmt clippy machete demo bench bench-analyzer bench-overhead bench-detect bench-metrics bench-huge bench-snapshot-cost fixtures clean
NPM_CI := npm ci --no-audit --no-fund --loglevel=error

## build: the mw binary (target/release/mw) and @memwatchdog/core (addon + JS, in packages/core)
build: build-rust build-node

build-rust:
	$(CARGO) build --release --workspace

# The addon is built by @napi-rs/cli (cargo underneath). CARGO_CACHE_RUSTC_INFO=0: a rustc
# target probe that failed once (seen twice here, cause unknown) must not be cached in
# target/.rustc_info.json and fail every later build; stdin is closed for the same reason.
build-node:
	cd packages/core && $(NPM_CI) && CARGO_CACHE_RUSTC_INFO=0 npm run build </dev/null

## dist: what npm publishes, for the platform this machine builds (linux-x64-gnu): the addon
## and mw linked against glibc 2.28 with cargo-zigbuild (pip install ziglang cargo-zigbuild),
## stripped (debug info in target/dist/debug), and the tarballs in target/dist/npm
dist: build-node
	bash scripts/dist/build.sh
	node scripts/dist/pack.mjs

## test: every test — Rust unit/integration tests, the Node package's tests, the
## observability kit (real Prometheus, promtool, amtool, Alertmanager, pm2), live-recorded
## traces and the npm packages as a user installs them
test: build test-rust test-node test-kit test-replay test-dist test-action test-report test-vscode test-kubernetes test-agent test-fuzz

# The analyzer's fixture tests run under Node 20 (system), 22 and 24 (installed once from npm).
test-rust:
	nodes="$$(bash scripts/node-versions.sh)" && MW_TEST_NODES="$$nodes" $(CARGO) test --release --workspace --no-fail-fast

# The Node package's tests under Node 20 (system), 22 and 24.
test-node: build-node
	cd packages/core && bash test/matrix.sh

test-kit: build-node
	cd tests/kit && $(NPM_CI) && node --test

# mw analyze --html pages drawn in Debian's headless chromium (puppeteer-core; no browser
# download): no console error, no request, the tree opens, the table sorts. Screenshots in
# target/report-screenshots/.
test-report: build-rust
	cd tests/report && PUPPETEER_SKIP_DOWNLOAD=1 $(NPM_CI) && node --test

# The detector on traces recorded live from real programs (about two minutes, nothing else
# running): a fast and an off-heap leak are declared, a steady service is not.
test-replay: build
	node --test tests/replay/

# The tarballs of `make dist` installed into a fresh app without a Rust toolchain; the glibc
# floor and stripping of the binaries; npm publish --dry-run.
test-dist: dist
	node --test tests/dist/

# The memory-check GitHub Action (action.yml): its steps run locally on a leaky and a clean
# example workload, and docs/ci-gate.md's workflow passes actionlint.
test-action: build-rust
	node --test tests/action/

# The VS Code extension (packages/vscode): its logic against the real mw on snapshots and heap
# profiles of a leaky test program, its webview pages in Debian's headless chromium, and the
# .vsix @vscode/vsce packs (contents checked).
test-vscode: build-rust
	cd packages/vscode && PUPPETEER_SKIP_DOWNLOAD=1 $(NPM_CI) && npm test

# The extension in a real VS Code (code-server from npm, under Node 24; its native modules need
# libkrb5-dev) driven in headless chromium. Not in `test`: ~62 s plus a 600 MB install.
test-vscode-editor: build-rust
	cd packages/vscode && bash scripts/code-server.sh >/dev/null && PUPPETEER_SKIP_DOWNLOAD=1 $(NPM_CI) && npm run test:editor

## images: the Kubernetes images from the dist tarballs, with buildah --storage-driver vfs, FROM
## scratch: the init container (deploy/kubernetes/Containerfile) and the mw agent sidecar
## (Containerfile.agent) (as root; docs/kubernetes.md)
images: dist
	bash scripts/images.sh

# mw agent, the Kubernetes sidecar, against real services: a Node service under the injected
# watchdog, moto's S3 server (pip moto[server]) and Alertmanager; S3 down then back, --scrub.
test-agent: build
	node --test tests/agent/

# deploy/kubernetes: the manifests validated (kubernetes-validate, the PodMonitor CRD schema), the
# init image built and its filesystem run as the init container, then a real Node service with the
# Deployment's env; the agent image built and run as the sidecar against moto's S3 server. After
# dist (built once per make run), as root.
test-kubernetes: dist
	node --test tests/kubernetes/

# The fuzz targets (fuzz/, docs/fuzzing.md) for 12 s each: a regression of the parsers fails
# here with the reproducer's path. Needs cargo-fuzz and a nightly toolchain (.ci/run installs them).
test-fuzz:
	FUZZ_SECONDS=12 bash scripts/fuzz.sh

## fuzz: each fuzz target for FUZZ_SECONDS (default 300 s), corpora kept in target/fuzz/corpus
FUZZ_SECONDS ?= 300
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

## check: formatting, clippy (pedantic, warnings are errors), unused dependencies, then every test
check: fmt clippy machete test

fmt:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

# Unused dependencies in any crate's Cargo.toml (a real false positive goes into that crate's
# [package.metadata.cargo-machete] ignored list, with a comment saying why).
machete:
	@command -v cargo-machete >/dev/null || { echo "make machete: cargo-machete is not installed; install it with: cargo install cargo-machete --locked" >&2; exit 1; }
	$(CARGO) machete

## demo: a leaky HTTP service, real load, snapshots, and `mw analyze` naming the leak
demo: build
	node examples/demo.mjs

## fixtures: (re)make the leak fixture snapshots into target/fixtures (tests make their own)
fixtures:
	node fixtures/generate.mjs target/fixtures --check

## bench: mw vs memlab on real 160 MB and 1 GB snapshots (docs/benchmarks.md), the
## watchdog's overhead on an HTTP service (docs/benchmarks-overhead.md), the detector's cost
## per sample and a confirmation GC's pause (docs/detection.md, "Cost"), and /metrics scrape
## latency with 200 idle connections held open (docs/benchmarks-metrics-server.md). Run on an
## idle machine.
bench: bench-analyzer bench-overhead bench-detect bench-metrics

bench-analyzer: build
	bash bench/run.sh

bench-overhead: build
	bash bench/overhead/run.sh

bench-detect:
	$(CARGO) run --release -p memwatchdog-detect --example push_cost
	node bench/confirmation-gc.cjs

# /metrics scrape latency, idle and with 200 idle connections held open.
bench-metrics:
	$(CARGO) run --release -p memwatchdog-exporter --example scrape_load -- --idle 0,200

## bench-snapshot-cost: peak memory of writing heap snapshots on Node 20, 22 and 24 (heaps of
## 30 MB to 1 GB; ~30 min, up to ~3 GB) and the snapshot guard's estimate against it
## (docs/benchmarks-snapshot-cost.md). Not part of `bench` or `test`.
bench-snapshot-cost:
	rm -f .bench/snapshot-cost.jsonl
	node bench/snapshot-cost.mjs
	node bench/snapshot-cost.mjs --report .bench/snapshot-cost.jsonl

## bench-html: mw analyze --html on the 1g snapshot pair (made as bench-analyzer makes it, or
## reused from .bench/snapshots/1g) and the page's load-to-drawn time in headless chromium
## (docs/benchmarks-html.md)
bench-html: build-rust
	bash bench/html.sh

## bench-agent: mw agent idle (memory, CPU) and uploading 1 GiB to moto (peak memory, time)
bench-agent: build-rust
	node bench/agent.mjs

## bench-huge: also a 4 GB snapshot (mw only)
bench-huge: build
	bash bench/run.sh --huge

clean:
	$(CARGO) clean
	rm -rf target/demo target/fixtures packages/cli/npm/*/bin packages/core/npm/*/*.node
