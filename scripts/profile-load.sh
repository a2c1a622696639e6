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
# MODE=full: a new connection and full TLS handshake per request (run.sh's
# tools/hsload, as the kube-apiserver connects); the handshake is then part of
# every request and is broken down instead of set apart. CERT/KEY: the serving
# pair (default: the yardstick's RSA-2048 one), e.g. an ECDSA P-256 pair.
# Callgrind's CPU model has no ADX (nor AVX-512), so OpenSSL takes slower paths
# for X25519 and P-256 under it: compare handshake counts with a peer profiled
# the same way (nginx), not with wall-clock figures.
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
MODE=${MODE:-keepalive}
export MODE
CERT=${CERT:-$Y/certs/tls.crt}
KEY=${KEY:-$Y/certs/tls.key}
mkdir -p "$OUT"
[[ -d $Y ]] || { echo "profile-load: $Y is absent" >&2; exit 2; }
"$Y/certs/gen.sh" >/dev/null

if [[ ${REUSE:-0} != 1 ]]; then  # REUSE=1: analyse the kept output again
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/callgrind.out" \
  "$BUILD/wirecheck" serve --listen "127.0.0.1:$PORT" --ops-listen "127.0.0.1:$OPS_PORT" --mode enforce \
  --tls-cert-file "$CERT" --tls-private-key-file "$KEY" >"$OUT/server.log" 2>&1 &
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
python3 - "$OUT/inclusive.txt" "$reqs" "$CONNS" "$MODE" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
reqs = int(sys.argv[2])
conns = int(sys.argv[3])
full = sys.argv[4] == "full"
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
if full:  # one handshake per request: a part of it, broken down
    parts = [
        ("TLS handshake: ECDHE key share (EVP_PKEY_keygen)", incl(r"[: ]EVP_PKEY_keygen[ \[]")),
        ("TLS handshake: ECDHE secret (EVP_PKEY_derive)", incl(r"[: ]EVP_PKEY_derive[ \[]")),
        ("TLS handshake: signature (EVP_DigestSign)", incl(r"[: ]EVP_DigestSign[ \[]")),
        ("TLS handshake: session ticket (i2d_SSL_SESSION)", incl(r"[: ]i2d_SSL_SESSION[ \[]")),
        ("TLS handshake: certificate callback", incl(r"CertStore::attach")),
        ("TLS handshake: rest (key schedule, messages)", 0),
        ("TLS per connection: Asio ssl::stream set-up", incl(r"ssl::detail::stream_core::stream_core<")),
        ("TLS per connection: SSL_new + SSL_free", incl(r"[: ]SSL_new[ \[]") + incl(r"[: ]SSL_free[ \[]")),
    ] + parts
    parts[5] = (parts[5][0], handshakes - sum(v for _, v in parts[:5]))
else:
    total -= handshakes  # once per connection: reported apart, not per request
handle = incl(r"AdmissionHandler::handle\(")
known = sum(v for _, v in parts)
print(f"  {'part':48s} {'instr/req':>10s} {'share':>6s}")
for name, v in parts:
    print(f"  {name:48s} {v / reqs:10,.0f} {100 * v / total:5.1f}%")
rest = total - known
print(f"  {'rest: event loop, Asio/Beast glue, malloc, syscall wrappers':48s} {rest / reqs:10,.0f} {100 * rest / total:5.1f}%")
print(f"  {'total per request (user space, ' + ('full handshake)' if full else 'keep-alive)'):48s} {total / reqs:10,.0f}  (AdmissionHandler::handle {handle / reqs:,.0f})")
if not full:
    print(f"  full TLS handshake: {handshakes / conns:,.0f} instructions each ({conns} connections)")
PY
