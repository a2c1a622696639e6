#!/usr/bin/env bash
# A real Prometheus (Debian's, 2.42) is the oracle for `wirecheck audit
# --probe`: for each scenario below, Prometheus scrapes the same loopback
# address with the tls_config prometheus-operator generates from the
# ServiceMonitor endpoint, and wirecheck must report a scrape-tls-* finding
# exactly when Prometheus's target is down; the first failure class of the
# probe (in the order Go checks: the leaf's validity, the name, the chain)
# must be the class of Prometheus's lastError, and a finding must carry Go's
# same error text.
#
# Each scenario is a namespace with a Service without selector, an
# EndpointSlice (discovery.k8s.io/v1beta1: the v1.20 API server refuses
# loopback Endpoints) at 127.0.0.1:PORT, a CA ConfigMap, a ServiceMonitor
# whose tlsConfig.ca names it, and an openssl s_server -WWW serving a
# `metrics` file (valid exposition text, so a verified scrape is really up):
#
#   ip-sans        DNS SANs only, no serverName               down: IP SANs
#   servername     DNS SANs only, serverName <svc>.<ns>.svc   up
#   wrong-name     DNS SANs only, serverName other.<ns>.svc   down: name not covered
#   expired        expired certificate, right serverName      down: expired
#   unknown-ca     another CA's certificate, right serverName down: unknown authority
#   ip-san         DNS + IP SAN 127.0.0.1, no serverName      up
#
# and combinations and edges where a Go client differs from a naive check:
# an expired CA, an IP SAN missing and an unknown CA at once, a Common Name
# without SANs, a client-only key usage, a not yet valid certificate, an
# expired certificate with a wrong serverName. The table in SCENARIO_TABLE
# takes more ($ORACLE_EXTRA_SCENARIOS, same columns).
#
# Debian's Prometheus has no Kubernetes discovery: the test writes the targets
# from the EndpointSlice addresses (static_configs), one job per monitor
# endpoint as the operator names them. Then, for the seed case, `wirecheck
# lint` of the ServiceMonitor as the cluster holds it denies with
# servicemonitor-tls-servername; applying its fix and reloading Prometheus
# turns the target up, and the probe reports nothing.
#
# Prometheus runs on loopback with its own config and TSDB in the work dir,
# for at most PROM_LIFETIME seconds, and is stopped by PID on every exit.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

PROMETHEUS=${PROMETHEUS:-$(command -v prometheus || true)}
[[ -x $PROMETHEUS ]] || fail "no prometheus binary: scripts/install-deps.sh --e2e installs Debian's prometheus"
PROM_LIFETIME=240

e2e_init prometheus-oracle

CERTS=$E2E_WORK/certs
PROM_DIR=$E2E_WORK/prometheus
mkdir -p "$CERTS" "$PROM_DIR/ca"

# The scenarios, one a line: NAME, the CA in the monitor's ConfigMap, the CA
# that issues the served leaf, its SANs (dns: DNS:web.<ns>.svc + DNS:web; ip:
# IP:127.0.0.1; none: no SAN extension, CN web.<ns>.svc only), its validity
# (valid, expired, future), its extended key usage (server, client),
# tlsConfig.serverName (-: none; svc: web.<ns>.svc; other: other.<ns>.svc),
# and what Prometheus does: up, or down with a failure class of
# net/certificate.hpp. Lines in $ORACLE_EXTRA_SCENARIOS are compared too.
SCENARIO_TABLE='
ip-sans     metrics-ca metrics-ca dns    valid   server -     ip-sans
servername  metrics-ca metrics-ca dns    valid   server svc   up
wrong-name  metrics-ca metrics-ca dns    valid   server other name-not-covered
expired     metrics-ca metrics-ca dns    expired server svc   expired
unknown-ca  metrics-ca other-ca   dns    valid   server svc   unknown-authority
ip-san      metrics-ca metrics-ca dns,ip valid   server -     up
expired-ca  old-ca     old-ca     dns    valid   server svc   expired
ip-sans-ca  metrics-ca other-ca   dns    valid   server -     ip-sans
cn-only     metrics-ca metrics-ca none   valid   server svc   name-not-covered
client-eku  metrics-ca metrics-ca dns    valid   client svc   chain-invalid
future      metrics-ca metrics-ca dns    future  server svc   expired
expired-name metrics-ca metrics-ca dns   expired server other expired
'${ORACLE_EXTRA_SCENARIOS:-}
SCENARIOS=()
declare -A NS_OF TRUST_CA ISSUER SANS VALIDITY EKU SERVER_NAME EXPECT TLS_PORT TLS_PID
while read -r name trust issuer sans validity eku server_name expect; do
  [[ -n $name && $name != \#* ]] || continue
  SCENARIOS+=("$name")
  NS_OF[$name]=$E2E_NS-$name
  TRUST_CA[$name]=$trust ISSUER[$name]=$issuer SANS[$name]=$sans VALIDITY[$name]=$validity
  EKU[$name]=$eku SERVER_NAME[$name]=$server_name EXPECT[$name]=$expect
done <<<"$SCENARIO_TABLE"

# --- certificates ------------------------------------------------------------

# `openssl ca` issues for any dates (`openssl x509 -req` only from now on).
cat > "$CERTS/ca.cnf" <<CNF
[ca]
default_ca = issuer
[issuer]
database = $CERTS/index.txt
new_certs_dir = $CERTS
serial = $CERTS/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
CNF
dates() { # VALIDITY: openssl ca's date options
  case $1 in
    valid) echo "-days 1" ;;
    expired) echo "-startdate 20200101000000Z -enddate 20200102000000Z" ;;
    future) echo "-startdate 20990101000000Z -enddate 20990102000000Z" ;;
    *) fail "unknown validity $1" ;;
  esac
}
issue() { # NAME SUBJECT ISSUER(self or a CA) EXTENSIONS VALIDITY
  local signer
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" \
    -keyout "$CERTS/$1.key" -out "$CERTS/$1.csr" 2>/dev/null
  printf '%b' "$4" > "$CERTS/$1.ext"
  : > "$CERTS/index.txt"
  openssl rand -hex 8 > "$CERTS/serial"
  if [[ $3 == self ]]; then signer=(-selfsign -keyfile "$CERTS/$1.key")
  else signer=(-cert "$CERTS/$3.crt" -keyfile "$CERTS/$3.key"); fi
  # shellcheck disable=SC2046  # dates: several options
  openssl ca -batch -notext -config "$CERTS/ca.cnf" "${signer[@]}" -in "$CERTS/$1.csr" -out "$CERTS/$1.crt" \
    -extfile "$CERTS/$1.ext" $(dates "$5") >"$CERTS/$1.log" 2>&1 || fail "openssl ca for $1: $(tail -3 "$CERTS/$1.log")"
}
CA_EXT='basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'
issue metrics-ca /CN=metrics-ca self "$CA_EXT" valid
issue other-ca /CN=other-ca self "$CA_EXT" valid
issue old-ca /CN=old-ca self "$CA_EXT" expired
for s in "${SCENARIOS[@]}"; do
  ext= sans=
  [[ ${SANS[$s]} != *dns* ]] || sans+=",DNS:web.${NS_OF[$s]}.svc,DNS:web"
  [[ ${SANS[$s]} != *ip* ]] || sans+=",IP:127.0.0.1"
  [[ -z $sans ]] || ext+="subjectAltName=${sans#,}\n"
  case ${EKU[$s]} in
    server) ext+='extendedKeyUsage=serverAuth\n' ;;
    client) ext+='extendedKeyUsage=clientAuth\n' ;;
    *) fail "$s: unknown key usage ${EKU[$s]}" ;;
  esac
  issue "$s" "/CN=web.${NS_OF[$s]}.svc" "${ISSUER[$s]}" "$ext" "${VALIDITY[$s]}"
done

# --- the scrape targets: openssl s_server -WWW serving ./metrics ------------

serve() { # SCENARIO: sets TLS_PORT[SCENARIO], TLS_PID[SCENARIO]
  local dir=$E2E_WORK/www-$1
  mkdir -p "$dir"
  printf '# TYPE oracle_up gauge\noracle_up 1\n' > "$dir/metrics"
  (cd "$dir" && exec openssl s_server -WWW -accept 127.0.0.1:0 -cert "$CERTS/$1.crt" -key "$CERTS/$1.key" \
    > "$dir/s_server.out" 2>&1 < /dev/null) &
  TLS_PID[$1]=$!
  until_ok 10 grep -q '^ACCEPT' "$dir/s_server.out" || fail "s_server for $1 did not start"
  TLS_PORT[$1]=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$dir/s_server.out")
}
stop_servers() {
  local s
  for s in "${!TLS_PID[@]}"; do kill "${TLS_PID[$s]}" 2>/dev/null || true; done
}
e2e_defer stop_servers

# --- the cluster objects -------------------------------------------------------

delete_namespaces() {
  local s names=()
  for s in "${SCENARIOS[@]}"; do names+=("${NS_OF[$s]}"); done
  k delete namespace "${names[@]}" --ignore-not-found --timeout=60s >/dev/null 2>&1
}
[[ ${E2E_KEEP:-} == 1 ]] || e2e_defer delete_namespaces

# scenario SCENARIO TLS_CONFIG: its namespace, the CA ConfigMap, the Service,
# its EndpointSlice at 127.0.0.1:$TLS_PORT and the ServiceMonitor, as YAML.
scenario() {
  cat <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: ${NS_OF[$1]}, labels: {wirecheck-e2e: $E2E_ID}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: trusted-ca, namespace: ${NS_OF[$1]}}
data:
  ca.crt: |
$(sed 's/^/    /' "$CERTS/${TRUST_CA[$1]}.crt")
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS_OF[$1]}, labels: {app: web}}
spec:
  ports: [{name: https, port: 8443, targetPort: 8443}]
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: web-1, namespace: ${NS_OF[$1]}, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: https, port: ${TLS_PORT[$1]}, protocol: TCP}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web, namespace: ${NS_OF[$1]}}
spec:
  selector: {matchLabels: {app: web}}
  endpoints:
  - port: https
    scheme: https
    tlsConfig: $2
---
YAML
}

# One apply for all: kubectl calls are what a loaded machine makes slow.
for s in "${SCENARIOS[@]}"; do
  serve "$s"
  case ${SERVER_NAME[$s]} in
    -) server_name= ;;
    svc) server_name=", serverName: web.${NS_OF[$s]}.svc" ;;
    other) server_name=", serverName: other.${NS_OF[$s]}.svc" ;;
    *) fail "$s: unknown serverName ${SERVER_NAME[$s]}" ;;
  esac
  scenario "$s" "{ca: {configMap: {name: trusted-ca, key: ca.crt}}$server_name}"
done > "$E2E_WORK/scenarios.yaml"
k apply -f "$E2E_WORK/scenarios.yaml" >/dev/null
echo "# ${#SCENARIOS[@]} scenarios: $(for s in "${SCENARIOS[@]}"; do printf '%s=127.0.0.1:%s ' "$s" "${TLS_PORT[$s]}"; done)"

# --- Prometheus ---------------------------------------------------------------

# The scrape configuration prometheus-operator would generate, from what the
# cluster holds now: per ServiceMonitor endpoint a job
# serviceMonitor/<ns>/<name>/<i> with its scheme and tls_config (ca_file from
# the ConfigMap, server_name, insecure_skip_verify), and as targets the ready
# EndpointSlice addresses of the Service port the endpoint names.
prometheus_config() {
  local objects ns name key
  objects=$(k get servicemonitors.monitoring.coreos.com,endpointslices.v1beta1.discovery.k8s.io,configmaps -A -o json \
    | jq -c --arg prefix "$E2E_NS-" '[.items[] | select(.metadata.namespace | startswith($prefix))]')
  # The CA files, where the operator would mount the ConfigMap keys.
  while read -r ns name key; do
    jq -r --arg ns "$ns" --arg name "$name" --arg key "$key" \
      '.[] | select(.kind == "ConfigMap" and .metadata.namespace == $ns and .metadata.name == $name) | .data[$key]' \
      <<<"$objects" > "$PROM_DIR/ca/configmap_${ns}_${name}_${key}"
  done < <(jq -r '.[] | select(.kind == "ServiceMonitor") | .metadata.namespace as $ns
    | .spec.endpoints[] | .tlsConfig.ca.configMap // empty | "\($ns) \(.name) \(.key)"' <<<"$objects")
  # Targets: the ready addresses of the Service the monitor selects (here
  # always app=web in its own namespace) for the port the endpoint names.
  jq --arg cadir "$PROM_DIR/ca" '
    . as $all
    | {global: {scrape_interval: "1s", scrape_timeout: "1s"},
       scrape_configs: [
         $all[] | select(.kind == "ServiceMonitor") | . as $mon | .metadata.namespace as $ns
         | .spec.endpoints | to_entries[] | .key as $i | .value as $ep | ($ep.tlsConfig // {}) as $tls
         | {
             job_name: "serviceMonitor/\($ns)/\($mon.metadata.name)/\($i)",
             scheme: ($ep.scheme // "http"), metrics_path: ($ep.path // "/metrics"),
             tls_config: ({insecure_skip_verify: ($tls.insecureSkipVerify // false)}
               + (if $tls.ca.configMap then
                    {ca_file: "\($cadir)/configmap_\($ns)_\($tls.ca.configMap.name)_\($tls.ca.configMap.key)"}
                  else {} end)
               + (if $tls.serverName then {server_name: $tls.serverName} else {} end)),
             static_configs: [{targets: [
               $all[] | select(.kind == "EndpointSlice" and .metadata.namespace == $ns
                               and .metadata.labels["kubernetes.io/service-name"] == "web")
               | (.ports[] | select(.name == $ep.port) | .port) as $port
               | .endpoints[] | select(.conditions.ready != false) | .addresses[] | "\(.):\($port)"
             ]}]
           }
       ]}' <<<"$objects" > "$PROM_DIR/prometheus.yml"
  [[ $(jq '.scrape_configs | length' "$PROM_DIR/prometheus.yml") -eq ${#SCENARIOS[@]} ]] \
    || fail "the Prometheus configuration has not one job per scenario: $(cat "$PROM_DIR/prometheus.yml")"
}

PROM_PID=
PROM_WATCHDOG=
stop_prometheus() {
  [[ -n $PROM_PID ]] || return 0
  kill -TERM "$PROM_PID" 2>/dev/null || true
  until_ok 15 prometheus_exited || kill -KILL "$PROM_PID" 2>/dev/null || true
  wait "$PROM_PID" 2>/dev/null || true
  kill "$PROM_WATCHDOG" 2>/dev/null || true
  wait "$PROM_WATCHDOG" 2>/dev/null || true
  PROM_PID=
}
prometheus_exited() { ! kill -0 "$PROM_PID" 2>/dev/null; }
e2e_defer stop_prometheus

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_prometheus() {
  PROM_PORT=$(free_port)
  "$PROMETHEUS" --config.file="$PROM_DIR/prometheus.yml" --web.listen-address="127.0.0.1:$PROM_PORT" \
    --storage.tsdb.path="$PROM_DIR/data" --web.enable-lifecycle --log.level=info \
    </dev/null >"$PROM_DIR/prometheus.log" 2>&1 &
  PROM_PID=$!
  # Gone with this script (ctest's timeout kills it outright), and bounded.
  ( deadline=$((SECONDS + PROM_LIFETIME))
    while kill -0 "$$" 2>/dev/null && ((SECONDS < deadline)); do sleep 1; done
    kill -TERM "$PROM_PID" 2>/dev/null ) </dev/null >/dev/null 2>&1 &
  PROM_WATCHDOG=$!
  until_ok 30 prometheus_ready || {
    tail -n 20 "$PROM_DIR/prometheus.log" >&2
    fail "prometheus did not become ready on 127.0.0.1:$PROM_PORT within 30s"
  }
  echo "# $("$PROMETHEUS" --version 2>&1 | head -1) on 127.0.0.1:$PROM_PORT (pid $PROM_PID)"
}
prometheus_ready() {
  kill -0 "$PROM_PID" 2>/dev/null || { tail -n 20 "$PROM_DIR/prometheus.log" >&2; fail "prometheus exited"; }
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PROM_PORT/-/ready") == 200 ]]
}

# The active targets as {job: {health, lastError}}.
prometheus_targets() {
  curl -s "http://127.0.0.1:$PROM_PORT/api/v1/targets?state=active" \
    | jq -c '[.data.activeTargets[] | {key: .labels.job, value: {health, lastError}}] | from_entries'
}
# Settled: every job of the configuration has a target that has been scraped,
# and two readings a few scrapes apart agree on every target's health.
TARGETS=
targets_settled() {
  local a b want
  want=$(jq '.scrape_configs | length' "$PROM_DIR/prometheus.yml")
  a=$(prometheus_targets)
  [[ $(jq --argjson want "$want" '[.[] | select(.health != "unknown")] | length == $want' <<<"$a") == true ]] \
    || return 1
  sleep 2.5
  b=$(prometheus_targets)
  [[ $(jq -n --argjson a "$a" --argjson b "$b" '[$a[] | .health] == [$b[] | .health]') == true ]] || return 1
  TARGETS=$b
}

prometheus_config
start_prometheus

# --- wirecheck's verdict, while Prometheus discovers and scrapes ----------------

"$WIRECHECK" audit --kubeconfig "$KUBECONFIG" --probe --probe-timeout 2s --format json \
  > "$E2E_WORK/audit.json" 2> "$E2E_WORK/audit.err" || [[ $? -le 1 ]] \
  || fail "audit --probe failed: $(tail -3 "$E2E_WORK/audit.err")"
grep "scrape target" "$E2E_WORK/audit.err" | grep "$E2E_NS-" | sed 's/^/# /' || true

until_ok 60 targets_settled \
  || fail "Prometheus's targets did not settle within 60s: $(prometheus_targets)"

# The failure class of a Go x509 error, in net/certificate.hpp's names.
go_class() {
  case $1 in
    *"doesn't contain any IP SANs"*) echo ip-sans ;;
    *"certificate is valid for "* | *"certificate is not valid for any names"* | *"legacy Common Name field"*)
      echo name-not-covered ;;
    *"certificate has expired or is not yet valid"*) echo expired ;;
    *"signed by unknown authority"*) echo unknown-authority ;;
    *"incompatible key usage"* | *"not authorized to sign"*) echo chain-invalid ;;
    "") echo "" ;;
    *) echo other ;;
  esac
}
# Go's error without the current time, which differs between the two runs.
timeless() { sed -E 's/current time [^ ]+ is/current time ... is/'; }
# The failure classes the probe logged for an address, in the order Go checks
# them (its first is the error Prometheus shows); "" when it passed.
probe_classes() { # ADDRESS
  grep -F "scrape target $1 " "$E2E_WORK/audit.err" | sed -nE 's/.* verified as [^ ;]+ ?([a-z,-]*);.*/\1/p' | head -1
}

TABLE=$E2E_WORK/table.txt
: > "$TABLE"
for s in "${SCENARIOS[@]}"; do
  ns=${NS_OF[$s]}
  job="serviceMonitor/$ns/web/0"
  health=$(jq -r --arg j "$job" '.[$j].health // "missing"' <<<"$TARGETS")
  last_error=$(jq -r --arg j "$job" '.[$j].lastError // ""' <<<"$TARGETS")
  x509=$(sed -E 's/^Get "[^"]*": //' <<<"$last_error")
  prom_class=$(go_class "$x509")
  findings=$(jq -c --arg ns "$ns" '[.findings[] | select((.rule | startswith("scrape-tls-"))
    and .object.namespace == $ns and .object.kind == "ServiceMonitor" and .object.name == "web")]' \
    "$E2E_WORK/audit.json")
  wc_rules=$(jq -r '[.[] | .rule] | join(",")' <<<"$findings")
  classes=$(probe_classes "127.0.0.1:${TLS_PORT[$s]}")
  {
    printf '%-12s prometheus: %-4s %s\n' "$s" "$health" "${last_error:-(no error)}"
    if [[ -z $wc_rules ]]; then printf '%-12s wirecheck:  no finding\n' ""; fi
    jq -r --arg pad "" '.[] | "             wirecheck:  \(.rule): \(.message)"' <<<"$findings"
  } >> "$TABLE"

  [[ $health == up || $health == down ]] || fail "$s: Prometheus's target is $health: $TARGETS"
  [[ ${prom_class:-up} == "${EXPECT[$s]}" ]] \
    || fail "$s: Prometheus is $health with '$last_error', the scenario expects ${EXPECT[$s]}"
  if [[ $health == up ]]; then
    [[ -z $wc_rules ]] || fail "$s: Prometheus scrapes it, wirecheck reports $wc_rules: $findings"
    pass "$s: Prometheus's target is up and wirecheck reports no scrape-tls finding"
    continue
  fi
  [[ -n $wc_rules ]] || fail "$s: Prometheus is down with '$last_error', wirecheck reports nothing"
  [[ ${classes%%,*} == "$prom_class" ]] \
    || fail "$s: Prometheus fails with $prom_class ('$x509'), wirecheck's probe first with '$classes'"
  jq -e --arg c "[$prom_class]" --arg x "$(timeless <<<"$x509")" \
    'any(.[]; .message | contains($c) and (gsub("current time [^ ]+ is"; "current time ... is") | contains($x)))' \
    <<<"$findings" >/dev/null \
    || fail "$s: no wirecheck finding carries [$prom_class] and Prometheus's error '$x509': $findings"
  pass "$s: Prometheus's target is down with \"$x509\"; wirecheck: $wc_rules ($classes), the same error first"
done
sed 's/^/# /' "$TABLE"

# --- the static rule and its fix, on the seed case -----------------------------

ns=${NS_OF[ip-sans]}
k -n "$ns" get service/web servicemonitor/web -o yaml > "$E2E_WORK/seed.yaml"
"$WIRECHECK" lint -f "$E2E_WORK/seed.yaml" --format json --fail-on never > "$E2E_WORK/lint.json" \
  || fail "lint failed on the seed ServiceMonitor"
f=$(jq -c '[.findings[] | select(.rule == "servicemonitor-tls-servername")]' "$E2E_WORK/lint.json")
[[ $(jq length <<<"$f") -eq 1 && $(jq -r '.[0].severity' <<<"$f") == deny ]] \
  || fail "lint of the seed ServiceMonitor: no servicemonitor-tls-servername deny: $(cat "$E2E_WORK/lint.json")"
fix=$(jq -r '.[0].fix' <<<"$f")
server_name=$(sed -nE 's/.*serverName: ([^ ;,)]+).*/\1/p' <<<"$fix")
[[ $server_name == "web.$ns.svc" ]] || fail "lint's fix does not propose serverName web.$ns.svc: $fix"
echo "# lint: $(jq -r '.[0].message' <<<"$f")"
echo "# fix:  $fix"
pass "lint of the seed ServiceMonitor: servicemonitor-tls-servername (deny), fix serverName: $server_name"

k -n "$ns" patch servicemonitor web --type json \
  -p "[{\"op\": \"add\", \"path\": \"/spec/endpoints/0/tlsConfig/serverName\", \"value\": \"$server_name\"}]" >/dev/null
prometheus_config
curl -sf -X POST "http://127.0.0.1:$PROM_PORT/-/reload" >/dev/null || fail "prometheus did not reload its configuration"
seed_up() {
  [[ $(prometheus_targets | jq -r --arg j "serviceMonitor/$ns/web/0" '.[$j].health') == up ]]
}
until_ok 30 seed_up || fail "with the fix applied Prometheus's target is not up: $(prometheus_targets)"
pass "the fix applied (serverName: $server_name): Prometheus's target is up"

"$WIRECHECK" lint -f <(k -n "$ns" get service/web servicemonitor/web -o yaml) --format json --fail-on never \
  > "$E2E_WORK/lint-fixed.json" || fail "lint failed on the fixed ServiceMonitor"
[[ $(jq '[.findings[] | select(.rule == "servicemonitor-tls-servername")] | length' "$E2E_WORK/lint-fixed.json") -eq 0 ]] \
  || fail "lint still denies the fixed ServiceMonitor"
"$WIRECHECK" audit --kubeconfig "$KUBECONFIG" --namespace "$ns" --probe --probe-timeout 2s --format json \
  > "$E2E_WORK/audit-fixed.json" 2> "$E2E_WORK/audit-fixed.err" || [[ $? -le 1 ]] \
  || fail "audit --probe failed: $(tail -3 "$E2E_WORK/audit-fixed.err")"
[[ $(jq '[.findings[] | select(.rule | startswith("scrape-tls-"))] | length' "$E2E_WORK/audit-fixed.json") -eq 0 ]] \
  || fail "the probe still reports the fixed ServiceMonitor: $(jq -c .findings "$E2E_WORK/audit-fixed.json")"
pass "the fixed ServiceMonitor: no lint deny and no scrape-tls finding, as Prometheus scrapes it"
