#!/usr/bin/env bash
# Reports whether the cluster in the state dir is running: each component's pid and the apiserver's /readyz.
# Exit 0 when every component is alive and the apiserver is ready, 1 otherwise. --quiet prints nothing.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=e2e/cluster/lib.sh
source "$HERE/lib.sh"

QUIET=0
[[ "${1:-}" == --quiet ]] && QUIET=1
say() { ((QUIET)) || printf '%s\n' "$*"; }

if [[ ! -f "$STATE_MARKER" ]]; then
  say "not running (no cluster state in $CLUSTER_DIR; start one with 'make cluster-up')"
  exit 1
fi

ok=1
for c in "${COMPONENTS[@]}"; do
  if component_alive "$c"; then
    say "$(printf '%-24s running  pid %s' "$c" "$(cut -d' ' -f1 "$PID_DIR/$c.pid")")"
  else
    say "$(printf '%-24s STOPPED  (log: %s)' "$c" "$LOG_DIR_CLUSTER/$c.log")"
    ok=0
  fi
done

api_url="$(state_value API_URL)"
if [[ -z "$api_url" ]]; then
  say "cluster is not fully started (no cluster.env)"
  ok=0
elif readyz="$(curl -fsS --max-time 3 --cacert "$CLUSTER_DIR/pki/ca.crt" --cert "$CLUSTER_DIR/pki/admin.crt" \
  --key "$CLUSTER_DIR/pki/admin.key" "$api_url/readyz" 2>&1)" && [[ "$readyz" == ok ]]; then
  say "$(printf '%-24s ready    %s (Kubernetes %s)' apiserver "$api_url" "$(state_value K8S_VERSION)")"
  if ((!QUIET)); then
    "$(state_value BIN_DIR)/kubectl" --kubeconfig "$ADMIN_KUBECONFIG" get nodes 2>&1 | sed 's/^/  /' || true
  fi
else
  say "$(printf '%-24s NOT READY %s: %s' apiserver "$api_url" "$readyz")"
  ok=0
fi

if ((ok)); then
  say "export KUBECONFIG=$ADMIN_KUBECONFIG"
  exit 0
fi
exit 1
