#!/usr/bin/env bash
# Installs the Debian bookworm packages wirecheck needs to build, test and run,
# only when one is missing. Idempotent; safe to run on every `make`.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config make git
  libcpp-httplib-dev libssl-dev openssl ca-certificates
  libboost-dev                # Asio + Beast: the event-driven HTTPS listeners
  nlohmann-json3-dev libsimdjson-dev libspdlog-dev libfmt-dev
  catch2 libyaml-cpp-dev libyaml-dev libbenchmark-dev
  curl jq
  python3-prometheus-client   # the reference Prometheus text parser, for the metrics test
  kubernetes-client           # kubectl kustomize renders deploy/ in the deploy test
  nodejs                      # the SARIF schema validator (scripts/install-sarif-validator.sh)
)

# `install-deps.sh --bench` adds the load-test client and what
# ../shared/bench/compare.sh needs for its peers (Go, nginx, ss, bc).
if [[ ${1:-} == --bench ]]; then
  PACKAGES+=(wrk util-linux golang-go nginx-light iproute2 bc)
fi
# `install-deps.sh --e2e` adds what scripts/envtest.sh needs: etcd, and Go and
# dpkg-dev to build kube-apiserver from Debian's kubernetes source package;
# and Prometheus, the oracle the scrape tests compare wirecheck's verdict with
# (tests/e2e/prometheus_oracle_test.sh runs its own instance on loopback; the
# package's system service is never used, see stop_packaged_prometheus).
if [[ ${1:-} == --e2e ]]; then
  PACKAGES+=(etcd-server golang-go golang-github-modern-go-reflect2-dev dpkg-dev prometheus)
fi
# `install-deps.sh --fuzz` adds clang and its libFuzzer/sanitizer runtimes.
if [[ ${1:-} == --fuzz ]]; then
  PACKAGES+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  # Any kubectl will do; a newer one from another source owns /usr/bin/kubectl
  # and must not be replaced (deploy/ needs its kustomize v5, see README).
  if [[ $p == kubernetes-client ]] && command -v kubectl >/dev/null; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
sarif_validator() { "$(dirname "$0")/install-sarif-validator.sh"; }
[[ ${#missing[@]} -eq 0 ]] && { sarif_validator; exit 0; }

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
# The prometheus package enables and starts a system service (all interfaces,
# port 9090) where systemd runs; the e2e tier only runs its own instances, on
# loopback. Stop and disable the service this installation just started.
if [[ " ${missing[*]} " == *" prometheus "* && -d /run/systemd/system ]]; then
  $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
sarif_validator
