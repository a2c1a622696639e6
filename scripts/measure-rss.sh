#!/usr/bin/env bash
# measure-rss.sh [BUILD_DIR]: the memory figures deploy/base/deployment.yaml's
# resources come from. Starts `wirecheck serve` on loopback and prints its
# RSS idle, then its peak RSS (VmHWM) while CONCURRENCY clients each send one
# review of about BODY_BYTES (default: just under the 8 MiB --max-body-bytes)
# at the same time, for each CONCURRENCY in $LEVELS.
set -euo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-18510}
OPS_PORT=${OPS_PORT:-18511}
LEVELS=${LEVELS:-"1 8 16 32 64"}
BODY_BYTES=${BODY_BYTES:-8300000}
FIXTURE=${FIXTURE:-$HERE/../shared/bench/fixtures/service.json}

TMP=$(mktemp -d)
PID=
trap 'if [[ -n $PID ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; rm -rf "$TMP"' EXIT
CERT_DIR="$TMP" "$HERE/certs/gen-dev-certs.sh" >/dev/null 2>&1

/usr/bin/python3 - "$FIXTURE" "$TMP/big.json" "$BODY_BYTES" <<'PY'
import json, sys
review = json.load(open(sys.argv[1]))
base = len(json.dumps(review))
pad = max(0, int(sys.argv[3]) - base - 64)
review["request"]["object"]["metadata"].setdefault("annotations", {})["measure/padding"] = "x" * pad
json.dump(review, open(sys.argv[2], "w"))
PY
echo "review body: $(stat -c %s "$TMP/big.json") bytes"

rss() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$PID/status"; }
for level in $LEVELS; do
  # A fresh server per level: VmHWM is the peak since start.
  "$BUILD/wirecheck" serve --listen "127.0.0.1:$PORT" --ops-listen "127.0.0.1:$OPS_PORT" --mode enforce \
    --tls-cert-file "$TMP/tls.crt" --tls-private-key-file "$TMP/tls.key" --log-level warn >"$TMP/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  idle=$(rss VmRSS)
  CURLS=()
  for _ in $(seq 1 "$level"); do
    curl -s -o /dev/null --max-time 120 --cacert "$TMP/ca.crt" -H 'Content-Type: application/json' \
      --data-binary "@$TMP/big.json" "https://127.0.0.1:$PORT/validate" &
    CURLS+=($!)
  done
  wait "${CURLS[@]}"
  sleep 1
  printf 'concurrency=%-3s idle_rss_kb=%s peak_rss_kb=%s after_rss_kb=%s\n' "$level" "$idle" "$(rss VmHWM)" "$(rss VmRSS)"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
done
