#!/usr/bin/env bash
# bench-transport.sh BUILD_DIR: issue 21's transport goals, each printed met
# or MISSED, from the server-tier tests that show them (real listeners on
# loopback, bounded in count and time):
#   - a flood of 5,000 connections that never send a request, from one and
#     from 100 loopback addresses: every decision of an API-server-like
#     client within 1 s (tests/server/flood_test.cpp);
#   - closes for a cap or a deadline counted by reason; the ops listener with
#     the webhook's deadlines (tests/server/transport_limits_test.cpp,
#     ops_metrics_test.cpp, abuse_test.cpp);
#   - stop: connections in the accept backlog answered, none reset
#     (transport_limits_test.cpp).
set -uo pipefail
BUILD=${1:-build}
TESTS="$BUILD/tests/wirecheck_server_tests"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

verdict() {  # verdict LABEL TEST-SPEC...
  local label=$1
  shift
  if "$TESTS" "$@" >"$TMP/out" 2>&1; then
    echo "$label: met"
  else
    echo "$label: MISSED"
    grep -E 'FAILED|REQUIRE|CHECK' "$TMP/out" | head -5 | sed 's/^/    /'
  fi
  grep -hE '^\[(flood|limits|abuse)\]' "$TMP/out" | sed 's/^/    /'
}

echo "== transport goals (issue 21) =="
verdict "flood of 5,000 silent connections from 1 address: every decision within 1 s" \
  "flood: 5,000 connections that never send a request from one address do not delay a single decision"
verdict "flood of 5,000 silent connections from 100 addresses: every decision within 1 s" \
  "flood: 5,000 connections that never send a request from 100 addresses do not delay a single decision"
verdict "every close for a cap or a deadline counted by reason (cap, per-source, idle, head, write)" \
  "limits: at the cap the oldest connection that never sent a request makes room, before any idle one" \
  "limits: one source address holds at most its share of connections without a request; other sources are untouched" \
  "abuse: slow readers holding large answers do not stall the webhook; the write deadline cuts them" \
  "abuse: deadlines from accept cut a ClientHello, a one-record request and a header dribble"
verdict "ops listener holds the webhook's head and idle deadlines" \
  "ops: the ops listener closes silent and idle connections on the webhook's deadlines"
verdict "stop: connections in the accept backlog answered, later ones refused, none reset" \
  "limits: at stop, connections waiting in the accept backlog are answered and later ones refused, none reset"
