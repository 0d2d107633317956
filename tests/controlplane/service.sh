#!/usr/bin/env bash
# Runs the local control plane as a background service for `make controlplane`
# and `make controlplane-down`.
#
#   service.sh up BIN_DIR STATE_DIR KUBECONFIG_LINK
#   service.sh down STATE_DIR KUBECONFIG_LINK
#
# up starts bin/controlplane detached (its own session, stdin from /dev/null)
# with --dir STATE_DIR, waits for its "ready" line, links KUBECONFIG_LINK to
# STATE_DIR/kubeconfig and records the launcher's pid in STATE_DIR/launcher.pid.
# It does nothing when a control plane from STATE_DIR is already running and
# its apiserver answers /readyz. down stops the launcher (SIGTERM; it stops the
# apiserver, then etcd) and removes STATE_DIR and the link.
set -euo pipefail

START_TIMEOUT_SECONDS=240
STOP_TIMEOUT_SECONDS=30

running_pid() { # prints the launcher's pid when it is alive
  local pid_file=$1/launcher.pid
  [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null && cat "$pid_file"
}

up() {
  local bin=$1 state=$2 link=$3
  if running_pid "$state" >/dev/null \
    && "$bin/kubectl" --kubeconfig "$state/kubeconfig" get --raw=/readyz >/dev/null 2>&1; then
    echo "control plane already running (state in $state)" >&2
    return
  fi
  down "$state" "$link"
  mkdir -p "$state"
  setsid "$bin/controlplane" --dir "$state" </dev/null >"$state/launcher.out" 2>"$state/launcher.log" &
  local pid=$!
  echo "$pid" >"$state/launcher.pid"
  local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
  until grep -q '^ready ' "$state/launcher.out"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "control plane failed to start:" >&2
      cat "$state/launcher.log" >&2
      return 1
    fi
    if ((SECONDS > deadline)); then
      echo "control plane not ready after ${START_TIMEOUT_SECONDS}s; see $state/*.log" >&2
      return 1
    fi
    sleep 0.2
  done
  ln -sfn "$(realpath --relative-to="$(dirname "$link")" "$state/kubeconfig")" "$link"
  cat "$state/launcher.log" >&2
}

down() {
  local state=$1 link=$2 pid
  if pid=$(running_pid "$state"); then
    kill -TERM "$pid"
    local deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS > deadline)); then
        echo "launcher $pid still running after ${STOP_TIMEOUT_SECONDS}s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.2
    done
  fi
  rm -rf "$state" "$link"
}

case ${1:-} in
  up) shift; up "$@" ;;
  down) shift; down "$@" ;;
  *) echo "usage: $0 up BIN_DIR STATE_DIR KUBECONFIG_LINK | down STATE_DIR KUBECONFIG_LINK" >&2; exit 2 ;;
esac
