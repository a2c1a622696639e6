#!/usr/bin/env bash
# bench.sh BUILD_DIR: prints the performance figures.
#  1. micro benchmarks (Google Benchmark): parse, decode, evaluate and the
#     whole admission path per fixture, no TLS; then the lint scaling table
#     (scripts/bench-lint.sh: 1k, 10k, 100k generated objects);
#  2. the cluster cache (--cluster): RSS of 50,000 cached objects and the
#     time to apply one watch event (bench/cluster_cache_bench.cpp);
#  3. a bounded load run over TLS against `wirecheck serve` on loopback with
#     ../shared/bench/run.sh (wrk, keep-alive), server pinned to CPU 0 and the
#     client to CPU 1, plus the server's CPU per request and RSS.
# The side-by-side table with the Go stdlib peer and nginx is
# ../shared/bench/compare.sh (needs golang-go); see docs/performance.md.
set -euo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$HERE/../shared}
SECS=${SECS:-5}
CONNS=${CONNS:-16}
PORT=${PORT:-9445}
OPS_PORT=${OPS_PORT:-9446}

echo "== micro benchmarks (CPU time per call, no TLS) =="
"$BUILD/bench/wirecheck_bench" --benchmark_min_time=0.5 ${BENCH_FILTER:+--benchmark_filter=$BENCH_FILTER}

echo
"$HERE/scripts/bench-lint.sh" "$BUILD"

echo "== cluster cache: memory of 50,000 cached objects, event latency =="
"$BUILD/bench/wirecheck_cluster_bench"

if [[ ! -d $SHARED/bench ]]; then
  echo "bench: $SHARED/bench is absent: load run skipped" >&2
  exit 0
fi
if ! command -v wrk >/dev/null; then
  "$HERE/scripts/install-deps.sh" --bench || { echo "bench: wrk not available: load run skipped" >&2; exit 0; }
fi

TMP=$(mktemp -d)
trap 'kill "${PID:-}" 2>/dev/null || true; wait "${PID:-}" 2>/dev/null || true; rm -rf "$TMP"' EXIT
CERT_DIR="$TMP" "$HERE/certs/gen-dev-certs.sh" >/dev/null
taskset -c 0 "$BUILD/wirecheck" serve --listen "127.0.0.1:$PORT" --ops-listen "127.0.0.1:$OPS_PORT" \
  --mode enforce --tls-cert-file "$TMP/tls.crt" --tls-private-key-file "$TMP/tls.key" >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null || { echo "bench: server did not become ready"; tail "$TMP/server.log"; exit 1; }

ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$PID/stat"; }
echo
echo "== load: wrk keep-alive, $CONNS connections, ${SECS}s per fixture, server on CPU 0 =="
for f in deployment servicemonitor service large; do
  t0=$(ticks)
  line=$(WRK_LOG="$TMP/wrk-$f.log" "$SHARED/bench/run.sh" "https://127.0.0.1:$PORT/validate" \
         "$SHARED/bench/fixtures/$f.json" "$CONNS" "$SECS")
  t1=$(ticks)
  reqs=$(sed -nE 's/.*requests=([0-9]+).*/\1/p' "$TMP/wrk-$f.log" | head -1)
  us=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="${reqs:-0}" 'BEGIN { if (n > 0) printf "%.1f", 1e6 * d / hz / n; else print "-" }')
  printf '%-15s %s server_us_per_req=%s\n' "$f" "$line" "$us"
done
echo "server RSS: $(awk '/VmRSS/ {print $2, $3}' "/proc/$PID/status"), peak $(awk '/VmHWM/ {print $2, $3}' "/proc/$PID/status")"

# Memory after a burst of large reviews (a 6 MB object, 16 at once): threads
# must not keep the peak (docs/performance.md).
/usr/bin/python3 - "$SHARED/bench/fixtures/service.json" "$TMP/big.json" <<'PY'
import json, sys
review = json.load(open(sys.argv[1]))
review["request"]["object"]["metadata"].setdefault("annotations", {})["bench/padding"] = "x" * 6_000_000
json.dump(review, open(sys.argv[2], "w"))
PY
before=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
CURLS=()
for _ in $(seq 1 16); do
  curl -s -o /dev/null --max-time 60 --cacert "$TMP/ca.crt" -H 'Content-Type: application/json' \
    --data-binary "@$TMP/big.json" "https://127.0.0.1:$PORT/validate" &
  CURLS+=($!)
done
wait "${CURLS[@]}"  # not a bare wait: the server is a job of this shell too
sleep 2
echo "16 concurrent 6 MB reviews: RSS before ${before} kB, after $(awk '/VmRSS/ {print $2}' "/proc/$PID/status") kB"

# Reviews that once blew up memory or CPU (issue 10): time and peak RSS each.
echo
echo "== hostile reviews: one request each against a fresh server =="
PORT=$((PORT + 2)) OPS_PORT=$((OPS_PORT + 2)) "$HERE/scripts/bench-hostile.sh" "$BUILD/wirecheck"
