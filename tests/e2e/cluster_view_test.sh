#!/usr/bin/env bash
# `wirecheck serve --cluster` against a real kube-apiserver: the list/watch
# cache lets the rules that need other objects run at apply time.
#  (8) /readyz is not ready until the first sync (apiserver down at start)
#  (1) a Service targeting a port name its Deployment does not declare is
#      denied in enforce (rule id and fix in kubectl's error), warned in warn
#  (2) the same Service applied before any Deployment: a warn, not a deny
#  (3) a Deployment update renaming the port a Service targets is denied
#  (4) deleting a Service that a failurePolicy Fail webhook configuration or
#      an APIService calls is denied; with failurePolicy Ignore, a warning
#  (5) a ServiceMonitor whose port is on no selected Service is denied
#  (6) a Service created a moment ago is seen by the next request
#  (7) the watch survives an apiserver restart (SIGKILL): the next decision
#      is right, including for objects written after the restart
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
e2e_init cluster-view

# deployment NAME PORT_NAME: a Deployment whose one container declares PORT_NAME.
deployment() {
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers:
      - name: main
        image: registry.example/$1:1.0
        ports: [{name: $2, containerPort: 8443}]
YAML
}

# service NAME APP TARGET_PORT
service() {
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: $1, labels: {app: $2}}
spec:
  selector: {app: $2}
  ports: [{name: $3, port: 443, targetPort: $3}]
YAML
}

# --- (8) readiness waits for the first sync --------------------------------
envtest stop-apiserver
WC_WAIT_READY=0 wc_start --mode enforce --cluster --kubeconfig "$KUBECONFIG"
sleep 2
body=$(wc_readyz_body)
! wc_ready || fail "/readyz was ready with the apiserver down"
grep -q 'cluster cache not synced' <<<"$body" || fail "/readyz does not say why: $body"
pass "(8) /readyz is 503 before the first sync: $body"
envtest start-apiserver
until_ok 60 wc_ready || fail "/readyz not ready after the apiserver came up: $(wc_readyz_body)"
pass "(8) /readyz turns ready once every served kind has synced"
wc_register --failure-policy Fail

# --- (1) enforce: a Service targeting a port its Deployment lacks -----------
expect_apply allow '' < <(deployment api metrics)
sleep 1
expect_apply deny 'service-target-port-missing.*Fix:' < <(service api-https api https)
pass "(1) enforce: Service targeting 'https' on a Deployment without it is denied: $(grep -o 'service-target-port-missing[^.]*' <<<"$E2E_STDERR" | head -1)"
wc_register --failure-policy Fail --path /validate/warn
expect_apply warn '^Warning: wirecheck/service-target-port-missing' < <(service api-https api https)
pass "(1) warn: the same Service is admitted with $(grep -m1 '^Warning:' <<<"$E2E_STDERR" | cut -c1-70)..."
k -n "$E2E_NS" delete service api-https >/dev/null
wc_register --failure-policy Fail

# --- (2) apply order: the Service first is a warn, never a deny -------------
expect_apply warn 'wirecheck/service-selects-nothing' < <(service later-metrics later metrics)
pass "(2) a Service applied before its Deployment is a warning, not a deny"
expect_apply allow '' < <(deployment later metrics)
pass "(2) its Deployment then applies cleanly"

# --- (6) a Service created a moment ago is seen by the next request --------
expect_apply allow '' < <(service api-metrics api metrics)
sleep 1
expect_apply deny 'workload-breaks-service' < <(deployment api renamed)
pass "(6) a Service created 1s earlier is in the cache: the next Deployment update is checked against it"

# --- (3) a Deployment update renaming the targeted port ---------------------
[[ $(k -n "$E2E_NS" get deployment api -o jsonpath='{.spec.template.spec.containers[0].ports[0].name}') == metrics ]] \
  || fail "the denied Deployment update was stored"
pass "(3) renaming the port Service api-metrics targets is denied and not stored: $(grep -o 'workload-breaks-service[^.]*' <<<"$E2E_STDERR" | head -1)"

# --- (5) a ServiceMonitor whose port is on no selected Service --------------
expect_apply deny 'servicemonitor-port-not-found' <<YAML
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  endpoints: [{port: web, path: /metrics}]
YAML
pass "(5) a ServiceMonitor scraping port 'web', which no selected Service has, is denied"
expect_apply allow '' <<YAML
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  endpoints: [{port: metrics, path: /metrics}]
YAML
pass "(5) the same ServiceMonitor on port 'metrics' is admitted"

# --- (4) deleting a Service a webhook or APIService still calls -------------
expect_apply allow '' < <(deployment hook https; echo ---; deployment aggregated https)
sleep 1
expect_apply allow '' < <(service hook hook https; echo ---; service aggregated aggregated https)
hook_config() {
  cat <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: hook-$E2E_ID, labels: {wirecheck-e2e: $E2E_ID}}
webhooks:
- name: hook.e2e.wirecheck.dev
  clientConfig:
    service: {namespace: $E2E_NS, name: hook, port: 443}
    caBundle: $(base64 -w0 < "$WC_CA")
  rules: [{apiGroups: [e2e.wirecheck.dev], apiVersions: [v1], operations: [CREATE], resources: [widgets]}]
  failurePolicy: $1
  sideEffects: None
  admissionReviewVersions: [v1]
YAML
}
hook_config Fail | k apply -f - >/dev/null
group="${E2E_ID//[^a-z0-9]/}.e2e.wirecheck.dev"
k apply -f - >/dev/null <<YAML
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.$group, labels: {wirecheck-e2e: $E2E_ID}}
spec:
  group: $group
  version: v1alpha1
  service: {namespace: $E2E_NS, name: aggregated, port: 443}
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 100
  versionPriority: 10
YAML
sleep 1
expect_kubectl deny 'service-delete-breaks-webhook' -- -n "$E2E_NS" delete service hook
pass "(4) deleting a Service a failurePolicy Fail webhook calls is denied"
expect_kubectl deny 'service-delete-breaks-webhook.*APIService' -- -n "$E2E_NS" delete service aggregated
pass "(4) deleting a Service an APIService calls is denied"
hook_config Ignore | k apply -f - >/dev/null
sleep 1
expect_kubectl warn 'wirecheck/service-delete-breaks-webhook' -- -n "$E2E_NS" delete service hook
pass "(4) with failurePolicy Ignore the delete goes through with a warning"
k delete apiservice "v1alpha1.$group" >/dev/null

# --- (7) the watch survives an apiserver restart ----------------------------
restarts_before=$(wc_metric wirecheck_cluster_watch_restarts_total)
envtest restart-apiserver --kill
wc_register --failure-policy Fail
until_ok 30 bash -c "[[ \$(curl -s http://127.0.0.1:$WC_OPS_PORT/metrics | awk '\$1 ~ /^wirecheck_cluster_watch_restarts_total/ {s += \$2} END {print s + 0}') -gt $restarts_before ]]" \
  || fail "no watch restart counted after the apiserver restart"
expect_apply allow '' < <(deployment after metrics)
sleep 1
expect_apply deny 'service-target-port-missing' < <(service after-https after https)
expect_apply allow '' < <(service after-metrics after metrics)
pass "(7) after an apiserver SIGKILL + restart the cache resumed: a Deployment written afterwards is seen, decisions are right"
[[ $(wc_metric wirecheck_cluster_api_not_served) == 0 ]] \
  || fail "a watched kind is reported as not served: $(curl -s "http://127.0.0.1:$WC_OPS_PORT/metrics" | grep '^wirecheck_cluster_api_not_served.* 1')"
pass "every watched kind is served and synced (wirecheck_cluster_api_not_served = 0)"
