#!/usr/bin/env bash
# The envtest cluster itself: the apiserver says it is v1.20.2, custom
# resources can be written (the reflect2 crash this build works around hit
# the first such write), a namespace's deletion completes (the controller-
# manager runs), and restart-apiserver brings the apiserver back with its
# data, as the watch tests need.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init envtest-cluster

version=$(k version -o json | jq -r .serverVersion.gitVersion)
[[ $version == v1.20.2 ]] || fail "server version is $version, expected v1.20.2"
pass "kube-apiserver reports $version"

for crd in servicemonitors.monitoring.coreos.com podmonitors.monitoring.coreos.com \
           certificates.cert-manager.io policyreports.wgpolicyk8s.io clusterpolicyreports.wgpolicyk8s.io; do
  k get crd "$crd" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}' | grep -qx True \
    || fail "CRD $crd is not established"
done
pass "the five CRDs are established"

k -n "$E2E_NS" apply -f - >/dev/null <<YAML
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: pm}
spec:
  selector: {matchLabels: {app: web}}
  podMetricsEndpoints: [{port: metrics, unknownField: kept}]
---
apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata: {name: report}
summary: {pass: 1, fail: 0, warn: 0, error: 0, skip: 0}
results:
- {policy: wirecheck, rule: servicemonitor-tls-servername, result: pass, source: wirecheck}
YAML
[[ $(k -n "$E2E_NS" get podmonitor pm -o jsonpath='{.spec.podMetricsEndpoints[0].unknownField}') == kept ]] \
  || fail "PodMonitor lost a field the schema does not name"
pass "custom resources are written and read back, unknown fields preserved"

if k -n "$E2E_NS" apply -f - >/dev/null 2>"$E2E_WORK/err" <<YAML
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: bad}
spec: {secretName: 42, issuerRef: {name: x}}
YAML
then fail "a Certificate with a numeric secretName was accepted"; fi
grep -q 'spec.secretName' "$E2E_WORK/err" || fail "unexpected error: $(cat "$E2E_WORK/err")"
pass "the structural schema rejects a wrongly typed field"

[[ $(k get serviceaccount default -n "$E2E_NS" -o name 2>/dev/null) ]] \
  || until_ok 30 k get serviceaccount default -n "$E2E_NS" -o name >/dev/null 2>&1 \
  || fail "no default ServiceAccount: the serviceaccount controller is not running"
pass "the controller-manager's serviceaccount controller made the default ServiceAccount"

gone_ns=e2e-gone-$E2E_ID
k create namespace "$gone_ns" >/dev/null
k -n "$gone_ns" create configmap c --from-literal=a=b >/dev/null
k delete namespace "$gone_ns" --timeout=60s >/dev/null || fail "namespace $gone_ns was not deleted within 60s"
pass "a namespace with content is deleted (namespace controller)"

"$ENVTEST_KUBECTL" --kubeconfig "$ENVTEST_KUBECONFIG_FILES" get namespace "$E2E_NS" -o name >/dev/null \
  || fail "the kubeconfig with file paths does not work"
user() { "$ENVTEST_KUBECTL" --kubeconfig "$ENVTEST_USER_KUBECONFIG" -n "$E2E_NS" "$@"; }
[[ $(user auth can-i list services) == no ]] || fail "$ENVTEST_USER may list services before any binding"
k -n "$E2E_NS" create role svc-reader --verb=get,list,watch --resource=services >/dev/null
k -n "$E2E_NS" create rolebinding svc-reader --role=svc-reader --user="$ENVTEST_USER" >/dev/null
until_ok 10 user get services -o name >/dev/null 2>&1 || fail "$ENVTEST_USER cannot list services once bound"
pass "kubeconfig-files (paths) and kubeconfig-user (token, RBAC applies) work"

rv=$(k -n "$E2E_NS" get podmonitor pm -o jsonpath='{.metadata.resourceVersion}')
envtest restart-apiserver --kill
[[ $(k -n "$E2E_NS" get podmonitor pm -o jsonpath='{.metadata.resourceVersion}') == "$rv" ]] \
  || fail "the PodMonitor changed across the apiserver restart"
pass "restart-apiserver --kill: the apiserver comes back with its data"
