#!/usr/bin/env bash
# Prints deploy/manifests/tagwatch.yaml: the Helm chart rendered with its default values
# for `kubectl apply -f` (release and namespace "tagwatch"), the CRD and the Namespace
# included. `make manifests` writes it; tests/chart/files.rs checks it is current.
# HELM names the helm binary (default: the one `make helm` installs); CHART the chart
# directory (default charts/tagwatch; `make release` renders its release copy).
set -euo pipefail
cd "$(dirname "$0")/.."
helm=${HELM:-target/tools/bin/helm}
chart=${CHART:-charts/tagwatch}
kube_version=$(awk '$1 == "k8s.io/kubernetes" { sub(/^v/, "", $2); print $2 }' tests/controlplane/go.mod)

cat <<'YAML'
# tagwatch: the Helm chart charts/tagwatch rendered with its default values by
# `make manifests` (do not edit; change the chart and re-render). Install with
#   kubectl apply -f deploy/manifests/tagwatch.yaml
# Settings other than the defaults: use the chart (docs/install.md).
---
apiVersion: v1
kind: Namespace
metadata:
  name: tagwatch
  labels:
    pod-security.kubernetes.io/enforce: restricted
YAML
# Helm's caches stay out of the user's home.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
HELM_CACHE_HOME=$scratch HELM_CONFIG_HOME=$scratch HELM_DATA_HOME=$scratch \
  "$helm" template tagwatch "$chart" --namespace tagwatch --include-crds \
  --kube-version "$kube_version"
