#!/usr/bin/env bash
# Generates the e2e cluster's PKI with openssl into DIR (default: $CLUSTER_DIR/pki):
#   ca.{crt,key}                 serving CA; signs the apiserver's cert and webhook.{crt,key} for local webhook servers
#   apiserver.{crt,key}          SANs localhost, 127.0.0.1 and the in-cluster kubernetes Service names/IP
#   sa.{key,pub}                 service-account token signing key pair (RSA, so tokens are RS256)
#   client-ca.{crt,key}          signs every client certificate below
#   admin                        O=system:masters
#   kube-controller-manager      CN=system:kube-controller-manager (bound by the default RBAC policy)
#   kube-scheduler               CN=system:kube-scheduler
#   kwok                         CN=system:kwok, O=system:masters (it writes node and pod status for fake nodes)
#   users/<name>.{crt,key}       one per test user in ./users (O = its groups), so approvals can be made by
#                                distinct people in distinct groups
# Existing files are kept, so rerunning is cheap and never changes a running cluster's trust.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=e2e/cluster/lib.sh
source "$HERE/lib.sh"

DIR="${1:-$CLUSTER_DIR/pki}"
# In-cluster address of the kubernetes Service: first IP of --service-cluster-ip-range in up.sh.
SERVICE_IP="${PORTCULLIS_SERVICE_IP:-10.96.0.1}"
DAYS=3650

command -v openssl >/dev/null || die "openssl not found; install it (apt-get install openssl)"
mkdir -p "$DIR/users"
umask 077

# EC P-256 keys: generated in milliseconds, accepted by Go's and Node's TLS.
new_key() { [[ -f "$1" ]] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

new_ca() {
  local name="$1" cn="$2"
  [[ -f "$DIR/$name.crt" ]] && return 0
  new_key "$DIR/$name.key"
  openssl req -x509 -new -key "$DIR/$name.key" -sha256 -days "$DAYS" -subj "/CN=$cn" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$DIR/$name.crt" 2>/dev/null
}

# sign OUT_PREFIX CA SUBJECT EXTENSIONS: a leaf certificate for OUT_PREFIX.key signed by CA.
sign() {
  local out="$1" ca="$2" subject="$3" ext="$4"
  [[ -f "$out.crt" ]] && return 0
  new_key "$out.key"
  local extfile
  extfile="$(mktemp)"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "$ext" >"$extfile"
  openssl req -new -key "$out.key" -subj "$subject" -out "$out.csr" 2>/dev/null
  openssl x509 -req -in "$out.csr" -CA "$DIR/$ca.crt" -CAkey "$DIR/$ca.key" -CAcreateserial -sha256 -days "$DAYS" \
    -extfile "$extfile" -out "$out.crt" 2>/dev/null
  rm -f "$out.csr" "$extfile"
}

serving_sans="subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:$SERVICE_IP"

new_ca ca portcullis-e2e-serving-ca
new_ca client-ca portcullis-e2e-client-ca
sign "$DIR/apiserver" ca "/CN=kube-apiserver" "extendedKeyUsage=serverAuth
$serving_sans"
sign "$DIR/webhook" ca "/CN=portcullis-e2e-webhook" "extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"

if [[ ! -f "$DIR/sa.key" ]]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DIR/sa.key" 2>/dev/null
  openssl pkey -in "$DIR/sa.key" -pubout -out "$DIR/sa.pub"
fi

client() { sign "$1" client-ca "$2" "extendedKeyUsage=clientAuth"; }
client "$DIR/admin" "/O=system:masters/CN=portcullis-admin"
client "$DIR/kube-controller-manager" "/CN=system:kube-controller-manager"
client "$DIR/kube-scheduler" "/CN=system:kube-scheduler"
client "$DIR/kwok" "/O=system:masters/CN=system:kwok"
while read -r user groups; do
  subject=""
  IFS=',' read -r -a group_list <<<"${groups:-}"
  for g in "${group_list[@]}"; do subject+="/O=$g"; done
  client "$DIR/users/$user" "$subject/CN=$user"
done < <(test_users)
rm -f "$DIR"/*.srl
# The public halves are meant to be read by test processes; keys stay owner-only.
chmod 644 "$DIR"/*.crt "$DIR"/users/*.crt "$DIR/sa.pub"
