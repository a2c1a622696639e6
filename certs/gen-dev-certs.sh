#!/usr/bin/env bash
# Development certificates for `make run` and local selftests: a throwaway CA
# (certs/ca.crt, ca.key) and a serving pair (certs/tls.crt, tls.key) with the
# names the webhook is reached by locally and in-cluster (deploy/): localhost,
# 127.0.0.1, ::1 and the Service DNS names. Idempotent: existing files are
# kept; `make clean` (or deleting them) makes new ones. Never use in production:
# in a cluster cert-manager issues the certificate (deploy/base/certificate.yaml).
# CERT_DIR writes elsewhere (tests use a temporary directory).
set -euo pipefail
cd "${CERT_DIR:-$(dirname "$0")}"

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

if [[ ! -s ca.crt || ! -s ca.key ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$tmp/ca.key" -out "$tmp/ca.crt" -days "$DAYS" \
    -subj "/CN=wirecheck development CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  mv "$tmp/ca.key" ca.key
  mv "$tmp/ca.crt" ca.crt
fi

cat > "$tmp/ext.cnf" <<CNF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,DNS:${SERVICE},DNS:${SERVICE}.${NAMESPACE},DNS:${SERVICE}.${NAMESPACE}.svc,DNS:${SERVICE}.${NAMESPACE}.svc.cluster.local
CNF
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$tmp/tls.key" -out "$tmp/tls.csr" -subj "/CN=${SERVICE}.${NAMESPACE}.svc" 2>/dev/null
openssl x509 -req -in "$tmp/tls.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
  -days "$DAYS" -extfile "$tmp/ext.cnf" -out "$tmp/tls.crt" 2>/dev/null
chmod 644 "$tmp/tls.crt" ca.crt
mv "$tmp/tls.key" tls.key
mv "$tmp/tls.crt" tls.crt
echo "gen-dev-certs: wrote $PWD/{ca.crt,tls.crt,tls.key} (SANs: localhost, 127.0.0.1, ::1, ${SERVICE}.${NAMESPACE}.svc...)" >&2
