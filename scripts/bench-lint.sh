#!/usr/bin/env bash
# bench-lint.sh BUILD_DIR: the lint scaling table. Two generated inputs, each
# at 1k, 10k and 100k objects:
#   spread     bench/gen_lint_input.py: operator-shaped units of 10 small
#              objects that reference each other, 100 objects per namespace
#              (plus 10k objects in one namespace);
#   realistic  bench/gen_realistic_input.py: Deployments (two containers, env,
#              probes, resources), Services and ServiceMonitors (tlsConfig)
#              of the size `helm template` writes, over 100 namespaces.
# Each is loaded and linted in-process (build/bench/wirecheck_lint_scaling,
# CPU seconds, median of LINT_RUNS runs), then `wirecheck lint -f FILE
# --format json` runs on the 10k inputs as a user would (reading, report and
# exit included; CPU seconds, median of LINT_RUNS). Prints one met / MISSED
# line per goal of issue 21: >= 50 MB/s, and per-object cost flat from 1k to
# 100k objects (the 100k us/object at most 1.25x the 1k one). LINT_SIZES
# overrides the sizes.
set -euo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SIZES=${LINT_SIZES:-1000 10000 100000}
RUNS=${LINT_RUNS:-3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
files=()
for n in $SIZES; do
  python3 "$HERE/bench/gen_lint_input.py" "$n" >"$TMP/spread-$n.yaml"
  files+=("$TMP/spread-$n.yaml")
done
python3 "$HERE/bench/gen_lint_input.py" 10000 --layout one-namespace >"$TMP/one-namespace-10000.yaml"
files+=("$TMP/one-namespace-10000.yaml")
for n in $SIZES; do
  python3 "$HERE/bench/gen_realistic_input.py" "$n" >"$TMP/realistic-$n.yaml"
  files+=("$TMP/realistic-$n.yaml")
done
echo "== lint scaling: generated inputs, one thread, CPU seconds, median of $RUNS runs =="
"$BUILD/bench/wirecheck_lint_scaling" --runs "$RUNS" "${files[@]}" | tee "$TMP/table.txt"

# `wirecheck lint` as a user runs it: CPU seconds (user + sys) of the process.
cli_cpu() {
  local file=$1 times=() TIMEFORMAT='%U %S'
  for _ in $(seq 1 "$RUNS"); do
    { time "$BUILD/wirecheck" lint -f "$file" --format json --fail-on never >/dev/null; } 2>"$TMP/time"
    times+=("$(awk '{printf "%.3f", $1 + $2}' "$TMP/time")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

echo
echo "== lint goals (issue 21) =="
for input in spread realistic; do
  awk -v input="$input" '
    $1 ~ "^" input "-[0-9]+\\.yaml$" {
      n = $2; mbs[n] = $8; us[n] = $9
      if (first == "" || n + 0 < first + 0) first = n
      if (last == "" || n + 0 > last + 0) last = n
    }
    END {
      if (first == "") exit
      slow = 1e9
      for (n in mbs) if (mbs[n] + 0 < slow) slow = mbs[n] + 0
      printf "lint %-9s load + rules >= 50 MB/s at every size: slowest %.1f MB/s: %s\n", input, slow,
             (slow >= 50 ? "met" : "MISSED")
      ratio = us[last] / us[first]
      printf "lint %-9s per-object cost flat %dk -> %dk (<= 1.25x): %.1f -> %.1f us/object (%.2fx): %s\n",
             input, first / 1000, last / 1000, us[first], us[last], ratio, (ratio <= 1.25 ? "met" : "MISSED")
    }' "$TMP/table.txt"
  file="$TMP/$input-10000.yaml"
  if [[ -f $file && -x $BUILD/wirecheck ]]; then
    cpu=$(cli_cpu "$file")
    bytes=$(stat -c %s "$file")
    awk -v input="$input" -v cpu="$cpu" -v bytes="$bytes" 'BEGIN {
      rate = bytes / 1e6 / cpu
      printf "lint %-9s `wirecheck lint -f` on 10k objects (%.1f MB), whole command >= 50 MB/s: %.2f s CPU, %.1f MB/s, %.0f us/object: %s\n",
             input, bytes / 1e6, cpu, rate, cpu * 1e6 / 10000, (rate >= 50 ? "met" : "MISSED")
    }'
  fi
done
