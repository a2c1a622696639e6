#!/usr/bin/env bash
# `make run`: starts the webhook in warn mode with the development
# certificate (certs/, made by certs/gen-dev-certs.sh) and prints commands to
# try it: a curl posting a real AdmissionReview, and `wirecheck selftest`.
# Usage: scripts/run-dev.sh BINARY LISTEN OPS_LISTEN
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-build/wirecheck}
LISTEN=${2:-127.0.0.1:8443}
OPS_LISTEN=${3:-127.0.0.1:8080}
MODE=${MODE:-warn}
CERT_DIR=${CERT_DIR:-certs}  # tests point this at a temporary directory
export CERT_DIR

[[ -x $BIN ]] || { echo "run-dev: $BIN not built (run make build)" >&2; exit 1; }
[[ -s $CERT_DIR/tls.crt && -s $CERT_DIR/tls.key && -s $CERT_DIR/ca.crt ]] || certs/gen-dev-certs.sh

# A body to post: the bench's ServiceMonitor review (denied in enforce) when
# the shared corpus sits beside the project, else a small built-in one.
BODY=../shared/bench/fixtures/servicemonitor.json
if [[ ! -f $BODY ]]; then
  BODY=${TMPDIR:-/tmp}/wirecheck-example-review.json
  cat > "$BODY" <<'JSON'
{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"00000000-0000-4000-8000-000000000001","kind":{"group":"monitoring.coreos.com","version":"v1","kind":"ServiceMonitor"},"resource":{"group":"monitoring.coreos.com","version":"v1","resource":"servicemonitors"},"name":"example","namespace":"demo","operation":"CREATE","userInfo":{"username":"dev"},"object":{"apiVersion":"monitoring.coreos.com/v1","kind":"ServiceMonitor","metadata":{"name":"example","namespace":"demo"},"spec":{"selector":{"matchLabels":{"app":"example"}},"endpoints":[{"port":"https","scheme":"https","tlsConfig":{"ca":{"secret":{"name":"example-tls","key":"ca.crt"}}}}]}},"oldObject":null,"dryRun":false}}
JSON
fi
BODY=$(realpath "$BODY")
HOSTPORT=$LISTEN
[[ $HOSTPORT == 0.0.0.0:* ]] && HOSTPORT=127.0.0.1:${HOSTPORT#0.0.0.0:}
OPS=$OPS_LISTEN
[[ $OPS == 0.0.0.0:* ]] && OPS=127.0.0.1:${OPS#0.0.0.0:}

cat >&2 <<MSG
wirecheck: starting the webhook on https://$HOSTPORT ($MODE mode; ops on http://$OPS). Try:

  curl -sS --cacert $CERT_DIR/ca.crt -H 'Content-Type: application/json' \\
    --data-binary @$BODY 'https://$HOSTPORT/validate?timeout=10s'

  $BIN selftest --url https://$HOSTPORT/validate --ca-file $CERT_DIR/ca.crt
  curl -s http://$OPS/readyz; curl -s http://$OPS/metrics

Paths /validate/enforce, /validate/warn and /validate/audit pick a mode per request. Ctrl-C stops.

MSG
exec "$BIN" serve --listen "$LISTEN" --ops-listen "$OPS_LISTEN" --mode "$MODE" \
  --tls-cert-file "$CERT_DIR/tls.crt" --tls-private-key-file "$CERT_DIR/tls.key" --shutdown-delay 0s
