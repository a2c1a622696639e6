#!/usr/bin/env bash
# `wirecheck audit` against the real apiserver: the objects of a broken
# operator release (metrics Service targeting a port name the Deployment
# does not declare, a ServiceMonitor scraping https with no serverName, a
# webhook without caBundle, a webhook calling a missing Service) are
# reported with the same findings as `wirecheck lint` over the same files,
# except missing counterparts are deny; --format policyreport is accepted by
# the apiserver; --probe reports a URL webhook whose caBundle does not match
# the server it calls as untrusted, and a matching one as fine.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init audit

NS=$E2E_NS
ID=$E2E_ID
FILES=$E2E_WORK/release
mkdir -p "$FILES"

# The webhooks match a resource nothing creates, and only this namespace:
# a failurePolicy Fail webhook without a server must not break other tests.
webhook_config() { # NAME CLIENT_CONFIG_JSON
  jq -n --arg name "$1" --arg id "$ID" --argjson cc "$2" '{
    apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration",
    metadata: {name: $name, labels: {"wirecheck-e2e": $id}},
    webhooks: [{name: "check.e2e.wirecheck.dev", clientConfig: $cc, failurePolicy: "Fail",
      sideEffects: "None", admissionReviewVersions: ["v1"],
      namespaceSelector: {matchLabels: {"wirecheck-e2e": $id}},
      rules: [{apiGroups: ["e2e.wirecheck.dev"], apiVersions: ["v1"], resources: ["widgets"],
               operations: ["CREATE"]}]}]}'
}

cat > "$FILES/operator.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: op-controller-manager, namespace: $NS, labels: {control-plane: controller-manager}}
spec:
  selector: {matchLabels: {control-plane: controller-manager}}
  template:
    metadata: {labels: {control-plane: controller-manager}}
    spec:
      containers:
      - name: manager
        image: example.invalid/operator:v1
        args: [--leader-elect, --metrics-bind-address=:8443]
        ports: [{name: webhook-server, containerPort: 9443}]
---
apiVersion: v1
kind: Service
metadata: {name: op-metrics-service, namespace: $NS, labels: {control-plane: controller-manager}}
spec:
  selector: {control-plane: controller-manager}
  ports: [{name: https, port: 8443, targetPort: https}]
---
apiVersion: v1
kind: Service
metadata: {name: op-webhook-service, namespace: $NS}
spec:
  selector: {control-plane: controller-manager}
  ports: [{port: 443, targetPort: 9443}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: op-metrics-monitor, namespace: $NS}
spec:
  selector: {matchLabels: {control-plane: controller-manager}}
  endpoints:
  - path: /metrics
    port: https
    scheme: https
    bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
    tlsConfig:
      insecureSkipVerify: false
      ca: {secret: {name: metrics-server-cert, key: ca.crt}}
YAML
webhook_config "$ID-no-ca-bundle" \
  "{\"service\": {\"name\": \"op-webhook-service\", \"namespace\": \"$NS\", \"path\": \"/validate\"}}" \
  > "$FILES/webhook-no-ca.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=e2e-other-ca \
  -keyout "$E2E_WORK/other-ca.key" -out "$E2E_WORK/other-ca.crt" 2>/dev/null
OTHER_CA=$(base64 -w0 < "$E2E_WORK/other-ca.crt")
webhook_config "$ID-missing-service" \
  "{\"service\": {\"name\": \"op-gone\", \"namespace\": \"$NS\"}, \"caBundle\": \"$OTHER_CA\"}" \
  > "$FILES/webhook-missing-service.json"

k apply -f "$FILES" >/dev/null
pass "a broken release is stored by the apiserver"

# Only this test's objects: its namespace, and its cluster-scoped objects.
# Secrets the monitor reads are not in the files (lint: info) and the audit
# lists none without --secret-names: that rule is left out of the comparison.
mine='[.findings[] | select(.object.namespace == $ns or (.object.name | startswith($id)))
       | select(.rule != "monitor-tls-reference-missing")
       | {rule, severity, kind: .object.kind, namespace: .object.namespace, name: .object.name}] | sort'
rc=0
"$WIRECHECK" lint -f "$FILES" --format json > "$E2E_WORK/lint.json" || rc=$?
[[ $rc -eq 1 ]] || fail "lint exited $rc, expected 1 (findings)"
rc=0
"$WIRECHECK" audit --kubeconfig "$KUBECONFIG" --format json > "$E2E_WORK/audit.json" 2> "$E2E_WORK/audit.err" || rc=$?
[[ $rc -eq 1 ]] || { cat "$E2E_WORK/audit.err" >&2; fail "audit exited $rc, expected 1 (deny findings)"; }
jq --arg ns "$NS" --arg id "$ID" "$mine" "$E2E_WORK/lint.json" > "$E2E_WORK/lint.mine"
jq --arg ns "$NS" --arg id "$ID" "$mine" "$E2E_WORK/audit.json" > "$E2E_WORK/audit.mine"
echo "# lint:  $(jq -c '[.[] | "\(.rule)=\(.severity)"]' "$E2E_WORK/lint.mine")"
echo "# audit: $(jq -c '[.[] | "\(.rule)=\(.severity)"]' "$E2E_WORK/audit.mine")"

for rule in service-target-port-missing servicemonitor-tls-servername webhook-missing-ca-bundle webhook-service-missing; do
  jq -e --arg r "$rule" 'any(.[]; .rule == $r)' "$E2E_WORK/audit.mine" >/dev/null \
    || fail "audit does not report $rule"
done
pass "audit reports the metrics Service, the ServiceMonitor, the webhook without caBundle and the one calling a missing Service"

# Same findings (rule and object); severity the same, or warn in lint and deny
# in the audit (a counterpart missing from the whole cluster, not just the files).
jq -e -n --slurpfile l "$E2E_WORK/lint.mine" --slurpfile a "$E2E_WORK/audit.mine" '
  def key: "\(.rule) \(.kind) \(.namespace)/\(.name)";
  ($l[0] | map(key) | sort) == ($a[0] | map(key) | sort)
  and all($l[0][]; . as $x | ($a[0][] | select(key == ($x | key)) | .severity) as $s
          | $s == $x.severity or ($x.severity == "warn" and $s == "deny"))' >/dev/null \
  || { diff <(jq . "$E2E_WORK/lint.mine") <(jq . "$E2E_WORK/audit.mine") >&2; fail "audit and lint disagree"; }
jq -e -n --slurpfile l "$E2E_WORK/lint.mine" --slurpfile a "$E2E_WORK/audit.mine" '
  [$a[0][] | select(.rule == "webhook-service-missing")][0].severity == "deny"
  and [$l[0][] | select(.rule == "webhook-service-missing")][0].severity == "warn"' >/dev/null \
  || fail "webhook-service-missing should be warn in lint and deny in the audit"
pass "audit and lint agree on every finding; missing counterparts are deny only in the audit"

jq -e 'all(.findings[]; .file == "" and .line == 0)' "$E2E_WORK/audit.json" >/dev/null \
  || fail "audit findings should carry no file:line"
"$WIRECHECK" audit --kubeconfig "$KUBECONFIG" --namespace "$NS" --no-color > "$E2E_WORK/audit.txt" 2>/dev/null || true
grep -q "^Service $NS/op-metrics-service$" "$E2E_WORK/audit.txt" \
  || { cat "$E2E_WORK/audit.txt" >&2; fail "text output should name objects by kind and namespace/name"; }
pass "findings carry the object's cluster identity (text: 'Service $NS/op-metrics-service')"

# --format policyreport: one PolicyReport per namespace and a ClusterPolicyReport.
rc=0
"$WIRECHECK" audit --kubeconfig "$KUBECONFIG" --format policyreport > "$E2E_WORK/reports.yaml" 2>/dev/null || rc=$?
[[ $rc -eq 1 ]] || fail "audit --format policyreport exited $rc"
awk -v dir="$E2E_WORK" '/^---$/ { n++; next } { print > (dir "/report-" n ".yaml") }' "$E2E_WORK/reports.yaml"
ns_report=$(grep -l "namespace: \"$NS\"" "$E2E_WORK"/report-*.yaml | head -1)
cluster_report=$(grep -l '^kind: "ClusterPolicyReport"' "$E2E_WORK"/report-*.yaml | head -1)
[[ -n $ns_report && -n $cluster_report ]] || fail "no PolicyReport for $NS or no ClusterPolicyReport"
k apply -f "$ns_report" >/dev/null || fail "the apiserver rejected the PolicyReport"
k create --dry-run=server -f "$cluster_report" -o name >/dev/null || fail "the apiserver rejected the ClusterPolicyReport"
fails=$(k -n "$NS" get policyreport wirecheck -o jsonpath='{.summary.fail}')
[[ $fails -ge 2 ]] || fail "PolicyReport summary.fail is '$fails'"
k -n "$NS" get policyreport wirecheck -o json \
  | jq -e '.results | any(.rule == "service-target-port-missing" and .result == "fail" and .severity == "high"
                          and .resources[0].name == "op-metrics-service" and (.properties.fix | length > 0))' >/dev/null \
  || fail "PolicyReport lacks the service-target-port-missing result"
pass "--format policyreport is accepted by the apiserver (PolicyReport stored with $fails fail results, ClusterPolicyReport validated)"

# --probe: a URL webhook whose caBundle matches the server it calls, and one
# whose caBundle is another CA. wirecheck serve is a TLS server on loopback.
wc_start
webhook_config "$ID-url-match" \
  "{\"url\": \"https://127.0.0.1:$WC_PORT/validate\", \"caBundle\": \"$(base64 -w0 < "$WC_CA")\"}" | k apply -f - >/dev/null
webhook_config "$ID-url-other-ca" \
  "{\"url\": \"https://127.0.0.1:$WC_PORT/validate\", \"caBundle\": \"$OTHER_CA\"}" | k apply -f - >/dev/null
rc=0
"$WIRECHECK" audit --kubeconfig "$KUBECONFIG" --probe --format json > "$E2E_WORK/probe.json" 2> "$E2E_WORK/probe.err" || rc=$?
cat "$E2E_WORK/probe.err" | grep -v "not probed:" | sed 's/^/# /'
[[ $rc -eq 1 ]] || fail "audit --probe exited $rc"
untrusted() { jq -c --arg n "$1" '[.findings[] | select(.rule == "webhook-tls-untrusted" and .object.name == $n)]' "$E2E_WORK/probe.json"; }
[[ $(untrusted "$ID-url-match") == "[]" ]] || fail "the matching URL webhook is reported: $(untrusted "$ID-url-match")"
bad=$(untrusted "$ID-url-other-ca")
jq -e 'length == 1 and .[0].severity == "deny"
       and (.[0].message | contains("TLS verification for 127.0.0.1 against caBundle fails"))
       and (.[0].message | contains("issuer CN=")) and (.[0].message | contains("SANs"))' <<<"$bad" >/dev/null \
  || fail "the URL webhook with another CA is not reported untrusted: $bad"
echo "# $(jq -r '.[0].message' <<<"$bad")"
pass "--probe: the URL webhook whose caBundle does not match its server is untrusted (deny), the matching one is not"
jq -e --arg n "$ID-no-ca-bundle" 'any(.findings[]; .rule == "webhook-endpoint-unreachable" and .object.name == $n
       and (.message | contains("has no ready endpoints")))' "$E2E_WORK/probe.json" >/dev/null \
  || fail "the webhook whose Service has no endpoints is not reported unreachable"
grep -q "probed .* client configs in .* ms" "$E2E_WORK/probe.err" || fail "audit --probe prints no total time"
pass "--probe: a Service without ready endpoints is unreachable; the total probe time is printed"
