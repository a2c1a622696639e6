#!/usr/bin/env bash
# charts/wirecheck installed with the real helm (scripts/install-deps.sh
# --helm) into the real v1.20 kube-apiserver:
#   - `helm install` with ci/self-managed-values.yaml succeeds: every object
#     of the release is created (no pods run here: there is no kubelet), the
#     PodDisruptionBudget as policy/v1beta1 (what v1.20 serves; the chart
#     asks the API server), every webhook entry calls the release's Service
#     with the generated CA as caBundle;
#   - `wirecheck audit` of the cluster with the release in it is clean
#     (--fail-on warn);
#   - `helm upgrade` keeps the generated CA and serving certificate (the
#     chart reads the Secret back with `lookup`): the caBundle the API server
#     trusts does not change;
#   - `wirecheck serve --cluster` with the release's ServiceAccount token
#     syncs every kind it watches (the chart's RBAC is enough);
#   - `helm uninstall` removes the cluster-scoped objects too.
source "$(dirname "$0")/lib.sh"

CACHE=${WIRECHECK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/wirecheck}
HELM=${WIRECHECK_HELM:-$CACHE/helm-v4.1.4/helm}
[[ -x $HELM ]] || fail "no helm at $HELM: run scripts/install-deps.sh --helm (make e2e does)"
CHART=$E2E_ROOT/charts/wirecheck

e2e_init helm-install
RELEASE=wirecheck-e2e
NS=$E2E_NS
h() { "$HELM" --kubeconfig "$KUBECONFIG" --namespace "$NS" "$@"; }
# Whatever happens, the webhook configuration and cluster-scoped objects go.
cleanup_release() { h uninstall "$RELEASE" --ignore-not-found >/dev/null 2>&1 || true; }
e2e_defer cleanup_release
# v1.20 namespaces lack kubernetes.io/metadata.name: the release's own is
# excluded by the label (docs/operations.md, "Install with Helm").
k label namespace "$NS" wirecheck.dev/skip=true >/dev/null

h install "$RELEASE" "$CHART" -f "$CHART/ci/self-managed-values.yaml" > "$E2E_WORK/install.out" 2>&1 \
  || { cat "$E2E_WORK/install.out" >&2; fail "helm install failed"; }
[[ $(h status "$RELEASE" -o json | jq -r .info.status) == deployed ]] || fail "release not deployed"
h get manifest "$RELEASE" > "$E2E_WORK/manifest.yaml"
expected=$(grep -c '^kind: ' "$E2E_WORK/manifest.yaml")
stored=$(k get -f "$E2E_WORK/manifest.yaml" -o name | wc -l)
[[ $expected -ge 12 && $stored -eq $expected ]] || fail "helm install: $stored of $expected objects stored"
pass "helm install: all $expected objects of the release created and stored"

[[ $(k -n "$NS" get poddisruptionbudget "$RELEASE" -o jsonpath='{.apiVersion}') == policy/v1beta1 ]] \
  || fail "the PodDisruptionBudget is not policy/v1beta1 on v1.20"
grep -q '^apiVersion: policy/v1beta1$' "$E2E_WORK/manifest.yaml" || fail "the chart did not render policy/v1beta1 for v1.20"
ca=$(k -n "$NS" get secret "$RELEASE-serving-cert" -o jsonpath='{.data.ca\.crt}')
[[ -n $ca ]] || fail "no ca.crt in the serving Secret"
[[ $(k get validatingwebhookconfiguration "$RELEASE" -o jsonpath='{.webhooks[*].clientConfig.caBundle}' \
    | tr ' ' '\n' | sort -u) == "$ca" ]] || fail "not every webhook entry holds the generated CA"
[[ $(k get validatingwebhookconfiguration "$RELEASE" -o jsonpath='{.webhooks[*].clientConfig.service.namespace}' \
    | tr ' ' '\n' | sort -u) == "$NS" ]] || fail "a webhook entry calls a Service outside $NS"
pass "PodDisruptionBudget policy/v1beta1 (asked the API server); every entry calls $RELEASE.$NS with the generated CA"

"$WIRECHECK" audit --kubeconfig "$KUBECONFIG" --fail-on warn --no-color > "$E2E_WORK/audit.out" 2>&1 \
  || { cat "$E2E_WORK/audit.out" >&2; fail "wirecheck audit of the cluster with the release is not clean"; }
pass "wirecheck audit --fail-on warn of the cluster with the release: $(tail -n 1 "$E2E_WORK/audit.out")"

tls=$(k -n "$NS" get secret "$RELEASE-serving-cert" -o jsonpath='{.data.tls\.crt}')
h upgrade "$RELEASE" "$CHART" -f "$CHART/ci/self-managed-values.yaml" --set replicas=2 > "$E2E_WORK/upgrade.out" 2>&1 \
  || { cat "$E2E_WORK/upgrade.out" >&2; fail "helm upgrade failed"; }
[[ $(k -n "$NS" get deployment "$RELEASE" -o jsonpath='{.spec.replicas}') == 2 ]] || fail "helm upgrade did not apply"
[[ $(k -n "$NS" get secret "$RELEASE-serving-cert" -o jsonpath='{.data.ca\.crt}') == "$ca" &&
   $(k -n "$NS" get secret "$RELEASE-serving-cert" -o jsonpath='{.data.tls\.crt}') == "$tls" ]] \
  || fail "helm upgrade replaced the self-managed CA or serving certificate"
[[ $(k get validatingwebhookconfiguration "$RELEASE" -o jsonpath='{.webhooks[*].clientConfig.caBundle}' \
    | tr ' ' '\n' | sort -u) == "$ca" ]] || fail "helm upgrade changed the caBundle"
pass "helm upgrade keeps the CA, the serving certificate and the caBundle (lookup)"

# The release's ServiceAccount may do everything serve --cluster does.
# (`create token` needs kubectl 1.24+: the machine's, not the envtest's 1.20.)
token=$("${RENDER_KUBECTL:-kubectl}" --kubeconfig "$KUBECONFIG" -n "$NS" create token "$RELEASE" --duration=1h) \
  || fail "no token for $NS/$RELEASE (TokenRequest)"
write_token_kubeconfig "$E2E_WORK/sa-kubeconfig" "$token"
wc_start --cluster --kubeconfig "$E2E_WORK/sa-kubeconfig"
! grep -qiE 'forbidden|"code":403' "$WC_LOG" || { grep -iE 'forbidden|"code":403' "$WC_LOG" | head -5 >&2; fail "serve --cluster as $NS/$RELEASE was refused something"; }
pass "serve --cluster with the release's ServiceAccount token: ready, nothing forbidden"
wc_stop

h uninstall "$RELEASE" > /dev/null || fail "helm uninstall failed"
! k get validatingwebhookconfiguration "$RELEASE" >/dev/null 2>&1 || fail "the webhook configuration outlived helm uninstall"
! k get clusterrole "$RELEASE" >/dev/null 2>&1 || fail "the ClusterRole outlived helm uninstall"
[[ -z $(k -n "$NS" get -f "$E2E_WORK/manifest.yaml" -o name --ignore-not-found 2>/dev/null) ]] \
  || fail "objects left after helm uninstall"
pass "helm uninstall removes every object, cluster-scoped ones included"
