#!/usr/bin/env bash
# bench.sh BUILD_DIR: prints the performance figures.
#  1. micro benchmarks (Google Benchmark): parse, decode, evaluate and the
#     whole admission path per fixture, no TLS; then the lint scaling table
#     (scripts/bench-lint.sh: 1k, 10k, 100k objects of two generators, with
#     issue 21's lint goals met or MISSED);
#  2. the cluster cache (--cluster): RSS of 50,000 cached objects and the
#     time to apply one watch event (bench/cluster_cache_bench.cpp);
#  3. wirecheck beside the Go stdlib peer and nginx in one run
#     (../shared/bench/compare.sh with wirecheck as its extra target; every
#     server pinned to CPU 0, the client to CPU 1), a full-handshake row with
#     ECDSA P-256 keys, idle RSS, then issue 13's budget table with each line
#     met or MISSED (scripts/bench-table.py); skipped when ../shared/bench is
#     absent. compare.sh builds the Go peer into ../shared/bench/.build;
#  4. hostile reviews, then issue 21's transport goals met or MISSED
#     (scripts/bench-transport.sh).
set -euo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$HERE/../shared}
SECS=${SECS:-5}
CONNS=${CONNS:-16}
# Ports of this script's listeners (loopback only); compare.sh's peers too.
PORT=${PORT:-19503}
OPS_PORT=${OPS_PORT:-19504}
GO_PORT=${GO_PORT:-19501}
NGINX_PORT=${NGINX_PORT:-19502}
EC_PORT=${EC_PORT:-19506}
EC_OPS_PORT=${EC_OPS_PORT:-19507}
EC_NGINX_PORT=${EC_NGINX_PORT:-19505}

echo "== micro benchmarks (CPU time per call, no TLS) =="
"$BUILD/bench/wirecheck_bench" --benchmark_min_time=0.5 ${BENCH_FILTER:+--benchmark_filter=$BENCH_FILTER}

echo
"$HERE/scripts/bench-lint.sh" "$BUILD"

echo "== cluster cache: memory of 50,000 cached objects, event latency =="
"$BUILD/bench/wirecheck_cluster_bench"

if [[ ! -d $SHARED/bench ]]; then
  echo "bench: $SHARED/bench is absent (the shared yardstick: Go peer, nginx, fixtures):" \
       "side-by-side load table skipped" >&2
  exit 0
fi
need_tools() { for t in go wrk nginx jq curl ss bc taskset; do command -v "$t" >/dev/null || return 1; done; }
if ! need_tools; then
  "$HERE/scripts/install-deps.sh" --bench || true
  need_tools || { echo "bench: go, wrk, nginx, jq, ss or bc missing (scripts/install-deps.sh --bench): load table skipped" >&2; exit 0; }
fi

Y=$SHARED/bench
TMP=$(mktemp -d)
PIDS=()
stop_all() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap stop_all EXIT

# start_wirecheck NAME PORT OPS_PORT CERT KEY: wirecheck serve pinned to CPU 0,
# enforce mode, default log level (one line per decision, as deployed).
start_wirecheck() {
  local name=$1 port=$2 ops=$3 cert=$4 key=$5 i
  taskset -c 0 "$BUILD/wirecheck" serve --listen "127.0.0.1:$port" --ops-listen "127.0.0.1:$ops" \
    --mode enforce --tls-cert-file "$cert" --tls-private-key-file "$key" >"$TMP/$name.log" 2>&1 &
  PIDS+=($!); LAST_PID=$!
  for i in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$ops/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: $name did not become ready"; tail "$TMP/$name.log"; exit 1
}
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
kids_ticks() { local s=0 p; for p in "$1" $(ps -o pid= --ppid "$1"); do s=$((s + $(ticks "$p"))); done; echo "$s"; }

# 3. wirecheck beside the Go peer and nginx in one run: compare.sh starts the
# peers on CPU 0 and runs the matrix (every fixture at 16 and 64 connections,
# interleaved, then Connection: close and full-handshake rows) with wirecheck
# as its EXTRA_TARGET, on the yardstick's own RSA-2048 certificate.
"$Y/certs/gen.sh" >/dev/null   # a no-op when the yardstick's certificate exists
start_wirecheck wirecheck "$PORT" "$OPS_PORT" "$Y/certs/tls.crt" "$Y/certs/tls.key"
WC_PID=$LAST_PID
sleep 1
IDLE_KB=$(awk '/VmRSS/ {print $2}' "/proc/$WC_PID/status")
echo
echo "== wirecheck beside the Go peer and nginx (../shared/bench/compare.sh, ${SECS}s per cell, load average $(cut -d' ' -f1-3 /proc/loadavg)) =="
echo "idle RSS: $IDLE_KB kB ($(awk '/RssAnon/ {print $2}' "/proc/$WC_PID/status") kB anonymous)"
OUT=$TMP/compare
SECS=$SECS CONNS="16 64" GO_PORT=$GO_PORT NGINX_PORT=$NGINX_PORT OUT_DIR=$OUT \
  EXTRA_TARGET="wirecheck=https://127.0.0.1:$PORT/validate" EXTRA_PID=$WC_PID \
  "$Y/compare.sh" >/dev/null 2>"$TMP/compare.err" || { cat "$TMP/compare.err" >&2; exit 1; }
grep -E 'correctness gate|load:' "$TMP/compare.err" | sed 's/^\[compare [0-9:]*\] /compare: /'

# The same full-handshake row with ECDSA P-256 keys (the dev certificates and
# deploy/ use them): nginx from the yardstick's config and wirecheck, each on
# CPU 0 in turn, new TCP + full handshake per request (tools/hsload).
mkdir -p "$TMP/ec" "$TMP/nginx"
openssl req -x509 -nodes -days 30 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 \
  -subj "/CN=webhook-bench.local" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$TMP/ec/tls.key" -out "$TMP/ec/tls.crt" 2>/dev/null
sed -e "s#@RUNDIR@#$TMP/nginx#g; s#@PORT@#$EC_NGINX_PORT#g; s#@CERT@#$TMP/ec/tls.crt#g; s#@KEY@#$TMP/ec/tls.key#g; s#@HTTP2@##g" \
  "$Y/peers/nginx/nginx.conf.in" >"$TMP/nginx/nginx.conf"
taskset -c 0 nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/stderr.log" >"$TMP/nginx/out.log" 2>&1 &
PIDS+=($!); NGX_PID=$!
start_wirecheck wirecheck-ec "$EC_PORT" "$EC_OPS_PORT" "$TMP/ec/tls.crt" "$TMP/ec/tls.key"
EC_PID=$LAST_PID
for _ in $(seq 1 50); do curl -sk -o /dev/null "https://127.0.0.1:$EC_NGINX_PORT/" && break; sleep 0.1; done
ec_row() {  # server pid url
  local t0 t1 line raw reqs
  t0=$(kids_ticks "$2")
  line=$(MODE=full WRK_LOG="$TMP/ec-$1.log" "$Y/run.sh" "$3" "$Y/fixtures/deployment.json" 16 "$SECS")
  t1=$(kids_ticks "$2")
  raw=$(grep -m1 '^raw ' "$TMP/ec-$1.log" || true)
  reqs=$(sed -nE 's/.*requests=([0-9]+).*/\1/p' <<<"$raw")
  local us; us=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="${reqs:-0}" 'BEGIN { if (n > 0) printf "%.0f", 1e6 * d / hz / n; else print "-" }')
  local kv; kv=$(sed -E 's/rps=([^ ]+) p50_ms=([^ ]+) p99_ms=([^ ]+) errors=([^ ]+) non2xx=([^ ]+)/\1\t\2\t\3\t\4\t\5/' <<<"$line")
  printf '%s\tfull-ec\tdeployment\t16\t%s\t-\t%s\t-\t-\t-\t-\n' "$1" "$kv" "$us" >>"$OUT/results.tsv"
}
ec_row nginx "$NGX_PID" "https://127.0.0.1:$EC_NGINX_PORT/validate"
ec_row wirecheck "$EC_PID" "https://127.0.0.1:$EC_PORT/validate"
# Done with the ECDSA pair: stop them now, so that their ports (EC_NGINX_PORT
# and EC_PORT, by default PORT+2 and PORT+3) are free for the hostile-review
# servers below, which listen on PORT+2 and OPS_PORT+2.
kill "$NGX_PID" "$EC_PID" 2>/dev/null || true
wait "$NGX_PID" "$EC_PID" 2>/dev/null || true

echo
echo "-- raw cells (compare.sh results.tsv; proc_us_req = server CPU per request) --"
column -t -s $'\t' "$OUT/results.tsv"
echo
[[ -n ${RESULTS:-} ]] && cp "$OUT/results.tsv" "$RESULTS"   # for bench-table.py over several runs
python3 "$HERE/scripts/bench-table.py" --idle-kb "$IDLE_KB" "$OUT/results.tsv"
PID=$WC_PID
echo "wirecheck RSS now $(awk '/VmRSS/ {print $2, $3}' "/proc/$PID/status"), peak $(awk '/VmHWM/ {print $2, $3}' "/proc/$PID/status")"

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
  curl -s -o /dev/null --max-time 60 --cacert "$Y/certs/tls.crt" -H 'Content-Type: application/json' \
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

# Issue 21's transport goals (connection floods, close reasons, stop), each
# met or MISSED, from the server-tier tests that show them.
echo
"$HERE/scripts/bench-transport.sh" "$BUILD"
