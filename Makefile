# Sluice: `make run` starts it, `make test` runs every test. Both install what they need first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: tools test-tools build run test test-unit test-integration test-e2e lint fmt bench bench-stream postgres

tools:
	@bash scripts/install-tools.sh

test-tools:
	@bash scripts/install-test-tools.sh

postgres:
	@bash scripts/ensure-postgres.sh

## Release build: target/release/sluice and the site in target/site.
build: tools
	cargo leptos build --release

## Starts Sluice at http://127.0.0.1:3000 on data/sluice.db (created on first start).
run: build
	./target/release/sluice serve

## Every test: unit, integration on SQLite and PostgreSQL, and the browser tests.
test: tools test-tools postgres
	cargo test -p app --features ssr
	cargo test -p server
	# fedora-messaging itself reads a real Sluice's AMQP messages with contrib/'s schemas.
	bash contrib/fedora-messaging/test.sh
	# Last, so that the debug binary the browser tests run matches its WebAssembly (a plain
	# `cargo test` rebuilds target/debug/sluice without cargo-leptos's settings).
	cargo leptos build
	$(MAKE) test-e2e

## Browser tests against the debug build (run `cargo leptos build` first).
test-e2e: test-tools
	SLUICE_BIN=$(CURDIR)/target/debug/sluice SLUICE_SITE_ROOT=$(CURDIR)/target/site bash end2end/run.sh

lint:
	cargo fmt --all -- --check
	python3 scripts/module-cycles.py app/src:app server/src:server
	cargo clippy -p app --features ssr --all-targets -- -D warnings
	cargo clippy -p server --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

fmt:
	cargo fmt --all

## Load figures for docs/BENCHMARKS.md (release build, wrk, SQLite and PostgreSQL).
bench: build postgres
	bash bench/run.sh

## Release-stream views (100,000 events, 50 releases) and a 1,000,000-event import.
bench-stream: postgres
	cargo build --release -p server --bin sluice
	bash bench/release_stream.sh
