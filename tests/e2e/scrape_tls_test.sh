#!/usr/bin/env bash
# `wirecheck audit --probe` checks a ServiceMonitor's https scrape target as
# Prometheus would, against the real apiserver: a Service without selector
# whose EndpointSlice (discovery.k8s.io/v1beta1 on v1.20, which accepts a
# loopback address where Endpoints do not) points at 127.0.0.1:PORT, where
# the test serves a certificate. With DNS SANs only and no serverName,
# Prometheus verifies the IP: scrape-tls-name-mismatch with Go's "doesn't
# contain any IP SANs" and the serverName fix; the same certificate with
# that serverName, or a certificate with the IP SAN, gives none; a
# certificate from another CA than the monitor's ConfigMap is
# scrape-tls-untrusted. The probe's timings are printed; the server's
# background audit (--audit-probe) reports the mismatch too.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init scrape-tls

NS=$E2E_NS
CERTS=$E2E_WORK/certs
mkdir -p "$CERTS"

# A CA, another CA, and leaves: DNS SANs only, DNS + IP SAN, another CA's.
ca() { # NAME
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$1" \
    -keyout "$CERTS/$1.key" -out "$CERTS/$1.crt" 2>/dev/null
}
leaf() { # NAME CA SANS
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=web" \
    -keyout "$CERTS/$1.key" -out "$CERTS/$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$3" > "$CERTS/$1.ext"
  openssl x509 -req -in "$CERTS/$1.csr" -CA "$CERTS/$2.crt" -CAkey "$CERTS/$2.key" -CAcreateserial \
    -days 1 -extfile "$CERTS/$1.ext" -out "$CERTS/$1.crt" 2>/dev/null
}
ca metrics-ca
ca other-ca
leaf dns-only metrics-ca "DNS:web.$NS.svc,DNS:web"
leaf with-ip metrics-ca "DNS:web.$NS.svc,IP:127.0.0.1"
leaf foreign other-ca "DNS:web.$NS.svc,IP:127.0.0.1"

# serve CERT: openssl s_server on a free loopback port; sets TLS_PORT, TLS_PID.
TLS_PID=
serve() {
  [[ -z $TLS_PID ]] || { kill "$TLS_PID" 2>/dev/null || true; wait "$TLS_PID" 2>/dev/null || true; }
  : > "$E2E_WORK/s_server.out"
  openssl s_server -www -accept 127.0.0.1:0 -cert "$CERTS/$1.crt" -key "$CERTS/$1.key" \
    > "$E2E_WORK/s_server.out" 2>&1 < /dev/null &
  TLS_PID=$!
  until_ok 10 grep -q '^ACCEPT' "$E2E_WORK/s_server.out" || fail "s_server did not start"
  TLS_PORT=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$E2E_WORK/s_server.out")
}
stop_server() { [[ -z $TLS_PID ]] || kill "$TLS_PID" 2>/dev/null || true; }
e2e_defer stop_server

# monitor TLS_CONFIG_JSON: the Service, its EndpointSlice at 127.0.0.1:$TLS_PORT,
# the CA ConfigMap and the ServiceMonitor.
monitor() {
  k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: metrics-ca}
data:
  ca.crt: |
$(sed 's/^/    /' "$CERTS/metrics-ca.crt")
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  ports: [{name: https, port: 8443, targetPort: 8443}]
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: https, port: $TLS_PORT, protocol: TCP}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  endpoints:
  - port: https
    scheme: https
    tlsConfig: $1
YAML
}

# audit NAME: wirecheck audit --probe; the JSON in $E2E_WORK/NAME.json.
audit() {
  local rc=0
  "$WIRECHECK" audit --kubeconfig "$KUBECONFIG" --probe --probe-timeout 2s --format json \
    > "$E2E_WORK/$1.json" 2> "$E2E_WORK/$1.err" || rc=$?
  grep "scrape target" "$E2E_WORK/$1.err" | grep "$NS/" | sed 's/^/# /' || true
  grep "probed .* scrape targets" "$E2E_WORK/$1.err" | sed 's/^/# /'
  [[ $rc -le 1 ]] || fail "audit --probe exited $rc: $(tail -3 "$E2E_WORK/$1.err")"
}
finding() { # AUDIT RULE
  jq -c --arg ns "$NS" --arg rule "$2" \
    '[.findings[] | select(.rule == $rule and .object.namespace == $ns and .object.name == "web")]' \
    "$E2E_WORK/$1.json"
}

CA_REF="{ca: {configMap: {name: metrics-ca, key: ca.crt}}"

serve dns-only
monitor "$CA_REF}"
audit dns-only
f=$(finding dns-only scrape-tls-name-mismatch)
[[ $(jq length <<<"$f") -eq 1 ]] || fail "no scrape-tls-name-mismatch for the IP target: $f"
jq -e '.[0].severity == "deny"
       and (.[0].message | contains("x509: cannot validate certificate for 127.0.0.1 because it doesn'"'"'t contain any IP SANs"))
       and (.[0].message | contains("SANs served: DNS:web.'"$NS"'.svc, DNS:web"))' <<<"$f" >/dev/null \
  || fail "name mismatch message: $f"
jq -e --arg fix "serverName: web.$NS.svc" '.[0].fix | contains($fix)' <<<"$f" >/dev/null \
  || fail "name mismatch fix: $(jq -r '.[0].fix' <<<"$f")"
[[ $(finding dns-only scrape-tls-untrusted | jq length) -eq 0 ]] || fail "the right CA reported untrusted"
grep -Eq "probed [0-9]+ scrape targets in [0-9]+ ms \(slowest [0-9]+ ms" "$E2E_WORK/dns-only.err" \
  || fail "no probe timings printed"
grep -q "EndpointSlice\|scrape target 127.0.0.1:$TLS_PORT" "$E2E_WORK/dns-only.err" || fail "the target was not probed"
pass "DNS SANs only, probed by IP: scrape-tls-name-mismatch (deny) with Go's IP SAN error and serverName web.$NS.svc"

# The server's background audit with --audit-probe finds the same.
wc_start --cluster --kubeconfig "$KUBECONFIG" --audit-interval 1s --audit-probe
background_has() {
  curl -s "http://127.0.0.1:$WC_OPS_PORT/audit" | jq -e --arg ns "$NS" \
    '(.findings | any(.rule == "scrape-tls-name-mismatch" and .object.namespace == $ns))
     and .probe.scrapeTargets >= 1' >/dev/null
}
until_ok 60 background_has \
  || fail "/audit has no scrape-tls-name-mismatch: $(curl -s "http://127.0.0.1:$WC_OPS_PORT/audit" | head -c 600)"
wc_stop
pass "serve --audit-probe: the background audit reports the same mismatch at /audit"

monitor "$CA_REF, serverName: web.$NS.svc}"
audit servername
[[ $(finding servername scrape-tls-name-mismatch | jq length) -eq 0 ]] || fail "serverName set, still a mismatch"
[[ $(finding servername scrape-tls-untrusted | jq length) -eq 0 ]] || fail "serverName set: untrusted"
pass "the same certificate with the suggested serverName: no finding"

serve with-ip
monitor "$CA_REF}"
audit with-ip
[[ $(finding with-ip scrape-tls-name-mismatch | jq length) -eq 0 ]] || fail "IP SAN served, still a mismatch"
[[ $(finding with-ip scrape-tls-untrusted | jq length) -eq 0 ]] || fail "IP SAN served: untrusted"
pass "a certificate with the IP SAN, no serverName: no finding"

serve foreign
monitor "$CA_REF}"
audit foreign
f=$(finding foreign scrape-tls-untrusted)
[[ $(jq length <<<"$f") -eq 1 ]] || fail "no scrape-tls-untrusted for another CA's certificate: $f"
jq -e '(.[0].message | contains("x509: certificate signed by unknown authority"))
       and (.[0].message | contains("issuer CN=other-ca"))
       and (.[0].message | contains("ConfigMap '"$NS"'/metrics-ca key ca.crt"))' <<<"$f" >/dev/null \
  || fail "untrusted message: $f"
pass "another CA's certificate: scrape-tls-untrusted against the monitor's ConfigMap CA"
