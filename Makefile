# tagwatch developer tasks. `make demo` runs the whole thing locally; `make test` is CI.
SHELL := /bin/bash
CARGO ?= cargo
TOOLS := target/tools
PYTHON ?= python3
# The official UCloud Python SDK, the independent client the emulator is checked against.
UCLOUD_SDK_VERSION := 0.11.150

.PHONY: all build test lint fmt-check clippy unit python-sdk bench-emulator

all: build

build:
	$(CARGO) build --bins

## test: everything CI runs (formatting, lints, the whole test suite).
test: fmt-check clippy test-deps
	$(CARGO) test --all-targets

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

## test-deps: tools the test suite drives as users do.
.PHONY: test-deps
test-deps: python-sdk

python-sdk: $(TOOLS)/venv/.sdk-$(UCLOUD_SDK_VERSION)

$(TOOLS)/venv/.sdk-$(UCLOUD_SDK_VERSION):
	$(PYTHON) -m venv $(TOOLS)/venv
	$(TOOLS)/venv/bin/pip install --quiet --disable-pip-version-check ucloud-sdk-python3==$(UCLOUD_SDK_VERSION)
	touch $@

## bench-emulator: uhub-emulator's requests/s for a 100-tag page on one core (needs wrk).
bench-emulator:
	bench/emulator/run.sh 10s 32
