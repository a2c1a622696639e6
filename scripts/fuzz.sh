#!/usr/bin/env bash
# fuzz.sh BUILD_DIR SECONDS: runs every libFuzzer target of BUILD_DIR/fuzz for
# SECONDS each, seeded from the project's fixtures and ../shared (read in
# place, never copied into the repository). A crash, a timeout (20 s wall for one
# input) or a memory blow-up (over 1 GiB) stops the run with the input saved
# as BUILD_DIR/fuzz-artifacts/<target>-crash-*; copy it to
# tests/fixtures/fuzz-regressions/<target without fuzz_>/<what-it-did> (replayed
# by tests/fuzz_regressions_test.cpp) before fixing. Corpora grow in
# BUILD_DIR/fuzz-corpus/<target> and are reused by the next run.
set -euo pipefail
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-60}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$HERE/../shared}
BUILD=$(cd "$BUILD" && pwd)

# Seeds that have to be made: a CA bundle as the API server reads it (base64
# of PEM) and the PEM itself.
SEEDS="$BUILD/fuzz-seeds"
mkdir -p "$SEEDS/ca_bundle"
if [[ ! -s $SEEDS/ca_bundle/bundle.pem ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -out "$SEEDS/ca_bundle/bundle.pem" -days 30 -subj "/CN=fuzz seed CA" 2>/dev/null
  base64 -w0 "$SEEDS/ca_bundle/bundle.pem" >"$SEEDS/ca_bundle/bundle.b64"
fi

REGRESSIONS="$HERE/tests/fixtures/fuzz-regressions"
# Seed directories per target (missing ones are skipped: ../shared may be absent).
seeds_for() {
  case $1 in
    fuzz_admission) echo "$REGRESSIONS/admission $HERE/tests/fixtures/admission $SHARED/fixtures/admission $SHARED/bench/fixtures" ;;
    fuzz_manifest) echo "$HERE/tests/fixtures $HERE/examples $SHARED/corpus" ;;
    fuzz_ca_bundle) echo "$REGRESSIONS/ca_bundle $SEEDS/ca_bundle" ;;
    fuzz_settings) echo "$REGRESSIONS/settings $HERE/fuzz/seeds/settings" ;;
    fuzz_watch_event) echo "$REGRESSIONS/watch_event $HERE/fuzz/seeds/watch_event" ;;
    *) echo "" ;;
  esac
}

status=0
shopt -s nullglob
targets=("$BUILD"/fuzz/fuzz_*)
[[ ${#targets[@]} -gt 0 ]] || { echo "fuzz: no targets in $BUILD/fuzz (make fuzz builds them)" >&2; exit 1; }
for target in "${targets[@]}"; do
  [[ -x $target ]] || continue
  name=$(basename "$target")
  corpus="$BUILD/fuzz-corpus/$name"
  mkdir -p "$corpus" "$BUILD/fuzz-artifacts"
  seed_dirs=()
  for d in $(seeds_for "$name"); do [[ -d $d ]] && seed_dirs+=("$d"); done
  start=$(date +%s)
  if "$target" "$corpus" "${seed_dirs[@]}" -max_total_time="$SECONDS_EACH" -timeout=20 \
       -rss_limit_mb=1024 -max_len=262144 -print_final_stats=1 \
       -artifact_prefix="$BUILD/fuzz-artifacts/$name-" >"$BUILD/fuzz-artifacts/$name.log" 2>&1; then
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$BUILD/fuzz-artifacts/$name.log")
    cov=$(grep -oE 'cov: [0-9]+' "$BUILD/fuzz-artifacts/$name.log" | tail -1)
    printf 'fuzz: %-16s ok   %8s runs in %ss, %s, corpus %s inputs\n' "$name" "${runs:-?}" \
      "$(( $(date +%s) - start ))" "${cov:-cov: ?}" "$(ls "$corpus" | wc -l)"
  else
    status=1
    echo "fuzz: $name FAILED; log and input under $BUILD/fuzz-artifacts/:"
    grep -E 'ERROR|SUMMARY|Test unit written|runtime error' "$BUILD/fuzz-artifacts/$name.log" | head -20
  fi
done
exit $status
