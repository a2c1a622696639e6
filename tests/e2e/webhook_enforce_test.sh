#!/usr/bin/env bash
# Through kubectl and a real kube-apiserver: wirecheck serve registered as a
# ValidatingWebhookConfiguration (failurePolicy Fail, URL on 127.0.0.1)
# admits a working app (Deployment, Service, Certificate, ServiceMonitor),
# denies in enforce a ServiceMonitor scraping https with no serverName (rule
# id and fix in kubectl's error, nothing stored), and in warn mode admits the
# same object with a `Warning:` line.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init webhook-enforce

wc_start --mode enforce
wc_register --failure-policy Fail
pass "apiserver calls wirecheck at https://127.0.0.1:$WC_PORT/validate (failurePolicy Fail)"

# monitor NAME [SERVERNAME]: a ServiceMonitor scraping the web Service over
# https, verifying with the Certificate's CA.
monitor() {
  cat <<YAML
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: $1}
spec:
  selector: {matchLabels: {app: web}}
  endpoints:
  - port: https
    scheme: https
    tlsConfig:
      ca: {secret: {name: web-tls, key: ca.crt}}${2:+
      serverName: $2}
YAML
}

expect_apply allow '' <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1.0
        ports: [{name: https, containerPort: 8443}]
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{name: https, port: 443, targetPort: https}]
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web}
spec:
  secretName: web-tls
  dnsNames: [web, web.$E2E_NS.svc]
  issuerRef: {name: selfsigned, kind: Issuer}
---
$(monitor web "web.$E2E_NS.svc")
YAML
k -n "$E2E_NS" get deployment/web service/web certificate/web servicemonitor/web >/dev/null
for kind in Deployment Service Certificate ServiceMonitor; do
  [[ $(wc_decision web "$kind" | jq -r .decision) == allowed ]] || fail "wirecheck did not allow $kind web"
done
pass "a working Deployment, Service, Certificate and ServiceMonitor are admitted with no warning"

expect_apply deny 'servicemonitor-tls-servername' < <(monitor web-no-servername)
grep -q 'serverName' <<<"$E2E_STDERR" || fail "the denial does not say what to set: $E2E_STDERR"
pass "enforce: a ServiceMonitor with scheme https and no serverName is denied: $(grep -o 'servicemonitor-tls-servername[^;]*' <<<"$E2E_STDERR" | head -1)"

if k -n "$E2E_NS" get servicemonitor web-no-servername >/dev/null 2>&1; then
  fail "the denied ServiceMonitor was stored"
fi
pass "the denied ServiceMonitor was not stored"

decision=$(wc_decision web-no-servername ServiceMonitor)
[[ $(jq -r '.decision + " " + (.rules | join(","))' <<<"$decision") == "denied servicemonitor-tls-servername" ]] \
  || fail "unexpected decision log line: $decision"
pass "wirecheck logged the decision: denied, servicemonitor-tls-servername"

# Warn mode, the same object: admitted, and kubectl prints the finding.
wc_register --failure-policy Fail --path /validate/warn
expect_apply warn 'servicemonitor-tls-servername' < <(monitor web-warned)
k -n "$E2E_NS" get servicemonitor web-warned >/dev/null
pass "warn: the same ServiceMonitor is admitted with $(grep -m1 '^Warning:' <<<"$E2E_STDERR" | cut -c1-60)..."
