# tagwatch developer tasks. `make demo` runs the whole thing locally; `make test` is CI.
SHELL := /bin/bash
CARGO ?= cargo
TOOLS := target/tools
PYTHON ?= python3
# The official UCloud Python SDK, the independent client the emulator is checked against.
UCLOUD_SDK_VERSION := 0.11.150
# The official CloudEvents Python SDK, the receiver `format: cloudevents` is checked with.
CLOUDEVENTS_SDK_VERSION := 2.2.0

.PHONY: all build demo test lint fmt-check clippy unit python-sdk crds bench bench-scale bench-emulator bench-faults

all: build

build:
	$(CARGO) build --workspace --bins

## demo: control plane, UHub emulator, operator and example TagWatches, until Ctrl-C.
demo: build controlplane-bin
	scripts/demo.sh

## test: everything CI runs (formatting, lints, the whole test suite).
test: fmt-check clippy test-deps
	$(CARGO) test --workspace --all-targets --no-fail-fast

## unit: the fast loop: every crate's unit tests, no control plane or tools needed.
unit:
	$(CARGO) test --workspace --lib --bins

## crds: regenerate the committed CRD from the Rust types.
## (also the chart's copy and the plain manifests that embed it)
crds:
	$(CARGO) run -q --bin tagwatch -- crd > crds/tagwatch.dev_tagwatches.yaml
	cp crds/tagwatch.dev_tagwatches.yaml charts/tagwatch/crds/
	$(MAKE) manifests

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## test-deps: tools the test suite drives as users do.
.PHONY: test-deps tty-deps
test-deps: python-sdk controlplane-bin helm image-deps tty-deps krew gitops-crds gitops-tools prometheus-tools prometheus-operator-crds \
	release-deps release-tools cargo-auditable actionlint

## tty-deps: util-linux's `script`, which gives a command a pseudo-terminal in the tests
## of terminal-only output (Debian's bsdutils; present on most machines).
tty-deps:
	@if ! command -v script >/dev/null; then \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y bsdutils; \
	fi

python-sdk: $(TOOLS)/venv/.sdk-$(UCLOUD_SDK_VERSION) $(TOOLS)/venv/.cloudevents-$(CLOUDEVENTS_SDK_VERSION)

$(TOOLS)/venv/.sdk-$(UCLOUD_SDK_VERSION):
	$(PYTHON) -m venv $(TOOLS)/venv
	$(TOOLS)/venv/bin/pip install --quiet --disable-pip-version-check ucloud-sdk-python3==$(UCLOUD_SDK_VERSION)
	touch $@

$(TOOLS)/venv/.cloudevents-$(CLOUDEVENTS_SDK_VERSION): $(TOOLS)/venv/.sdk-$(UCLOUD_SDK_VERSION)
	$(TOOLS)/venv/bin/pip install --quiet --disable-pip-version-check cloudevents==$(CLOUDEVENTS_SDK_VERSION)
	touch $@

## bench: the scale benchmark (bench-scale); the others are listed in BENCHMARKS.md.
bench: bench-scale

## bench-scale: one operator replica with 100, 1,000 and 10,000 TagWatches of 10 and
## 1,000 tags on a private control plane (about 50 minutes; results in BENCHMARKS.md).
## Narrow it with SCALE_ARGS, e.g. SCALE_ARGS="--tagwatches 1000 --tags 10".
SCALE_ARGS ?=
bench-scale: python-sdk controlplane-bin
	$(CARGO) bench --bench scale -- $(SCALE_ARGS)

## bench-emulator: uhub-emulator's requests/s for a 100-tag page on one core (needs wrk).
bench-emulator:
	bench/emulator/run.sh 10s 32

## bench-faults: the reliability suite (tests/reliability) in its long configuration,
## printing its report; set TAGWATCH_RELIABILITY_SEED to replay a run's schedule.
FAULT_BENCH_SECONDS ?= 300
FAULT_BENCH_TAGWATCHES ?= 20
bench-faults: controlplane-bin
	TAGWATCH_RELIABILITY_SECONDS=$(FAULT_BENCH_SECONDS) TAGWATCH_RELIABILITY_TAGWATCHES=$(FAULT_BENCH_TAGWATCHES) \
		$(CARGO) test --test reliability -- --exact every_pushed_tag_is_announced_once_through_faults --nocapture

# ---------------------------------------------------------------------------
# Local control plane: etcd, kube-apiserver and kubectl built from Go modules
# (tests/controlplane), run by bin/controlplane. See docs/development.md.
# ---------------------------------------------------------------------------
GO ?= go
CONTROLPLANE_SRC := tests/controlplane
CONTROLPLANE_DIR := target/controlplane
CONTROLPLANE_BIN := $(CONTROLPLANE_DIR)/bin
CONTROLPLANE_RUN := $(CONTROLPLANE_DIR)/run
CONTROLPLANE_KUBECONFIG := $(CONTROLPLANE_DIR)/kubeconfig
KUBECTL := $(CONTROLPLANE_BIN)/kubectl
# The Kubernetes version is the one go.mod pins; the binaries report it.
KUBERNETES_VERSION := $(shell awk '$$1 == "k8s.io/kubernetes" { print $$2 }' $(CONTROLPLANE_SRC)/go.mod)
KUBERNETES_MINOR := $(word 2,$(subst ., ,$(KUBERNETES_VERSION)))
KUBE_VERSION_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(KUBERNETES_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(KUBERNETES_MINOR)
CONTROLPLANE_BINARIES := $(addprefix $(CONTROLPLANE_BIN)/,kube-apiserver etcd kubectl controlplane)
CONTROLPLANE_SOURCES := $(CONTROLPLANE_SRC)/go.mod $(CONTROLPLANE_SRC)/go.sum \
	$(shell find $(CONTROLPLANE_SRC) -name '*.go')
HELM_VERSION := v3.19.5
# What helm's release build stamps in (its Makefile): its own version, and the
# Kubernetes version `helm template`/`lint` assume (from the client-go v0.34
# helm 3.19 requires). A plain go install would report "v3.19" and assume v1.20.
HELM_LDFLAGS := -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	$(foreach pkg,pkg/chartutil pkg/lint/rules,-X helm.sh/helm/v3/$(pkg).k8sVersionMajor=1 \
	-X helm.sh/helm/v3/$(pkg).k8sVersionMinor=34)

.PHONY: controlplane-bin controlplane controlplane-down helm

## controlplane-bin: build etcd, kube-apiserver, kubectl and the launcher (skipped when current).
controlplane-bin: $(CONTROLPLANE_BINARIES)

# One go build for all four: they share most packages.
$(CONTROLPLANE_BINARIES) &: $(CONTROLPLANE_SOURCES)
	cd $(CONTROLPLANE_SRC) && CGO_ENABLED=0 $(GO) build -ldflags "$(KUBE_VERSION_LDFLAGS)" \
		-o $(CURDIR)/$(CONTROLPLANE_BIN)/ ./cmd/...
	touch $(CONTROLPLANE_BINARIES)

## controlplane: start the control plane in the background (no-op when it is running).
controlplane: controlplane-bin
	@$(CONTROLPLANE_SRC)/service.sh up $(CONTROLPLANE_BIN) $(CONTROLPLANE_RUN) $(CONTROLPLANE_KUBECONFIG)
	@echo "export KUBECONFIG=$(CURDIR)/$(CONTROLPLANE_KUBECONFIG)"

## controlplane-down: stop the control plane and remove its state.
controlplane-down:
	@$(CONTROLPLANE_SRC)/service.sh down $(CONTROLPLANE_RUN) $(CONTROLPLANE_KUBECONFIG)

## krew: krew and validate-krew-manifest (sigs.k8s.io/krew, pinned in tests/tools/krew),
## which install and check deploy/krew/tagwatch.yaml in the tests (skipped when current).
KREW_SRC := tests/tools/krew
KREW_BINARIES := $(addprefix $(TOOLS)/bin/,krew validate-krew-manifest)
.PHONY: krew
krew: $(KREW_BINARIES)

# One go build for both: they share most packages.
$(KREW_BINARIES) &: $(KREW_SRC)/go.mod $(KREW_SRC)/go.sum
	cd $(KREW_SRC) && CGO_ENABLED=0 $(GO) build -trimpath -o $(CURDIR)/$(TOOLS)/bin/ \
		sigs.k8s.io/krew/cmd/krew sigs.k8s.io/krew/cmd/validate-krew-manifest
	touch $(KREW_BINARIES)

## gitops-crds: the CRDs of Flux and Argo CD, copied out of their Go modules at the
## versions pinned (with sha256) in tests/tools/gitops/crds.sh.
GITOPS_CRDS := $(TOOLS)/gitops-crds
.PHONY: gitops-crds
gitops-crds: $(GITOPS_CRDS)/.pinned

$(GITOPS_CRDS)/.pinned: tests/tools/gitops/crds.sh
	GO=$(GO) tests/tools/gitops/crds.sh $(GITOPS_CRDS)
	touch $@

## gitops-tools: Flux's notification-controller, kstatus (sigs.k8s.io/cli-utils) and
## luahealth (gopher-lua, as Argo CD runs health.lua), pinned in tests/tools/gitops.
GITOPS_SRC := tests/tools/gitops
GITOPS_BINARIES := $(addprefix $(TOOLS)/bin/,notification-controller kstatus luahealth)
GITOPS_SOURCES := $(GITOPS_SRC)/go.mod $(GITOPS_SRC)/go.sum $(wildcard $(GITOPS_SRC)/cmd/*/*.go $(GITOPS_SRC)/internal/*/*.go)
.PHONY: gitops-tools
gitops-tools: $(GITOPS_BINARIES)

# One go build for the three; CGO_ENABLED=0 and no -trimpath like the control plane's
# build, so the k8s.io packages both use come out of the same build cache.
$(GITOPS_BINARIES) &: $(GITOPS_SOURCES)
	cd $(GITOPS_SRC) && CGO_ENABLED=0 $(GO) build -o $(CURDIR)/$(TOOLS)/bin/ \
		github.com/fluxcd/notification-controller ./cmd/kstatus ./cmd/luahealth
	touch $(GITOPS_BINARIES)

## prometheus-tools: promtool, the prometheus server and promql-parse (Prometheus' PromQL
## parser), from the Prometheus module pinned in tests/tools/prometheus, for the tests of
## the alert rules and the dashboard (skipped when current). remove_all_sd drops the
## cloud service discoveries, which the tests do not use: half the cold build.
PROMETHEUS_SRC := tests/tools/prometheus
PROMETHEUS_BINARIES := $(addprefix $(TOOLS)/bin/,promtool prometheus promql-parse)
PROMETHEUS_VERSION := $(shell awk '$$2 == "github.com/prometheus/prometheus" { print $$3 }' $(PROMETHEUS_SRC)/go.mod)
PROMETHEUS_LDFLAGS := -X github.com/prometheus/common/version.Version=$(PROMETHEUS_VERSION) \
	-X github.com/prometheus/common/version.Branch=module -X github.com/prometheus/common/version.Revision=$(PROMETHEUS_VERSION)
.PHONY: prometheus-tools
prometheus-tools: $(PROMETHEUS_BINARIES)

# One go build for all three: they share most packages.
$(PROMETHEUS_BINARIES) &: $(PROMETHEUS_SRC)/go.mod $(PROMETHEUS_SRC)/go.sum $(shell find $(PROMETHEUS_SRC) -name '*.go')
	cd $(PROMETHEUS_SRC) && CGO_ENABLED=0 $(GO) build -trimpath -tags remove_all_sd -ldflags "$(PROMETHEUS_LDFLAGS)" \
		-o $(CURDIR)/$(TOOLS)/bin/ github.com/prometheus/prometheus/cmd/promtool \
		github.com/prometheus/prometheus/cmd/prometheus ./cmd/promql-parse
	touch $(PROMETHEUS_BINARIES)

## prometheus-operator-crds: the Prometheus Operator's PrometheusRule CRD at a pinned
## version (from its Go module), which the chart's PrometheusRule is dry-run against.
PROMETHEUS_OPERATOR_VERSION := v0.85.0
PROMETHEUS_OPERATOR_CRDS := $(TOOLS)/crds/.prometheus-operator-$(PROMETHEUS_OPERATOR_VERSION)
.PHONY: prometheus-operator-crds
prometheus-operator-crds: $(PROMETHEUS_OPERATOR_CRDS)

$(PROMETHEUS_OPERATOR_CRDS):
	mkdir -p $(@D)
	dir=$$($(GO) mod download -json github.com/prometheus-operator/prometheus-operator@$(PROMETHEUS_OPERATOR_VERSION) \
		| sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && \
		cp $$dir/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml $(@D)/ && \
		chmod u+w $(@D)/monitoring.coreos.com_prometheusrules.yaml
	touch $@

## actionlint: actionlint (github.com/rhysd/actionlint, pinned in tests/tools/actionlint),
## which lints .github/workflows in the tests (skipped when current), and shellcheck from
## Debian when it is missing: without it actionlint silently skips the `run:` scripts.
ACTIONLINT_SRC := tests/tools/actionlint
ACTIONLINT := $(TOOLS)/bin/actionlint
.PHONY: actionlint
actionlint: $(ACTIONLINT)
	@if ! command -v shellcheck >/dev/null; then \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y shellcheck; \
	fi

$(ACTIONLINT): $(ACTIONLINT_SRC)/go.mod $(ACTIONLINT_SRC)/go.sum
	cd $(ACTIONLINT_SRC) && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' \
		-o $(CURDIR)/$(TOOLS)/bin/ tool
	touch $@

## dashboard-png: docs/dashboard.png, the dashboard's time-series panels drawn with
## matplotlib from the Prometheus data of the last `cargo test --test e2e monitoring::`.
MATPLOTLIB_VERSION := 3.11.2
.PHONY: dashboard-png
dashboard-png: $(TOOLS)/plot-venv/.matplotlib-$(MATPLOTLIB_VERSION)
	$(TOOLS)/plot-venv/bin/python scripts/dashboard-png.py target/monitoring/dashboard-e2e.json docs/dashboard.png

$(TOOLS)/plot-venv/.matplotlib-$(MATPLOTLIB_VERSION):
	$(PYTHON) -m venv $(TOOLS)/plot-venv
	$(TOOLS)/plot-venv/bin/pip install --quiet --disable-pip-version-check matplotlib==$(MATPLOTLIB_VERSION)
	touch $@

## helm: the helm CLI, built with go install.
helm: $(TOOLS)/bin/.helm-$(HELM_VERSION)

$(TOOLS)/bin/.helm-$(HELM_VERSION):
	GOBIN=$(CURDIR)/$(TOOLS)/bin $(GO) install -ldflags "$(HELM_LDFLAGS)" helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	touch $@

# ---------------------------------------------------------------------------
# Install artefacts: the container image, the Helm chart's plain-manifest
# rendering. See docs/install.md.
# ---------------------------------------------------------------------------
HELM := $(TOOLS)/bin/helm
# The image `make image` builds; tests run it.
IMAGE ?= localhost/tagwatch:dev
# A statically linked binary runs in a FROM scratch image (no libc in it).
STATIC_RUSTFLAGS := -C target-feature=+crt-static
IMAGE_RUST_TARGET := x86_64-unknown-linux-gnu
IMAGE_BINARY := target/$(IMAGE_RUST_TARGET)/release/tagwatch
# The build context: only the binary, so nothing else of the tree is sent.
IMAGE_CONTEXT := target/image
# podman settings for these machines (no default ulimits, runc): docs/install.md.
export CONTAINERS_CONF := $(CURDIR)/$(TOOLS)/containers.conf
PODMAN := podman

.PHONY: image-deps image image-binary manifests

## image-deps: podman and runc (Debian packages) and the containers.conf podman uses here.
image-deps: $(TOOLS)/containers.conf
	@if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y podman runc; \
	fi

$(TOOLS)/containers.conf: tests/image/containers.conf
	mkdir -p $(@D)
	cp $< $@

## image-binary: the statically linked release binary the image holds, with its crate
## list embedded by cargo-auditable (what syft reads for the release SBOM). `make release`
## packages this same build, so CI compiles it once.
image-binary: cargo-auditable
	RUSTFLAGS='$(STATIC_RUSTFLAGS)' $(CARGO_AUDITABLE_BUILD) --release \
		--target $(IMAGE_RUST_TARGET) --bin tagwatch

## image: build $(IMAGE) from deploy/Dockerfile (layers are reused when the binary is unchanged).
image: image-deps image-binary
	rm -rf $(IMAGE_CONTEXT)
	mkdir -p $(IMAGE_CONTEXT)
	cp $(IMAGE_BINARY) $(IMAGE_CONTEXT)/tagwatch
	$(PODMAN) build --quiet -f deploy/Dockerfile -t $(IMAGE) $(IMAGE_CONTEXT)

## manifests: re-render deploy/manifests/ from the chart's default values.
manifests: helm
	HELM=$(HELM) deploy/render-manifests.sh > deploy/manifests/tagwatch.yaml

# End-to-end tests (tests/e2e): the real operator and uhub-emulator against the local
# control plane. `make test` runs them with everything else.
# ---------------------------------------------------------------------------
.PHONY: test-e2e
## test-e2e: only the end-to-end tests; reuses `make controlplane` when KUBECONFIG points at it.
test-e2e: controlplane-bin
	$(CARGO) test --no-fail-fast --test e2e

# ---------------------------------------------------------------------------
# Release: `make release VERSION=x.y.z REGISTRY=host[:port]/path` builds both
# architectures, pushes the multi-arch image and the chart, signs them and leaves the
# release files in target/release/VERSION/ (scripts/release.sh; docs/release.md).
# ---------------------------------------------------------------------------
VERSION ?=
REGISTRY ?=
COSIGN_KEY ?=
PLAIN_HTTP ?=
REKOR ?= 1
CARGO_AUDITABLE_VERSION := 0.7.7
# `cargo auditable build`: cargo with the crate list embedded in the binary (.dep-v0).
CARGO_AUDITABLE_BUILD := PATH=$(CURDIR)/$(TOOLS)/bin:$$PATH $(CARGO) auditable build
ARM64_RUST_TARGET := aarch64-unknown-linux-gnu
# Debian's cross toolchain links and compiles C (ring, jemalloc) for arm64. jemalloc's
# page size is fixed when it is built, and a cross build cannot probe it: 64 KiB pages
# (2^16) serve kernels of 4, 16 and 64 KiB pages alike.
ARM64_CROSS_ENV := CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc JEMALLOC_SYS_WITH_LG_PAGE=16
RELEASE_APT_PACKAGES := gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu \
	qemu-user-static shellcheck jq
RELEASE_SRC := tests/tools/release
RELEASE_BINARIES := $(addprefix $(TOOLS)/bin/,registry cosign)
SBOM_SRC := tests/tools/sbom
SYFT_VERSION := $(shell awk '$$1 == "github.com/anchore/syft" { print $$2 }' $(SBOM_SRC)/go.mod)

.PHONY: release release-check release-deps release-tools release-binary-arm64 cargo-auditable

## release: build, push and sign a release (VERSION must be Cargo.toml's version):
##   make release VERSION=x.y.z REGISTRY=host[:port]/path [COSIGN_KEY=cosign.key] [PLAIN_HTTP=1] [REKOR=0]
release: release-check release-deps release-tools cargo-auditable helm image-deps image-binary release-binary-arm64
	VERSION='$(VERSION)' REGISTRY='$(REGISTRY)' COSIGN_KEY='$(COSIGN_KEY)' PLAIN_HTTP='$(PLAIN_HTTP)' \
		REKOR='$(REKOR)' TOOLS_BIN=$(CURDIR)/$(TOOLS)/bin scripts/release.sh

# Fails at once (before any build) when VERSION or REGISTRY is wrong.
release-check:
	@VERSION='$(VERSION)' REGISTRY='$(REGISTRY)' scripts/release.sh --check

## release-deps: Debian's arm64 cross compiler and binutils, qemu user-mode emulation (to
## run the arm64 binary in the tests), shellcheck (for actionlint), jq (scripts/release.sh
## reads the pushed index with it), and the Rust targets.
release-deps:
	@missing=$$(for p in $(RELEASE_APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get update && \
		$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y $$missing; \
	fi
	@for t in $(ARM64_RUST_TARGET) $(IMAGE_RUST_TARGET); do \
		rustup target list --installed | grep -qx $$t || rustup target add $$t; done

## release-tools: the registry (CNCF distribution) and cosign (tests/tools/release) and
## syft (tests/tools/sbom), from their pinned Go modules (skipped when current).
release-tools: $(RELEASE_BINARIES) $(TOOLS)/bin/syft

# One go build for both.
$(RELEASE_BINARIES) &: $(RELEASE_SRC)/go.mod $(RELEASE_SRC)/go.sum
	cd $(RELEASE_SRC) && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(CURDIR)/$(TOOLS)/bin/ tool
	touch $(RELEASE_BINARIES)

# syft prints the version stamped into main.version.
$(TOOLS)/bin/syft: $(SBOM_SRC)/go.mod $(SBOM_SRC)/go.sum
	cd $(SBOM_SRC) && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w -X main.version=$(SYFT_VERSION)' \
		-o $(CURDIR)/$(TOOLS)/bin/ tool
	touch $@

## cargo-auditable: `cargo auditable`, installed into target/tools (skipped when present).
cargo-auditable: $(TOOLS)/bin/.cargo-auditable-$(CARGO_AUDITABLE_VERSION)

$(TOOLS)/bin/.cargo-auditable-$(CARGO_AUDITABLE_VERSION):
	$(CARGO) install --locked --root $(CURDIR)/$(TOOLS) cargo-auditable@$(CARGO_AUDITABLE_VERSION)
	touch $@

## release-binary-arm64: the static arm64 binary, cross-compiled like image-binary.
release-binary-arm64: release-deps cargo-auditable
	$(ARM64_CROSS_ENV) RUSTFLAGS='$(STATIC_RUSTFLAGS)' $(CARGO_AUDITABLE_BUILD) --release \
		--target $(ARM64_RUST_TARGET) --bin tagwatch
