#!/usr/bin/env bash
# Runs the e2e suites (`make e2e`): cluster-up, `node --test e2e/*.e2e.test.ts` with KUBECONFIG exported,
# cluster-down on every exit path; exits with the tests' status.
# With KUBECONFIG already set (kind, k3d, a real cluster) the suites run against that cluster and nothing is
# started or stopped; the pinned kubectl and helm are still built, since the suites use them.
# A cluster already started with `make cluster-up` is reused and left running.
# Extra arguments go to `node --test` (e.g. --test-name-pattern=…); E2E_FILES overrides the file list.
# When tests fail, the control-plane logs are copied to ${PORTCULLIS_E2E_LOGS:-/tmp/portcullis-e2e-logs-<time>}
# before cluster-down removes the state dir.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
# shellcheck source=e2e/cluster/lib.sh
source "$HERE/cluster/lib.sh"
NODE="$ROOT/node_modules/.bin/node"
[[ -x "$NODE" ]] || die "$NODE missing; run 'make setup' (npm ci) first"

status=0
started=0
# shellcheck disable=SC2317  # invoked by the EXIT trap
finish() {
  if ((started)); then
    if ((status != 0)) && [[ -d "$LOG_DIR_CLUSTER" ]]; then
      local keep="${PORTCULLIS_E2E_LOGS:-/tmp/portcullis-e2e-logs-$(date +%Y%m%d-%H%M%S)}"
      mkdir -p "$keep" && cp -r "$LOG_DIR_CLUSTER"/. "$keep"/ && log "control-plane logs kept in $keep"
    fi
    "$HERE/cluster/down.sh" || log "cluster-down failed; run 'make cluster-down'"
  fi
}
trap finish EXIT
# The suites run in the background so a signal to this script is handled at once (bash defers traps until a
# foreground child exits), stopping the tests before the cluster goes away.
TESTS_PID=""
# shellcheck disable=SC2317  # invoked by the INT/TERM traps
on_signal() {
  status=$1
  if [[ -n "$TESTS_PID" ]]; then
    # The test runner and its per-file processes share the session started below.
    kill -TERM -- "-$TESTS_PID" 2>/dev/null || true
    wait "$TESTS_PID" 2>/dev/null || true
  fi
  exit "$status"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

if [[ -n "${KUBECONFIG:-}" ]]; then
  log "KUBECONFIG is set: running against $KUBECONFIG (no cluster is started or stopped)"
  "$HERE/cluster/build.sh"
else
  if "$HERE/cluster/status.sh" --quiet; then
    log "reusing the running cluster in $CLUSTER_DIR (make cluster-down stops it)"
  else
    # From here on we own the cluster; up.sh itself cleans up after a failed start (and keeps its logs).
    started=1
  fi
  up_output="$("$HERE/cluster/up.sh")" || { status=$?; started=0; exit "$status"; }
  export_line="$(tail -n 1 <<<"$up_output")"
  [[ "$export_line" == "export KUBECONFIG="* ]] || { status=1; die "cluster-up printed no export line"; }
  export KUBECONFIG="${export_line#export KUBECONFIG=}"
fi

cd "$ROOT"
if [[ -n "${E2E_FILES:-}" ]]; then
  read -r -a files <<<"$E2E_FILES"
else
  files=(e2e/*.e2e.test.ts)
fi
setsid "$NODE" --test --test-reporter=spec --test-reporter-destination=stdout "$@" "${files[@]}" &
TESTS_PID=$!
wait "$TESTS_PID" || status=$?
TESTS_PID=""
exit "$status"
