#!/usr/bin/env bash
# bench-hostile.sh WIRECHECK_BINARY: time and peak memory of `wirecheck serve`
# for the reviews that once blew it up (bench/hostile_reviews.py, issue 10).
# Each case runs against a fresh server, so its peak RSS (VmHWM) is its own.
# CASES="empty-containers env-expansion" runs only those.
set -euo pipefail
BIN=${1:-build/wirecheck}
HERE=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-18043}
OPS_PORT=${OPS_PORT:-18044}
TMP=$(mktemp -d)
PID=
cleanup() {
  if [[ -n $PID ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
CERT_DIR="$TMP" "$HERE/certs/gen-dev-certs.sh" >/dev/null
python3 "$HERE/bench/hostile_reviews.py" "$TMP"

printf '%-22s %9s %9s %8s %9s  %s\n' case bytes seconds peak_MB after_MB answer
for case in ${CASES:-empty-containers loopback-probes-16k loopback-probes-1000 env-expansion}; do
  "$BIN" serve --listen "127.0.0.1:$PORT" --ops-listen "127.0.0.1:$OPS_PORT" --mode enforce \
    --tls-cert-file "$TMP/tls.crt" --tls-private-key-file "$TMP/tls.key" >"$TMP/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  secs=$(curl -s -o "$TMP/answer.json" -w '%{time_total}' --max-time 600 --cacert "$TMP/ca.crt" \
           -H 'Content-Type: application/json' --data-binary "@$TMP/$case.json" \
           "https://127.0.0.1:$PORT/validate" || echo "failed")
  hwm=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$PID/status")
  sleep 1
  rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$PID/status")
  answer=$(python3 -c '
import json, sys
try:
    r = json.load(open(sys.argv[1]))["response"]
    text = (r.get("status") or {}).get("message", "") or " | ".join(r.get("warnings") or [])
    print(("allowed" if r["allowed"] else "denied") + ": " + text.replace("\n", " ")[:110])
except Exception as e:
    print("no answer:", e)' "$TMP/answer.json")
  printf '%-22s %9s %9s %8s %9s  %s\n' "$case" "$(stat -c %s "$TMP/$case.json")" "$secs" "$hwm" "$rss" "$answer"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
done
