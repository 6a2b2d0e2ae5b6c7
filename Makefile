# MemWatchdog — the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: build test check fmt clippy demo bench fixtures clean

build:
	$(CARGO) build --release --workspace

test: build
	$(CARGO) test --workspace --release

fmt:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets --release -- -D warnings

check: fmt clippy test

clean:
	$(CARGO) clean
