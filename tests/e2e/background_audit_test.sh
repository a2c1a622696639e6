#!/usr/bin/env bash
# serve --cluster --audit-interval: the background audit finds what is
# already broken in the cache, exposes it at /audit and as
# wirecheck_audit_violations, holds the Lease and writes a PolicyReport for
# the namespace; once the broken object is fixed, the next run clears it.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init background-audit
NS=$E2E_NS
LEASE_NS=$NS

k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: manager, namespace: $NS}
spec:
  selector: {matchLabels: {app: manager}}
  template:
    metadata: {labels: {app: manager}}
    spec:
      containers:
      - {name: manager, image: example.invalid/manager:v1, ports: [{name: webhook-server, containerPort: 9443}]}
---
apiVersion: v1
kind: Service
metadata: {name: metrics, namespace: $NS}
spec:
  selector: {app: manager}
  ports: [{name: https, port: 8443, targetPort: https}]
YAML
# The ClusterPolicyReport is shared by every audit of the cluster: remove it
# at the end so later tests start clean.
e2e_defer k delete clusterpolicyreport wirecheck --ignore-not-found

wc_start --cluster --kubeconfig "$KUBECONFIG" --audit-interval 1s --policy-reports \
  --audit-lease-namespace "$LEASE_NS"

audit_has() { curl -s "http://127.0.0.1:$WC_OPS_PORT/audit" | jq -e --arg ns "$NS" --arg r "$1" \
  'any(.findings // [] | .[]; .rule == $r and .object.namespace == $ns and .severity == "deny")' >/dev/null; }
until_ok 30 audit_has service-target-port-missing || fail "/audit does not report the metrics Service: $(curl -s "http://127.0.0.1:$WC_OPS_PORT/audit" | head -c 600)"
pass "/audit reports the Service whose targetPort no container declares (deny)"

violations=$(curl -s "http://127.0.0.1:$WC_OPS_PORT/metrics" \
  | grep "^wirecheck_audit_violations{rule=\"service-target-port-missing\",severity=\"deny\",namespace=\"$NS\"}" \
  | awk '{print $2}')
[[ $violations == 1 ]] || fail "wirecheck_audit_violations for $NS is '$violations'"
[[ $(wc_metric wirecheck_audit_runs_total) -ge 1 ]] || fail "no audit run counted"
[[ $(wc_metric wirecheck_audit_last_run_timestamp_seconds) -gt 0 ]] || fail "no last run time"
pass "wirecheck_audit_violations{rule,severity,namespace} = 1, runs and last run time exported"

holder=$(k -n "$LEASE_NS" get lease wirecheck-audit -o jsonpath='{.spec.holderIdentity}')
[[ -n $holder ]] || fail "no Lease holder"
[[ $(wc_metric wirecheck_audit_leader) == 1 ]] || fail "the only replica is not the leader"
report_fails() { k -n "$NS" get policyreport wirecheck -o jsonpath='{.summary.fail}' 2>/dev/null; }
# until_ok re-runs a command: these re-read the state each time.
report_failing() { [[ $(report_fails) -ge 1 ]]; }
report_clean() { [[ $(report_fails) == 0 ]]; }
audited() { [[ $(wc_metric wirecheck_audit_runs_total) -ge 1 ]]; }
until_ok 30 report_failing || fail "no PolicyReport with failures in $NS"
k -n "$NS" get policyreport wirecheck -o json | jq -e '.results | any(.rule == "service-target-port-missing"
  and .resources[0].name == "metrics" and .result == "fail")' >/dev/null || fail "PolicyReport lacks the finding"
pass "the Lease holder ($holder) wrote a PolicyReport for $NS with the failure"

# A second replica sees the Lease held and does not write.
WC_PID_1=$WC_PID WC_OPS_1=$WC_OPS_PORT WC_LOG_1=$WC_LOG WC_PORT_1=$WC_PORT
WC_PID=
E2E_WORK_1=$E2E_WORK
E2E_WORK=$E2E_WORK/second && mkdir -p "$E2E_WORK"
wc_start --cluster --kubeconfig "$KUBECONFIG" --audit-interval 1s --policy-reports \
  --audit-lease-namespace "$LEASE_NS"
until_ok 30 audited || fail "the second replica does not audit"
[[ $(wc_metric wirecheck_audit_leader) == 0 ]] || fail "two replicas hold the Lease"
[[ $(wc_metric 'wirecheck_audit_policy_report_writes_total') == 0 ]] || fail "the second replica wrote reports"
[[ $(curl -s "http://127.0.0.1:$WC_OPS_PORT/metrics" | grep -c "namespace=\"$NS\"") -ge 1 ]] \
  || fail "the second replica does not serve its own audit's metrics"
pass "a second replica audits and serves its own metrics but does not write reports (Lease held)"
wc_stop
WC_PID=$WC_PID_1 WC_OPS_PORT=$WC_OPS_1 WC_LOG=$WC_LOG_1 WC_PORT=$WC_PORT_1 E2E_WORK=$E2E_WORK_1

# Fixing the Deployment clears the finding and the report.
k -n "$NS" patch deployment manager --type json \
  -p '[{"op":"add","path":"/spec/template/spec/containers/0/ports/-","value":{"name":"https","containerPort":8443}}]' >/dev/null
until_ok 30 report_clean || fail "the PolicyReport still shows failures after the fix"
audit_has service-target-port-missing && fail "/audit still reports the fixed Service"
pass "after the fix the next run clears /audit and the namespace's PolicyReport"
