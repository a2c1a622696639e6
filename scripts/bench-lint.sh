#!/usr/bin/env bash
# bench-lint.sh BUILD_DIR: the lint scaling table. Generates deterministic
# inputs (bench/gen_lint_input.py) of 1k, 10k and 100k objects spread over
# namespaces of 100 objects, and 10k objects in one namespace, then loads and
# lints each (build/bench/wirecheck_lint_scaling). A flat us/object column
# across sizes means linear growth. LINT_SIZES overrides the sizes.
set -euo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")/.." && pwd)
SIZES=${LINT_SIZES:-1000 10000 100000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
files=()
for n in $SIZES; do
  python3 "$HERE/bench/gen_lint_input.py" "$n" >"$TMP/spread-$n.yaml"
  files+=("$TMP/spread-$n.yaml")
done
python3 "$HERE/bench/gen_lint_input.py" 10000 --layout one-namespace >"$TMP/one-namespace-10000.yaml"
files+=("$TMP/one-namespace-10000.yaml")
echo "== lint scaling: generated inputs (bench/gen_lint_input.py), one thread =="
"$BUILD/bench/wirecheck_lint_scaling" "${files[@]}"
