#!/usr/bin/env bash
# Development certificates for `make run` and local selftests: a throwaway CA
# (certs/ca.crt, ca.key) and a serving pair (certs/tls.crt, tls.key) with the
# names the webhook is reached by locally and in-cluster (deploy/): localhost,
# 127.0.0.1, ::1 and the Service DNS names. Idempotent: existing files are
# kept; `make clean` (or deleting them) makes new ones. Never use in production:
# in a cluster cert-manager (deploy/components/cert-manager) or
# certs/gen-deploy-certs.sh issues the certificate.
# CERT_DIR writes elsewhere (tests use a temporary directory).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "${CERT_DIR:-$HERE}"

SERVICE=${SERVICE:-wirecheck}
NAMESPACE=${NAMESPACE:-wirecheck-system}
DAYS=${DAYS:-365}

if [[ -s ca.crt && -s ca.key && -s tls.crt && -s tls.key ]]; then
  exit 0
fi
command -v openssl >/dev/null || { echo "gen-dev-certs: openssl is required" >&2; exit 1; }

umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=certs/openssl-lib.sh
source "$HERE/openssl-lib.sh"

if [[ ! -s ca.crt || ! -s ca.key ]]; then
  new_ca "$tmp/ca.key" "$tmp/ca.crt" "wirecheck development CA" "$DAYS"
  mv "$tmp/ca.key" ca.key
  mv "$tmp/ca.crt" ca.crt
fi

new_serving_cert ca.crt ca.key "$tmp/tls.key" "$tmp/tls.crt" "${SERVICE}.${NAMESPACE}.svc" "$DAYS" \
  "DNS:localhost,IP:127.0.0.1,IP:::1,$(service_sans "$SERVICE" "$NAMESPACE")"
chmod 644 "$tmp/tls.crt" ca.crt
mv "$tmp/tls.key" tls.key
mv "$tmp/tls.crt" tls.crt
echo "gen-dev-certs: wrote $PWD/{ca.crt,tls.crt,tls.key} (SANs: localhost, 127.0.0.1, ::1, ${SERVICE}.${NAMESPACE}.svc...)" >&2
