#!/usr/bin/env bash
# Install wirecheck without cert-manager: makes a CA and a serving
# certificate with openssl and writes a kustomize overlay that installs
# everything with `kubectl apply -k OUT_DIR` and no other controller.
#
#   certs/gen-deploy-certs.sh [--mode warn|enforce|audit] [--namespace NS] OUT_DIR
#
# (deploy/local/ is git-ignored: OUT_DIR=deploy/local/wirecheck keeps the
# relative paths to deploy/ stable.)
#
# OUT_DIR/kustomization.yaml   the overlay: deploy/base + the mode + ./certs, in NS
# OUT_DIR/certs/               a kustomize Component: the serving Secret
#                              (tls.crt, tls.key, ca.crt) and a patch that
#                              puts the CA into every webhook's caBundle
# OUT_DIR/ca/ca.key, ca.crt    the CA. Keep ca.key secret and out of git; it
#                              is never applied to the cluster.
#
# Run again to renew the serving certificate (same CA, so the caBundle does
# not change): `certs/gen-deploy-certs.sh ... OUT_DIR && kubectl apply -k OUT_DIR`.
# --rotate-ca makes a new CA; the caBundle then holds the new and the previous
# CA (OUT_DIR/ca/previous-ca.crt) until you delete that file and run again.
# Options: --service NAME (default wirecheck), --days N serving certificate
# lifetime (default 365), --ca-days N (default 3650).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEPLOY=$(cd "$HERE/../deploy" && pwd)
# shellcheck source=certs/openssl-lib.sh
source "$HERE/openssl-lib.sh"

MODE=warn NAMESPACE=wirecheck-system SERVICE=wirecheck DAYS=365 CA_DAYS=3650 ROTATE_CA='' OUT=''
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --mode) MODE=${2:?}; shift 2 ;;
    --namespace) NAMESPACE=${2:?}; shift 2 ;;
    --service) SERVICE=${2:?}; shift 2 ;;
    --days) DAYS=${2:?}; shift 2 ;;
    --ca-days) CA_DAYS=${2:?}; shift 2 ;;
    --rotate-ca) ROTATE_CA=1; shift ;;
    -h|--help) usage ;;
    -*) echo "gen-deploy-certs: unknown option $1" >&2; usage ;;
    *) [[ -z $OUT ]] || usage; OUT=$1; shift ;;
  esac
done
[[ -n $OUT ]] || usage
case $MODE in warn|enforce|audit) ;; *) echo "gen-deploy-certs: --mode must be warn, enforce or audit" >&2; exit 2 ;; esac
[[ $NAMESPACE =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || { echo "gen-deploy-certs: bad namespace '$NAMESPACE'" >&2; exit 2; }
command -v openssl >/dev/null || { echo "gen-deploy-certs: openssl is required" >&2; exit 1; }

umask 077
mkdir -p "$OUT/ca" "$OUT/certs"
OUT=$(cd "$OUT" && pwd)
cd "$OUT"

if [[ -n $ROTATE_CA && -s ca/ca.crt ]]; then
  mv ca/ca.crt ca/previous-ca.crt
  rm -f ca/ca.key
fi
if [[ ! -s ca/ca.crt || ! -s ca/ca.key ]]; then
  new_ca ca/ca.key ca/ca.crt "wirecheck webhook CA" "$CA_DAYS"
  echo "gen-deploy-certs: new CA in $OUT/ca (keep ca.key secret)" >&2
fi

new_serving_cert ca/ca.crt ca/ca.key certs/tls.key certs/tls.crt "$SERVICE.$NAMESPACE.svc" "$DAYS" \
  "$(service_sans "$SERVICE" "$NAMESPACE")"
bundle=$(cat ca/ca.crt)
if [[ -s ca/previous-ca.crt ]]; then
  bundle+=$'\n'$(cat ca/previous-ca.crt)
fi
printf '%s\n' "$bundle" > certs/ca.crt
ca_b64=$(base64 -w0 < certs/ca.crt)

# The component: the Secret the Deployment mounts, and the caBundle of every
# webhook entry of deploy/base (one JSON-patch op per entry).
entries=$(grep -c '^  - name: .*\.wirecheck\.dev$' "$DEPLOY/base/validatingwebhookconfiguration.yaml")
{
  cat <<YAML
# Written by certs/gen-deploy-certs.sh; run it again to renew.
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
secretGenerator:
  - name: wirecheck-serving-cert
    type: kubernetes.io/tls
    files: [tls.crt, tls.key, ca.crt]
    options:
      disableNameSuffixHash: true
patches:
  - target:
      kind: ValidatingWebhookConfiguration
      name: wirecheck
    patch: |-
YAML
  for ((i = 0; i < entries; i++)); do
    printf '      - op: add\n        path: /webhooks/%d/clientConfig/caBundle\n        value: %s\n' "$i" "$ca_b64"
  done
} > certs/kustomization.yaml

rel=$(realpath --relative-to="$OUT" "$DEPLOY")
{
  cat <<YAML
# wirecheck in $MODE mode with a static certificate (no cert-manager).
# Written by certs/gen-deploy-certs.sh; install with kubectl apply -k .
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $NAMESPACE
resources:
  - $rel/base
components:
YAML
  [[ $MODE == warn ]] || echo "  - $rel/components/$MODE"
  echo "  - certs"
  # As in deploy/overlays/*: the namespace reaches every reference.
  echo "transformers:"
  echo "  - $rel/namespace"
} > kustomization.yaml
chmod 644 certs/tls.crt certs/ca.crt ca/ca.crt kustomization.yaml certs/kustomization.yaml
echo "gen-deploy-certs: wrote $OUT (namespace $NAMESPACE, mode $MODE, serving certificate valid $DAYS days); install: kubectl apply -k $OUT" >&2
