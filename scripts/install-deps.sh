#!/usr/bin/env bash
# Installs the Debian bookworm packages wirecheck needs to build, test and run,
# only when one is missing. Idempotent; safe to run on every `make`.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config make git
  libcpp-httplib-dev libssl-dev openssl ca-certificates
  nlohmann-json3-dev libsimdjson-dev libspdlog-dev libfmt-dev
  catch2 libyaml-cpp-dev libbenchmark-dev
  curl jq
  python3-prometheus-client   # the reference Prometheus text parser, for the metrics test
)

# `install-deps.sh --bench` adds the load-test client.
if [[ ${1:-} == --bench ]]; then
  PACKAGES+=(wrk util-linux)
fi
# `install-deps.sh --fuzz` adds clang and its libFuzzer/sanitizer runtimes.
if [[ ${1:-} == --fuzz ]]; then
  PACKAGES+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-deps: missing packages (${missing[*]}) and not root; install them with apt-get as root" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq || ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  echo "install-deps: apt-get could not install: ${missing[*]}" >&2
  echo "install-deps: this project needs Debian bookworm's package archive (see README)" >&2
  exit 1
fi
