#!/usr/bin/env bash
# Shared settings and helpers for the e2e cluster scripts. Sourced, never run.
# shellcheck disable=SC2034  # the settings below are read by the scripts that source this file
# Every pinned version lives here so the cache key, the build and the docs agree.

# One Kubernetes release; the staging modules are served as v0.<minor>.<patch> of the same release.
K8S_VERSION=v1.36.3
K8S_MINOR="${K8S_VERSION#v1.}" K8S_MINOR="${K8S_MINOR%%.*}"
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
# etcd comes from the apiserver's own module graph (k8s.io/kubernetes v1.36.3 requires server/v3 v3.6.8).
ETCD_VERSION=v3.6.8
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
# The Go release the builds were measured with; older toolchains cannot build k8s 1.36 (go.mod says go 1.26.0).
GO_MIN_MINOR=26

VERSIONS_KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
PORTCULLIS_CACHE="${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}"
VERSION_DIR="$PORTCULLIS_CACHE/$VERSIONS_KEY"
BIN_DIR="$VERSION_DIR/bin"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm)

# test_users prints "NAME GROUP,GROUP" lines from ./users (comments and blank lines dropped).
test_users() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$(dirname "${BASH_SOURCE[0]}")/users"; }

CLUSTER_DIR="${PORTCULLIS_CLUSTER_DIR:-/tmp/portcullis-cluster}"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() {
  printf '[cluster] ERROR: %s\n' "$*" >&2
  exit 1
}

# find_go sets GO to a usable toolchain or explains what to install.
# PORTCULLIS_GO names a specific go binary; otherwise go on PATH, then the usual /usr/local/go.
find_go() {
  if [[ -n "${PORTCULLIS_GO:-}" ]]; then
    GO="$PORTCULLIS_GO"
    [[ -x "$GO" ]] || die "PORTCULLIS_GO=$GO is not an executable Go toolchain. Install Go 1.${GO_MIN_MINOR} or newer and point PORTCULLIS_GO at its bin/go (or unset it)."
  else
    GO="$(command -v go || true)"
    if [[ -z "$GO" && -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go; fi
  fi
  if [[ -z "$GO" ]]; then
    die "no Go toolchain found, and the cluster binaries are not built yet. Install Go 1.${GO_MIN_MINOR} or newer (unpack the official release to /usr/local/go and add /usr/local/go/bin to PATH), then rerun 'make cluster-up'."
  fi
  local v minor
  v="$(GOTOOLCHAIN=local "$GO" env GOVERSION)"
  minor="$(sed -E 's/^go1\.([0-9]+).*/\1/' <<<"$v")"
  if ! [[ "$minor" =~ ^[0-9]+$ ]] || ((minor < GO_MIN_MINOR)); then
    die "$GO is $v; Kubernetes $K8S_VERSION needs Go 1.${GO_MIN_MINOR} or newer. Install a newer Go and put it first on PATH."
  fi
}

# binaries_present is true when every pinned binary exists (build.sh also checks its recipe stamps).
binaries_present() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$BIN_DIR/$b" ]] || return 1; done
}

# ---- cluster state (shared by up.sh, down.sh, status.sh) ----
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
STATE_MARKER="$CLUSTER_DIR/.portcullis-cluster"
PID_DIR="$CLUSTER_DIR/pids"
LOG_DIR_CLUSTER="$CLUSTER_DIR/logs"
ADMIN_KUBECONFIG="$CLUSTER_DIR/kubeconfig"

# proc_start PID prints the kernel's start time of PID (field 22 of /proc/PID/stat). Stored next to the pid so a
# recycled pid is never mistaken for ours.
proc_start() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  # The command name may contain spaces and parentheses; fields are counted after its closing ')'.
  stat="${stat##*) }"
  # shellcheck disable=SC2086
  set -- $stat
  printf '%s' "${20}"
}

# proc_alive PID START: the process exists, is the one we started, and is not a zombie.
proc_alive() {
  local want="$2" stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  # shellcheck disable=SC2086
  set -- $stat
  [[ "$1" != Z && "${20}" == "$want" ]]
}

# component_alive NAME: its pid file names a live process we started.
component_alive() {
  local pid start
  [[ -f "$PID_DIR/$1.pid" ]] || return 1
  read -r pid start <"$PID_DIR/$1.pid" || return 1
  proc_alive "$pid" "$start"
}

# stop_component NAME: SIGTERM, then SIGKILL after a grace period, only for the exact process recorded.
stop_component() {
  local name="$1" pid start i
  [[ -f "$PID_DIR/$name.pid" ]] || return 0
  read -r pid start <"$PID_DIR/$name.pid" || true
  if [[ -n "${pid:-}" ]] && proc_alive "$pid" "$start"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      proc_alive "$pid" "$start" || break
      sleep 0.1
    done
    if proc_alive "$pid" "$start"; then
      log "$name (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PID_DIR/$name.pid"
}

# stop_components stops every recorded component, newest first, so nothing reconnects to a stopped dependency.
stop_components() {
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_component "${COMPONENTS[$i]}"; done
}

# lock_cluster_dir serialises up/down on one state dir (the lock file sits beside it, so removing the dir is safe).
lock_cluster_dir() {
  mkdir -p "$(dirname "$CLUSTER_DIR")"
  exec 8>"$CLUSTER_DIR.lock"
  if ! flock -n 8; then
    log "another cluster-up/cluster-down on $CLUSTER_DIR is running; waiting for it (up to 10 min)"
    flock -w 600 8 || die "timed out waiting for the lock $CLUSTER_DIR.lock"
  fi
}

# state_value KEY reads one KEY=value line from cluster.env.
state_value() {
  [[ -f "$CLUSTER_DIR/cluster.env" ]] || return 0
  sed -n "s/^$1=//p" "$CLUSTER_DIR/cluster.env" | head -n 1
}
