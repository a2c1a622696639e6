#!/usr/bin/env bash
# profile-load.sh BUILD_DIR FIXTURE [CONNS] [SECONDS]: where a request's CPU
# goes under keep-alive load, in instructions (valgrind's callgrind: it counts
# user-space instructions exactly, so the figures hold on a noisy shared VM
# where perf's hardware counters are not available). Starts `wirecheck serve`
# under callgrind with collection off, turns it on once the server is ready,
# drives it with ../shared/bench/run.sh (wrk, keep-alive), and prints
# instructions per request by part: TLS, HTTP parsing (Beast), simdjson,
# decode, rules, response, logging, metrics, and the rest (event loop, Asio,
# allocator, syscall wrappers). Kernel time is not in callgrind's count: the
# utime/stime split of an unprofiled run gives it (docs/performance.md).
# Port 19510/19511 unless PORT/OPS_PORT are set. Keeps the callgrind output in
# $OUT (default /tmp/wirecheck-profile-FIXTURE).
set -euo pipefail
BUILD=${1:?usage: profile-load.sh BUILD_DIR FIXTURE [CONNS] [SECONDS]}
FIX=${2:?fixture: service, servicemonitor, deployment or large}
CONNS=${3:-16}
SECS=${4:-20}
HERE=$(cd "$(dirname "$0")/.." && pwd)
Y=${SHARED:-$HERE/../shared}/bench
PORT=${PORT:-19510}
OPS_PORT=${OPS_PORT:-19511}
OUT=${OUT:-/tmp/wirecheck-profile-$FIX}
mkdir -p "$OUT"
[[ -d $Y ]] || { echo "profile-load: $Y is absent" >&2; exit 2; }
"$Y/certs/gen.sh" >/dev/null

if [[ ${REUSE:-0} != 1 ]]; then  # REUSE=1: analyse the kept output again
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out" \
  "$BUILD/wirecheck" serve --listen "127.0.0.1:$PORT" --ops-listen "127.0.0.1:$OPS_PORT" --mode enforce \
  --tls-cert-file "$Y/certs/tls.crt" --tls-private-key-file "$Y/certs/tls.key" >"$OUT/server.log" 2>&1 &
VG=$!
trap 'kill "$VG" 2>/dev/null || true; wait "$VG" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$OPS_PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
callgrind_control -i on "$VG" >/dev/null 2>&1
line=$(WRK_LOG="$OUT/wrk.log" WRK_TIMEOUT=20s "$Y/run.sh" "https://127.0.0.1:$PORT/validate" \
       "$Y/fixtures/$FIX.json" "$CONNS" "$SECS")
callgrind_control -i off "$VG" >/dev/null 2>&1
kill -TERM "$VG"; wait "$VG" 2>/dev/null || true
trap - EXIT
echo "$FIX: $line" >"$OUT/line.txt"
fi
reqs=$(sed -nE 's/.*requests=([0-9]+).*/\1/p' "$OUT/wrk.log" | head -1)
echo "$(cat "$OUT/line.txt") (under callgrind, $reqs requests over $CONNS connections)"
callgrind_annotate --inclusive=yes --threshold=100 "$OUT/callgrind.out" >"$OUT/inclusive.txt" 2>/dev/null
python3 - "$OUT/inclusive.txt" "$reqs" "$CONNS" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
reqs = int(sys.argv[2])
conns = int(sys.argv[3])
total = int(re.search(r"^([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS", text, re.M).group(1).replace(",", ""))
rows = []
for m in re.finditer(r"^\s*([\d,]+)\s+\([^)]*\)\s+(.*)$", text, re.M):
    rows.append((int(m.group(1).replace(",", "")), m.group(2)))

def incl(pattern):
    """Inclusive instructions of the first (largest) function matching."""
    for ir, name in rows:
        if re.search(pattern, name):
            return ir
    return 0

def incl_sum(patterns):
    return sum(incl(p) for p in patterns)

parts = [
    ("TLS record layer: SSL_read (decrypt)", incl(r"[: ]SSL_read[ \[]|:SSL_read$")),
    ("TLS record layer: SSL_write (encrypt)", incl(r"[: ]SSL_write[ \[]|:SSL_write$")),
    ("HTTP parsing (Beast basic_parser::put)", incl(r"beast::http::basic_parser<true>::put\(")),
    ("JSON parse (simdjson, parse_review)", incl(r"admission::parse_review\(")),
    ("decode (core::decode_element)", incl(r"core::decode_element\(")),
    ("rules (policy::Engine::check)", incl(r"policy::Engine::(evaluate|check)\(")),
    ("decision + response JSON", incl(r"admission::decide\(") + incl(r"admission::build_review_response(\[abi:cxx11\])?\(")),
    ("logging (LogLine build + spdlog)", incl_sum([r"server::LogLine::LogLine\(", r"server::LogLine::str\(",
        r"server::LogLine::num\(", r"server::LogLine::real\(", r"server::LogLine::boolean\(",
        r"server::LogLine::list\(", r"server::LogLine::emit\("])),
    ("metrics (record_review)", incl(r"Metrics::record_review\(")),
]
handshakes = incl(r"[: ]SSL_do_handshake[ \[]|:SSL_do_handshake$")
total -= handshakes  # once per connection: reported apart, not per request
handle = incl(r"AdmissionHandler::handle\(")
known = sum(v for _, v in parts)
print(f"  {'part':48s} {'instr/req':>10s} {'share':>6s}")
for name, v in parts:
    print(f"  {name:48s} {v / reqs:10,.0f} {100 * v / total:5.1f}%")
rest = total - known
print(f"  {'rest: event loop, Asio/Beast glue, malloc, syscall wrappers':48s} {rest / reqs:10,.0f} {100 * rest / total:5.1f}%")
print(f"  {'total per request (user space, keep-alive)':48s} {total / reqs:10,.0f}  (AdmissionHandler::handle {handle / reqs:,.0f})")
print(f"  full TLS handshake (RSA-2048): {handshakes / conns:,.0f} instructions each ({conns} connections)")
PY
