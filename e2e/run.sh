#!/usr/bin/env bash
# Runs the e2e suites (`make e2e`): cluster-up, `node --test e2e/*.e2e.test.ts` with KUBECONFIG exported,
# cluster-down on every exit path; exits with the tests' status.
# With KUBECONFIG already set (kind, k3d, a real cluster) the suites run against that cluster and nothing is
# started or stopped; the pinned kubectl and helm are still built, since the suites use them.
# Extra arguments go to `node --test` (e.g. --test-name-pattern=…); E2E_FILES overrides the file list.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
NODE="$ROOT/node_modules/.bin/node"
[[ -x "$NODE" ]] || { echo "[e2e] $NODE missing; run 'make setup' (npm ci) first" >&2; exit 1; }

if [[ -n "${KUBECONFIG:-}" ]]; then
  echo "[e2e] KUBECONFIG is set: running against $KUBECONFIG (no cluster is started or stopped)" >&2
  "$HERE/cluster/build.sh"
else
  if "$HERE/cluster/status.sh" --quiet; then
    # Someone ran `make cluster-up` earlier: use that cluster and leave it running for them.
    echo "[e2e] reusing the running cluster (make cluster-down stops it)" >&2
  else
    # We start it, so cluster-down runs however we leave: test failure, error, Ctrl-C.
    trap '"$HERE/cluster/down.sh" || echo "[e2e] cluster-down failed; run make cluster-down" >&2' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
  fi
  up_output="$("$HERE/cluster/up.sh")"
  export_line="$(tail -n 1 <<<"$up_output")"
  [[ "$export_line" == "export KUBECONFIG="* ]] || { echo "[e2e] cluster-up printed no export line" >&2; exit 1; }
  export KUBECONFIG="${export_line#export KUBECONFIG=}"
fi

cd "$ROOT"
if [[ -n "${E2E_FILES:-}" ]]; then
  read -r -a files <<<"$E2E_FILES"
else
  files=(e2e/*.e2e.test.ts)
fi
status=0
"$NODE" --test --test-reporter=spec --test-reporter-destination=stdout "$@" "${files[@]}" || status=$?
exit "$status"
