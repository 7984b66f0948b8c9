#!/usr/bin/env bash
# Stops exactly the processes up.sh started (pid + start time from the state dir) and removes the state dir.
#   down.sh --release PID   drop PID's lease (see up.sh); stop only if the cluster was started by a leaseholder
#                           and no live leaseholder remains.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=e2e/cluster/lib.sh
source "$HERE/lib.sh"

if [[ ! -e "$CLUSTER_DIR" ]]; then
  log "no cluster state in $CLUSTER_DIR; nothing to stop"
  exit 0
fi
# Refuse to delete a directory this project did not create (e.g. a mistyped PORTCULLIS_CLUSTER_DIR).
[[ -f "$STATE_MARKER" ]] || die "$CLUSTER_DIR is not a Portcullis cluster state dir (no .portcullis-cluster); not touching it"

lock_cluster_dir

if [[ "${1:-}" == --release ]]; then
  [[ "${2:-}" =~ ^[0-9]+$ ]] || die "usage: down.sh --release PID"
  rm -f "$CLUSTER_DIR/leases/$2"
  [[ -f "$CLUSTER_DIR/.lease-owned" ]] || exit 0
  for lease in "$CLUSTER_DIR"/leases/*; do
    [[ -f "$lease" ]] || continue
    if proc_alive "$(basename "$lease")" "$(cat "$lease")"; then exit 0; fi
  done
  log "last user of the cluster released it"
fi

stop_components
rm -rf "$CLUSTER_DIR"
rm -f "$CLUSTER_DIR.lock"
log "cluster in $CLUSTER_DIR stopped and removed"
