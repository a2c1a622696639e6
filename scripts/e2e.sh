#!/usr/bin/env bash
# `make e2e`: the e2e tier. Installs (first run: builds, ~10 min on 2 cores;
# then cached) and starts a kube-apiserver + etcd + kube-controller-manager on
# 127.0.0.1 (scripts/envtest.sh), runs the ctest tests labelled e2e against
# it, and stops it on every exit. A failed run keeps the cluster's logs.
# Usage: scripts/e2e.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ENVTEST=$PWD/scripts/envtest.sh
BUILD_DIR=$(realpath "${1:-build}")
export ENVTEST_DIR=${ENVTEST_DIR:-$BUILD_DIR/envtest}

"$ENVTEST" install
"$ENVTEST" start
on_exit() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then
    "$ENVTEST" stop
  else
    ENVTEST_KEEP_DIR=1 "$ENVTEST" stop
    echo "e2e: failed; the cluster's logs are in $ENVTEST_DIR/logs" >&2
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

cd "$BUILD_DIR"
ctest -L e2e --output-on-failure
