#!/usr/bin/env bash
# The local demo (`make demo`): a real control plane, the UHub emulator seeded with an
# example image, the operator and the example TagWatches; pushes a new tag, shows the
# TagWatches and their events, then keeps running until Ctrl-C and stops everything.
#
#   scripts/demo.sh            run until Ctrl-C
#   scripts/demo.sh --check    stop after showing the new tag (used by the test suite)
#
# Binaries: TAGWATCH_BIN, EMULATOR_BIN (default target/debug/...), control plane binaries
# in target/controlplane/bin. `make demo` builds whatever is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."

check_only=false
[[ ${1:-} == --check ]] && check_only=true
TAGWATCH_BIN=${TAGWATCH_BIN:-target/debug/tagwatch}
EMULATOR_BIN=${EMULATOR_BIN:-target/debug/uhub-emulator}
CP_BIN=target/controlplane/bin
KUBECTL=$CP_BIN/kubectl
STATE=$(realpath -m "${DEMO_STATE:-target/demo}")
NAMESPACE=demo
DEADLINE_SECONDS=120

pids=()
cleanup() {
  trap - EXIT INT TERM
  echo "==> stopping the operator, the emulator and the control plane"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$STATE"
  echo "==> stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until FILE has a line matching PATTERN and prints that line.
wait_for_line() {
  local file=$1 pattern=$2 what=$3 deadline=$((SECONDS + DEADLINE_SECONDS))
  until grep -m1 -E "$pattern" "$file" 2>/dev/null; do
    if ((SECONDS > deadline)); then
      echo "$what did not start; its log:" >&2
      cat "$file" "${file%.out}.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.2
  done
}

rm -rf "$STATE" && mkdir -p "$STATE"

echo "==> starting etcd and kube-apiserver"
"$CP_BIN/controlplane" --dir "$STATE/controlplane" --cleanup >"$STATE/controlplane.out" 2>"$STATE/controlplane.log" &
pids+=($!)
wait_for_line "$STATE/controlplane.out" '^ready ' "the control plane" >/dev/null
export KUBECONFIG=$STATE/controlplane/kubeconfig

echo "==> starting the UHub emulator with deploy/examples/emulator-fixture.yaml"
"$EMULATOR_BIN" --listen 127.0.0.1:0 --fixture deploy/examples/emulator-fixture.yaml \
  >"$STATE/emulator.out" 2>"$STATE/emulator.log" &
pids+=($!)
endpoint=$(wait_for_line "$STATE/emulator.out" '^listening on ' "the emulator" | awk '{print $3}')
echo "    $endpoint"

echo "==> installing the TagWatch CRD and the examples in namespace $NAMESPACE"
"$KUBECTL" apply -f crds/ >/dev/null
"$KUBECTL" wait --for=condition=Established crd/tagwatches.tagwatch.dev --timeout=60s >/dev/null
"$KUBECTL" create namespace "$NAMESPACE" >/dev/null
"$KUBECTL" -n "$NAMESPACE" apply -f deploy/examples/secret.yaml \
  -f deploy/examples/tagwatch-newest.yaml -f deploy/examples/tagwatch-semver.yaml

echo "==> starting the operator (log: $STATE/operator.log)"
"$TAGWATCH_BIN" run --endpoint "$endpoint" --namespaces "$NAMESPACE" --metrics-addr 127.0.0.1:0 \
  >"$STATE/operator.log" 2>&1 &
pids+=($!)
"$KUBECTL" -n "$NAMESPACE" wait --for=condition=Ready tagwatch --all --timeout=60s
"$KUBECTL" -n "$NAMESPACE" get tagwatches

echo "==> pushing tag v1.3.0 to demo/web through the emulator's admin API"
curl -fsS -X POST "$endpoint/_emulator/tags" -H 'content-type: application/json' \
  -d '{"repo":"demo","image":"web","name":"v1.3.0"}' >/dev/null
"$KUBECTL" -n "$NAMESPACE" wait --for=jsonpath='{.status.latestTag}'=v1.3.0 tagwatch/web --timeout=60s >/dev/null
"$KUBECTL" -n "$NAMESPACE" get tagwatches
echo
"$KUBECTL" -n "$NAMESPACE" get events --sort-by=.metadata.creationTimestamp

$check_only && exit 0

cat <<NOTE

The demo keeps running until Ctrl-C. In another terminal:

  export KUBECONFIG=$KUBECONFIG
  alias kubectl=$PWD/$KUBECTL
  kubectl -n $NAMESPACE get tagwatches            # or: kubectl get tw -A
  kubectl -n $NAMESPACE describe tagwatch web     # status and events
  curl -X POST $endpoint/_emulator/tags -d '{"repo":"demo","image":"web","name":"v1.4.0"}'
  kubectl -n $NAMESPACE annotate --overwrite tw/web tagwatch.dev/reconcile-requested-at="\$(date +%s)"

NOTE
wait "${pids[@]}"
