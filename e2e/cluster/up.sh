#!/usr/bin/env bash
# Starts a real, loopback-only control plane for the e2e suites:
#   etcd → kube-apiserver → kube-controller-manager + kube-scheduler → kwok with fake nodes.
# Progress goes to stderr; the only stdout line, printed last, is `export KUBECONFIG=<path>`, so
#   eval "$(make -s cluster-up | tail -1)"
# works. State (pids, logs, PKI, kubeconfigs, cluster.env, cluster.json) lives in
# ${PORTCULLIS_CLUSTER_DIR:-/tmp/portcullis-cluster}; `down.sh` stops exactly these processes and removes it.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=e2e/cluster/lib.sh
source "$HERE/lib.sh"

START_TIMEOUT="${PORTCULLIS_START_TIMEOUT:-90}"
NODE_COUNT="${PORTCULLIS_KWOK_NODES:-2}"
SERVICE_CIDR=10.96.0.0/16
POD_CIDR=10.244.0.0/16
KUBE_KWOK_ANNOTATION=kwok.x-k8s.io/node
mapfile -t TEST_USERS < <(test_users | cut -d" " -f1)

export_line() { printf 'export KUBECONFIG=%s\n' "$ADMIN_KUBECONFIG"; }

# PORTCULLIS_LEASE_PID (set by e2e/lib/cluster.ts): that process uses the cluster and releases it with
# `down.sh --release PID`; a cluster started this way stops when its last live leaseholder releases it.
# A cluster started without it (make cluster-up) is only stopped by an explicit cluster-down.
take_lease() {
  [[ -n "${PORTCULLIS_LEASE_PID:-}" ]] || return 0
  mkdir -p "$CLUSTER_DIR/leases"
  proc_start "$PORTCULLIS_LEASE_PID" >"$CLUSTER_DIR/leases/$PORTCULLIS_LEASE_PID" ||
    die "PORTCULLIS_LEASE_PID=$PORTCULLIS_LEASE_PID is not a running process"
}

for tool in curl ss openssl setsid flock base64; do
  command -v "$tool" >/dev/null || die "'$tool' is required; install it (Debian: apt-get install curl iproute2 openssl util-linux coreutils)"
done
[[ "$CLUSTER_DIR" == /* ]] || die "PORTCULLIS_CLUSTER_DIR must be an absolute path (got '$CLUSTER_DIR')"
[[ "$CLUSTER_DIR" != *[\"\\\ ]* ]] || die "PORTCULLIS_CLUSTER_DIR must not contain spaces, quotes or backslashes"

lock_cluster_dir

if [[ -f "$STATE_MARKER" ]]; then
  if "$HERE/status.sh" --quiet; then
    if [[ -f "$CLUSTER_DIR/.lease-owned" && -n "${PORTCULLIS_LEASE_PID:-}" ]]; then
      log "a cluster from $CLUSTER_DIR is already running; joining it (it stops when its last user exits)"
    else
      # A plain cluster-up on a test-started cluster adopts it: it now runs until cluster-down.
      rm -f "$CLUSTER_DIR/.lease-owned"
      log "a cluster from $CLUSTER_DIR is already running; reusing it (make cluster-down stops it)"
    fi
    take_lease
    export_line
    exit 0
  fi
  log "$CLUSTER_DIR holds a stopped or broken cluster; stopping what is left of it and starting afresh"
  stop_components
  rm -rf "$CLUSTER_DIR"
elif [[ -e "$CLUSTER_DIR" ]] && [[ -n "$(ls -A "$CLUSTER_DIR" 2>/dev/null)" ]]; then
  die "$CLUSTER_DIR exists and is not a Portcullis cluster state dir; remove it or set PORTCULLIS_CLUSTER_DIR elsewhere"
fi

# Warm cache: returns immediately. Cold: builds (and says so).
"$HERE/build.sh"

# ---- ports ----
port_in_use() { [[ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]]; }
# Ports already handed out; pick_port runs in a $(…) subshell, so callers append its result.
CHOSEN_PORTS=" "
# pick_port NAME ENV_VAR: the port from ENV_VAR if set (and free), else a free one below the ephemeral range.
pick_port() {
  local name="$1" var="$2" p="${!2:-}" _attempt
  if [[ -n "$p" ]]; then
    [[ "$p" =~ ^[0-9]+$ ]] || die "$var='$p' is not a port number"
    if port_in_use "$p"; then
      die "port $p ($var, for $name) is already in use: $(ss -Htlnp "sport = :$p" | head -n 1 | tr -s ' '). Stop that process or set $var to a free port (or unset it to pick one)."
    fi
  else
    for _attempt in $(seq 1 200); do
      p=$((20000 + RANDOM % 12000))
      [[ "$CHOSEN_PORTS" == *" $p "* ]] && continue
      port_in_use "$p" || break
      p=""
    done
    [[ -n "$p" ]] || die "found no free loopback port for $name"
  fi
  printf '%s' "$p"
}
ETCD_PORT="$(pick_port etcd PORTCULLIS_ETCD_PORT)"
ETCD_PEER_PORT="$(pick_port "etcd peer" PORTCULLIS_ETCD_PEER_PORT)"
CHOSEN_PORTS+="$ETCD_PORT $ETCD_PEER_PORT "
API_PORT="$(pick_port kube-apiserver PORTCULLIS_APISERVER_PORT)"
CHOSEN_PORTS+="$API_PORT "
CM_PORT="$(pick_port kube-controller-manager PORTCULLIS_CONTROLLER_MANAGER_PORT)"
CHOSEN_PORTS+="$CM_PORT "
SCHED_PORT="$(pick_port kube-scheduler PORTCULLIS_SCHEDULER_PORT)"
CHOSEN_PORTS+="$SCHED_PORT "
KWOK_PORT="$(pick_port kwok PORTCULLIS_KWOK_PORT)"
API_URL="https://127.0.0.1:$API_PORT"
# No trailing slash: verifiers append /.well-known/openid-configuration to the issuer as written.
SA_ISSUER="$API_URL"

UP_START=$SECONDS
mkdir -p "$CLUSTER_DIR" "$PID_DIR" "$LOG_DIR_CLUSTER" "$CLUSTER_DIR/kubeconfigs"
touch "$STATE_MARKER"
[[ -z "${PORTCULLIS_LEASE_PID:-}" ]] || touch "$CLUSTER_DIR/.lease-owned"
PKI="$CLUSTER_DIR/pki"

# On any failure, stop what this run started but keep the logs for reading.
on_exit() {
  local rc=$?
  if ((rc != 0)); then
    stop_components
    log "cluster-up failed; logs kept in $LOG_DIR_CLUSTER (make cluster-down removes them)"
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

"$HERE/pki.sh" "$PKI"

# ---- kubeconfigs (certificates embedded, so a kubeconfig file works on its own) ----
b64() { base64 -w0 <"$1"; }
write_kubeconfig() {
  local file="$1" user="$2" cert="$3" key="$4"
  umask 077
  cat >"$file" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: portcullis-e2e
  cluster:
    server: $API_URL
    certificate-authority-data: $(b64 "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(b64 "$cert")
    client-key-data: $(b64 "$key")
contexts:
- name: $user@portcullis-e2e
  context: {cluster: portcullis-e2e, user: $user}
current-context: $user@portcullis-e2e
KUBECONFIG
  umask 022
}
write_kubeconfig "$ADMIN_KUBECONFIG" portcullis-admin "$PKI/admin.crt" "$PKI/admin.key"
for c in kube-controller-manager kube-scheduler kwok; do
  write_kubeconfig "$CLUSTER_DIR/kubeconfigs/$c.kubeconfig" "$c" "$PKI/$c.crt" "$PKI/$c.key"
done
for u in "${TEST_USERS[@]}"; do
  write_kubeconfig "$CLUSTER_DIR/kubeconfigs/$u.kubeconfig" "$u" "$PKI/users/$u.crt" "$PKI/users/$u.key"
done

# ---- process control ----
# start_component NAME CMD...: runs CMD in its own session (so Ctrl-C on make or a closing terminal does not hit it),
# recording pid and start time.
start_component() {
  local name="$1"
  shift
  log "starting $name"
  # fd 8 is the state-dir lock: a component must not inherit it, or the lock would live as long as the cluster.
  setsid "$@" </dev/null >"$LOG_DIR_CLUSTER/$name.log" 2>&1 8>&- &
  local pid=$!
  printf '%s %s\n' "$pid" "$(proc_start "$pid")" >"$PID_DIR/$name.pid"
}

# component_failed NAME WHY: prints the log tail and a hint, then fails.
component_failed() {
  local name="$1" why="$2" logfile="$LOG_DIR_CLUSTER/$1.log" hint="see the log above"
  printf '[cluster] ---- last lines of %s ----\n' "$logfile" >&2
  tail -n 30 "$logfile" >&2 || true
  if grep -qiE 'address already in use|bind: ' "$logfile"; then
    hint="another process took its port after the free-port check; rerun 'make cluster-up'"
  fi
  die "$name $why; $hint. Full log: $logfile"
}

# wait_until NAME CHECK...: polls CHECK until it succeeds, failing fast if NAME's process dies.
wait_until() {
  local name="$1"
  shift
  local deadline=$((SECONDS + START_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    component_alive "$name" || component_failed "$name" "exited during start"
    ((SECONDS < deadline)) || component_failed "$name" "was not ready after ${START_TIMEOUT}s (PORTCULLIS_START_TIMEOUT)"
    sleep 0.25
  done
}

admin_curl() { curl -fsS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$@"; }
KUBECTL=("$BIN_DIR/kubectl" --kubeconfig "$ADMIN_KUBECONFIG")

# ---- etcd ----
start_component etcd "$BIN_DIR/etcd" \
  --name portcullis-e2e \
  --data-dir "$CLUSTER_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "portcullis-e2e=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync \
  --log-level warn
etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
wait_until etcd etcd_healthy

# ---- kube-apiserver ----
# The service-account issuer is this apiserver itself, so its discovery document and JWKS are served at
# $SA_ISSUER/.well-known/openid-configuration and $SA_ISSUER/openid/v1/jwks.
start_component kube-apiserver "$BIN_DIR/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 \
  --advertise-address 127.0.0.1 \
  --secure-port "$API_PORT" \
  --cert-dir "$CLUSTER_DIR/apiserver-certs" \
  --tls-cert-file "$PKI/apiserver.crt" \
  --tls-private-key-file "$PKI/apiserver.key" \
  --client-ca-file "$PKI/client-ca.crt" \
  --service-account-issuer "$SA_ISSUER" \
  --service-account-key-file "$PKI/sa.pub" \
  --service-account-signing-key-file "$PKI/sa.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --authorization-mode RBAC \
  --enable-admission-plugins NamespaceLifecycle,ServiceAccount,MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
  --enable-priority-and-fairness=false \
  --allow-privileged=true \
  --endpoint-reconciler-type none \
  --profiling=false
apiserver_ready() { [[ "$(admin_curl "$API_URL/readyz")" == ok ]]; }
wait_until kube-apiserver apiserver_ready

# ---- controller-manager and scheduler (each with its own identity from the default RBAC policy) ----
start_component kube-controller-manager "$BIN_DIR/kube-controller-manager" \
  --kubeconfig "$CLUSTER_DIR/kubeconfigs/kube-controller-manager.kubeconfig" \
  --authentication-kubeconfig "$CLUSTER_DIR/kubeconfigs/kube-controller-manager.kubeconfig" \
  --authorization-kubeconfig "$CLUSTER_DIR/kubeconfigs/kube-controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 \
  --secure-port "$CM_PORT" \
  --cert-dir "$CLUSTER_DIR/controller-manager-certs" \
  --leader-elect=false \
  --use-service-account-credentials=true \
  --service-account-private-key-file "$PKI/sa.key" \
  --root-ca-file "$PKI/ca.crt" \
  --cluster-signing-cert-file "$PKI/client-ca.crt" \
  --cluster-signing-key-file "$PKI/client-ca.key"
start_component kube-scheduler "$BIN_DIR/kube-scheduler" \
  --kubeconfig "$CLUSTER_DIR/kubeconfigs/kube-scheduler.kubeconfig" \
  --authentication-kubeconfig "$CLUSTER_DIR/kubeconfigs/kube-scheduler.kubeconfig" \
  --authorization-kubeconfig "$CLUSTER_DIR/kubeconfigs/kube-scheduler.kubeconfig" \
  --bind-address 127.0.0.1 \
  --secure-port "$SCHED_PORT" \
  --cert-dir "$CLUSTER_DIR/scheduler-certs" \
  --leader-elect=false
# Their serving certs are self-signed; /healthz is on their always-allowed paths.
healthz() { [[ "$(curl -fsS --max-time 2 -k "https://127.0.0.1:$1/healthz")" == ok ]]; }
wait_until kube-controller-manager healthz "$CM_PORT"
wait_until kube-scheduler healthz "$SCHED_PORT"

# ---- kwok: fake nodes whose pods reach Running ----
STAGES_DIR="$VERSION_DIR/kwok-stages"
[[ -d "$STAGES_DIR" ]] || die "kwok stages missing in $STAGES_DIR; rerun 'make cluster-build'"
# Stages only: kwok applies its option defaults (parallelism, lease duration) only when the config file carries
# no KwokConfiguration document, and the flags below set everything else.
for f in "$STAGES_DIR"/*.yaml; do
  printf -- '---\n'
  cat "$f"
done >"$CLUSTER_DIR/kwok.yaml"
start_component kwok "$BIN_DIR/kwok" \
  --kubeconfig "$CLUSTER_DIR/kubeconfigs/kwok.kubeconfig" \
  --config "$CLUSTER_DIR/kwok.yaml" \
  --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector "$KUBE_KWOK_ANNOTATION=fake" \
  --cidr "$POD_CIDR" \
  --server-address "127.0.0.1:$KWOK_PORT"
kwok_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz" >/dev/null; }
wait_until kwok kwok_healthy

nodes_yaml() {
  local i
  for ((i = 0; i < NODE_COUNT; i++)); do
    cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    $KUBE_KWOK_ANNOTATION: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node-role.kubernetes.io/agent: ""
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
NODE
  done
}

# The sidecar (and anything else without cluster credentials) verifies projected tokens through OIDC discovery.
# By default system:service-account-issuer-discovery is bound only to system:serviceaccounts; the sidecar's own
# token has audience portcullis-sidecar, which the apiserver does not accept, so it reaches these endpoints
# anonymously. The documents are public keys and URLs, so the e2e cluster opens them to everyone, as the
# Kubernetes docs suggest for public issuers.
discovery_binding() {
  cat <<'BINDING'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: portcullis-e2e:service-account-issuer-discovery
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:service-account-issuer-discovery"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:unauthenticated"}
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated"}
BINDING
}

log "creating $NODE_COUNT kwok node(s) and the issuer-discovery binding"
{ nodes_yaml; printf -- '---\n'; discovery_binding; } | "${KUBECTL[@]}" apply -f - >"$LOG_DIR_CLUSTER/setup.log" 2>&1 ||
  { cat "$LOG_DIR_CLUSTER/setup.log" >&2; die "could not create the kwok nodes; see $LOG_DIR_CLUSTER/setup.log"; }

nodes_ready() { "${KUBECTL[@]}" wait --for=condition=Ready node --all --timeout=2s; }
wait_until kwok nodes_ready
default_sa() { "${KUBECTL[@]}" get serviceaccount default --namespace default; }
wait_until kube-controller-manager default_sa
discovery_public() { curl -fsS --max-time 2 --cacert "$PKI/ca.crt" "$SA_ISSUER/openid/v1/jwks" | grep -q '"keys"'; }
wait_until kube-apiserver discovery_public

# ---- state for status.sh and the TypeScript helpers ----
{
  echo "K8S_VERSION=$K8S_VERSION"
  echo "ETCD_VERSION=$ETCD_VERSION"
  echo "KWOK_VERSION=$KWOK_VERSION"
  echo "HELM_VERSION=$HELM_VERSION"
  echo "BIN_DIR=$BIN_DIR"
  echo "KUBECONFIG=$ADMIN_KUBECONFIG"
  echo "API_URL=$API_URL"
  echo "SA_ISSUER=$SA_ISSUER"
  echo "ETCD_PORT=$ETCD_PORT"
  echo "API_PORT=$API_PORT"
  echo "CONTROLLER_MANAGER_PORT=$CM_PORT"
  echo "SCHEDULER_PORT=$SCHED_PORT"
  echo "KWOK_PORT=$KWOK_PORT"
} >"$CLUSTER_DIR/cluster.env"
users_json=""
for u in "${TEST_USERS[@]}"; do users_json+="\"$u\": \"$CLUSTER_DIR/kubeconfigs/$u.kubeconfig\", "; done
cat >"$CLUSTER_DIR/cluster.json" <<JSON
{
  "stateDir": "$CLUSTER_DIR",
  "kubeconfig": "$ADMIN_KUBECONFIG",
  "apiServer": "$API_URL",
  "serviceAccountIssuer": "$SA_ISSUER",
  "binDir": "$BIN_DIR",
  "versions": {"kubernetes": "$K8S_VERSION", "etcd": "$ETCD_VERSION", "kwok": "$KWOK_VERSION", "helm": "$HELM_VERSION"},
  "ports": {"etcd": $ETCD_PORT, "apiServer": $API_PORT, "controllerManager": $CM_PORT, "scheduler": $SCHED_PORT, "kwok": $KWOK_PORT},
  "pki": {
    "caCert": "$PKI/ca.crt",
    "clientCaCert": "$PKI/client-ca.crt",
    "webhookCert": "$PKI/webhook.crt",
    "webhookKey": "$PKI/webhook.key",
    "serviceAccountPublicKey": "$PKI/sa.pub"
  },
  "userKubeconfigs": {${users_json%, }},
  "nodes": $NODE_COUNT
}
JSON

take_lease
log "cluster ready in $((SECONDS - UP_START))s: $API_URL (Kubernetes $K8S_VERSION), $NODE_COUNT kwok node(s)"
log "kubectl: $BIN_DIR/kubectl   state: $CLUSTER_DIR   stop: make cluster-down"
export_line
