#!/usr/bin/env bash
# The scrape chain against the real apiserver: a Prometheus that selects
# monitors labelled release=kube-prom (its account may discover in its own
# namespace), one ServiceMonitor with the label and one without. `wirecheck audit` reports monitor-not-selected on the
# unselected one only (with the exact label as fix); `wirecheck trace`
# walks both: every link ok and exit 0 for the selected one, the Prometheus
# link BROKEN and exit 1 for the other; a missing name exits 2 with the
# closest name. The Prometheus and Probe CRDs are minimal structural ones
# written for these tests (tests/e2e/crds).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init scrape

NS=$E2E_NS
# The Prometheus is deleted at exit: a stray one would make every other
# test's monitors unselected (the namespace is not garbage-collected here).
e2e_defer k -n "$NS" delete prometheus k8s --ignore-not-found

k apply -f - >/dev/null <<YAML
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: k8s, namespace: $NS}
spec:
  serviceAccountName: prometheus
  serviceMonitorSelector: {matchLabels: {release: kube-prom}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: prometheus, namespace: $NS}
rules:
- {apiGroups: [""], resources: [services, endpoints, pods], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: prometheus, namespace: $NS}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: prometheus}
subjects: [{kind: ServiceAccount, name: prometheus, namespace: $NS}]
---
apiVersion: v1
kind: Service
metadata: {name: app-metrics, namespace: $NS, labels: {app: app}}
spec:
  selector: {app: app}
  ports: [{name: metrics, port: 8080, targetPort: metrics}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: $NS}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - name: app
        image: example.invalid/app:v1
        args: [--metrics-bind-address=:8080]
        ports: [{name: metrics, containerPort: 8080}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: selected, namespace: $NS, labels: {release: kube-prom}}
spec:
  selector: {matchLabels: {app: app}}
  endpoints: [{port: metrics}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: unselected, namespace: $NS, labels: {app: app}}
spec:
  selector: {matchLabels: {app: app}}
  endpoints: [{port: metrics}]
---
apiVersion: monitoring.coreos.com/v1
kind: Probe
metadata: {name: site, namespace: $NS}
spec:
  prober: {url: "blackbox:9115"}
YAML
pass "a Prometheus, a selected and an unselected ServiceMonitor and a Probe are stored"

rc=0
"$WIRECHECK" audit --kubeconfig "$KUBECONFIG" --namespace "$NS" --format json > "$E2E_WORK/audit.json" \
  2> "$E2E_WORK/audit.err" || rc=$?
[[ $rc -le 1 ]] || { cat "$E2E_WORK/audit.err" >&2; fail "audit exited $rc"; }
not_selected() { jq -c --arg n "$1" '[.findings[] | select(.rule == "monitor-not-selected" and .object.name == $n)]' \
  "$E2E_WORK/audit.json"; }
found=$(not_selected unselected)
jq -e 'length == 1 and .[0].severity == "warn"
       and .[0].fix == "add to the ServiceMonitor'"'"'s metadata.labels: release: kube-prom"' <<<"$found" >/dev/null \
  || fail "audit does not report the unselected ServiceMonitor: $found"
[[ $(not_selected selected) == "[]" ]] || fail "audit reports the selected ServiceMonitor: $(not_selected selected)"
# The Probe: no probeSelector (nil selects nothing).
jq -e 'length == 1 and (.[0].message | contains("has no probeSelector"))' <<<"$(not_selected site)" >/dev/null \
  || fail "audit does not report the Probe no Prometheus selects: $(not_selected site)"
echo "# $(jq -r '.[0].message' <<<"$found")"
pass "audit: monitor-not-selected on the unselected ServiceMonitor and the Probe, with the label to add"

rc=0
"$WIRECHECK" trace servicemonitor "$NS/selected" --kubeconfig "$KUBECONFIG" --no-color > "$E2E_WORK/ok.txt" 2>&1 || rc=$?
sed 's/^/# /' "$E2E_WORK/ok.txt"
[[ $rc -eq 0 ]] || fail "trace of the selected ServiceMonitor exited $rc"
grep -q "ok         prometheus .*selected by Prometheus $NS/k8s" "$E2E_WORK/ok.txt" || fail "no ok Prometheus link"
grep -q "every link holds" "$E2E_WORK/ok.txt" || fail "trace does not say every link holds"
pass "trace: the selected ServiceMonitor's chain holds (exit 0)"

rc=0
"$WIRECHECK" trace servicemonitor "$NS/unselected" --kubeconfig "$KUBECONFIG" --no-color > "$E2E_WORK/broken.txt" 2>&1 || rc=$?
sed 's/^/# /' "$E2E_WORK/broken.txt"
[[ $rc -eq 1 ]] || fail "trace of the unselected ServiceMonitor exited $rc, expected 1"
grep -q "BROKEN     prometheus .*monitor-not-selected" "$E2E_WORK/broken.txt" || fail "the Prometheus link is not broken"
grep -q "fix: add to the ServiceMonitor's metadata.labels: release: kube-prom" "$E2E_WORK/broken.txt" \
  || fail "trace does not print the fix"
pass "trace: the unselected ServiceMonitor's Prometheus link is BROKEN with rule and fix (exit 1)"

rc=0
"$WIRECHECK" trace servicemonitor "$NS/unselectd" --kubeconfig "$KUBECONFIG" > "$E2E_WORK/missing.txt" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "trace of a missing name exited $rc, expected 2"
grep -q "closest: $NS/unselected" "$E2E_WORK/missing.txt" || { cat "$E2E_WORK/missing.txt" >&2; fail "no closest name"; }
pass "trace: a name not found exits 2 and names the closest"
