#!/usr/bin/env bash
# deploy/ installs cleanly on a real v1.20 kube-apiserver (issue 12): the
# enforce overlay with cert-manager, and the no-cert-manager overlay that
# certs/gen-deploy-certs.sh writes (in another namespace), each with the
# monitoring component and components/pre-1.21 (this API server serves
# PodDisruptionBudgets only as policy/v1beta1). For each:
#   - rendered with the machine's kubectl (kustomize v5; the envtest's
#     kubectl 1.20 cannot render components or replacements), applied with
#     `kubectl apply --server-side` (cert-manager path) or the documented
#     `kubectl apply -k DIR` (static path), every rendered object accepted and
#     stored (the CRDs of tests/e2e/crds/ are installed, so nothing needs a
#     dry run);
#   - the ServiceAccount the install creates may get, list and watch every
#     kind `serve --cluster` watches (src/cluster/watched_kinds.cpp),
#     cluster-wide, plus discovery, and may not read Secrets;
#   - `wirecheck serve --cluster` with that ServiceAccount's token syncs its
#     cache and becomes ready (cert-manager path only);
#   - the documented uninstall (webhook configuration first, then the rest)
#     removes everything, the namespace included.
source "$(dirname "$0")/lib.sh"

DEPLOY=$E2E_ROOT/deploy
# Renders deploy/; not the envtest's kubectl.
RENDER_KUBECTL=${RENDER_KUBECTL:-kubectl}
command -v "$RENDER_KUBECTL" >/dev/null \
  || fail "no kubectl to render deploy/ (needs kubectl 1.27+, kustomize v5; set RENDER_KUBECTL)"
"$RENDER_KUBECTL" version --client 2>/dev/null | grep -qE 'Kustomize Version: v([5-9]|[1-9][0-9])' \
  || fail "$RENDER_KUBECTL cannot render deploy/ (needs kustomize v5, kubectl 1.27+): $("$RENDER_KUBECTL" version --client 2>&1 | tr '\n' ' ')"

e2e_init deploy-install

# The machine's kubectl against the envtest (server-side apply, token requests).
kk() { "$RENDER_KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }

# with_components KUSTOMIZATION COMPONENT...: adds deploy/components/COMPONENT
# entries at the top of the overlay's components list.
with_components() {
  local file=$1 rel lines='' c
  shift
  rel=$(realpath --relative-to="$(dirname "$file")" "$DEPLOY")
  for c in "$@"; do lines+="  - $rel/components/$c\n"; done
  sed -i "s#^components:\$#&\n${lines%\\n}#" "$file"
  grep -q "components/$1\$" "$file" || fail "could not add components to $file"
}

# The objects of a rendered stream as kind.group/name (kubectl's -o name
# form), one a line, sorted: kustomize writes top-level apiVersion, kind and
# metadata.name at fixed indentation.
object_names() {
  awk '
    /^---/ { flush(); next }
    /^apiVersion: / { api = $2 }
    /^kind: / { kind = tolower($2) }
    /^metadata:/ { meta = 1; next }
    /^[^ ]/ { meta = 0 }
    meta && /^  name: / { name = $2 }
    function flush() {
      if (kind != "") print kind (index(api, "/") ? "." substr(api, 1, index(api, "/") - 1) : "") "/" name
      api = kind = name = ""; meta = 0
    }
    END { flush() }' "$1" | sort
}

# The kinds `serve --cluster` lists and watches, as resource[.group], read
# from the source so that a kind added there is checked here.
watched_resources() {
  local src=$E2E_ROOT/src/cluster/watched_kinds.cpp entries n
  entries=$(tr '\n' ' ' < "$src" \
    | grep -oE '\{Kind::k[A-Za-z]+, "[^"]*", \{[^}]*\}, *"[a-z]+"' \
    | sed -E 's/.*, "([^"]*)", \{[^}]*\}, *"([a-z]+)"/\2.\1/; s/\.$//')
  n=$(grep -o '{Kind::k' "$src" | wc -l)
  [[ $(wc -l <<<"$entries") -eq $n && $n -ge 15 ]] \
    || fail "read $(wc -l <<<"$entries") of $n watched kinds from $src"
  echo "$entries"
}

can_i() { k auth can-i "$@" --as="$SA_USER" >/dev/null 2>&1; }

check_rbac() {
  local ns=$1 resource verb n=0
  SA_USER=system:serviceaccount:$ns:wirecheck
  for resource in $(watched_resources); do
    for verb in get list watch; do
      can_i "$verb" "$resource" --all-namespaces \
        || fail "$SA_USER may not $verb $resource cluster-wide: the ClusterRole in deploy/base/rbac.yaml misses it"
    done
    n=$((n + 1))
  done
  for path in /api /apis /apis/apps/v1 /version; do
    can_i get "$path" || fail "$SA_USER may not get $path (discovery)"
  done
  for resource in secrets configmaps; do
    ! can_i list "$resource" --all-namespaces || fail "$SA_USER may list $resource: the ClusterRole must stay read-only on what the rules read"
  done
  ! can_i create services -n default || fail "$SA_USER may create services"
  pass "$ns: the install's ServiceAccount may get, list and watch all $n watched kinds cluster-wide and discovery, not Secrets/ConfigMaps or writes"
}

# install NAME DIR NAMESPACE [APPLY ARGS...]: render DIR, apply it (by
# default `apply --server-side -f RENDERED`; `-k DIR` for the documented
# client-side command), check every object was accepted and stored.
install() {
  local name=$1 dir=$2 ns=$3 rendered=$E2E_WORK/$1.yaml expected how
  shift 3
  "$RENDER_KUBECTL" kustomize "$dir" > "$rendered" || fail "$name: kubectl kustomize $dir failed"
  expected=$(object_names "$rendered")
  [[ $(wc -l <<<"$expected") -ge 12 ]] || fail "$name: only $(wc -l <<<"$expected") objects rendered"
  grep -qx 'poddisruptionbudget.policy/wirecheck' <<<"$expected" || fail "$name: no PodDisruptionBudget rendered"
  grep -q '^apiVersion: policy/v1beta1$' "$rendered" || fail "$name: the PodDisruptionBudget is not policy/v1beta1 (components/pre-1.21)"
  # Whatever happens next, the uninstall runs (webhook configuration first).
  e2e_defer uninstall "$name" "$rendered" "$ns" quiet

  (($#)) || set -- --server-side --field-manager=wirecheck-install -f "$rendered"
  how="kubectl apply $*"
  kk apply "$@" -o name > "$E2E_WORK/$name.applied" 2> "$E2E_WORK/$name.err" \
    || { cat "$E2E_WORK/$name.err" >&2; fail "$name: $how failed"; }
  if ! diff <(echo "$expected") <(sort "$E2E_WORK/$name.applied") >&2; then
    fail "$name: the objects applied differ from those rendered (< rendered, > applied)"
  fi
  # (kubectl's own note on the client/server version skew aside)
  if grep -vE '^$|exceeds the supported minor version skew' "$E2E_WORK/$name.err" >&2; then
    fail "$name: kubectl apply printed errors or warnings"
  fi
  # Stored: read back through the envtest's own kubectl (v1.20).
  diff <(echo "$expected") <(k get -f "$rendered" -o name | sort) >&2 \
    || fail "$name: not every applied object can be read back"
  pass "$name: all $(wc -l <<<"$expected") rendered objects accepted (${how/$E2E_WORK\//}) and stored in $ns and cluster-wide"

  [[ $(k get namespace "$ns" -o jsonpath='{.metadata.labels.wirecheck\.dev/skip}') == true ]] \
    || fail "$name: namespace $ns lacks wirecheck.dev/skip=true, its only exclusion before v1.21"
  [[ $(k get validatingwebhookconfiguration wirecheck -o jsonpath='{.webhooks[*].clientConfig.service.namespace}' \
      | tr ' ' '\n' | sort -u) == "$ns" ]] || fail "$name: a webhook entry calls a Service outside $ns"
  pass "$name: namespace labelled wirecheck.dev/skip, every webhook entry calls wirecheck.$ns"
}

uninstall() {
  local name=$1 rendered=$2 ns=$3 quiet=${4:-}
  if [[ -n $quiet ]]; then
    k delete validatingwebhookconfiguration wirecheck --ignore-not-found >/dev/null 2>&1
    k delete -f "$rendered" --ignore-not-found --wait=false >/dev/null 2>&1
    return 0
  fi
  k delete validatingwebhookconfiguration wirecheck >/dev/null || fail "$name: could not delete the webhook configuration"
  k delete -f "$rendered" --ignore-not-found >/dev/null 2>"$E2E_WORK/$name.delete.err" \
    || { cat "$E2E_WORK/$name.delete.err" >&2; fail "$name: kubectl delete -f failed"; }
  ns_gone() { ! k get namespace "$1" >/dev/null 2>&1; }
  until_ok 90 ns_gone "$ns" || fail "$name: namespace $ns still there 90s after the uninstall"
  [[ -z $(k get -f "$rendered" -o name --ignore-not-found 2>/dev/null) ]] \
    || fail "$name: objects left after the uninstall: $(k get -f "$rendered" -o name --ignore-not-found | tr '\n' ' ')"
  pass "$name: uninstall (webhook configuration first, then the rest) removes every object and the namespace"
}

# `wirecheck serve --cluster` as the install's ServiceAccount: the deploy
# RBAC is enough for every watch to sync (wc_start waits for /readyz).
serve_as_service_account() {
  local ns=$1 token kubeconfig=$E2E_WORK/sa-kubeconfig
  token=$(kk -n "$ns" create token wirecheck --duration=1h) || fail "no token for $ns/wirecheck (TokenRequest)"
  write_token_kubeconfig "$kubeconfig" "$token"
  wc_start --cluster --kubeconfig "$kubeconfig"
  if grep -qiE 'forbidden|"code":403' "$WC_LOG"; then
    grep -iE 'forbidden|"code":403' "$WC_LOG" | head -5 >&2
    fail "serve --cluster as $ns/wirecheck was refused something"
  fi
  local kinds synced
  kinds=$(watched_resources | wc -l)
  synced=$(jq -r 'select(.msg == "kind synced") | .kind' "$WC_LOG" | sort -u | wc -l)
  [[ $synced -eq $kinds ]] || fail "serve --cluster as $ns/wirecheck synced $synced of $kinds kinds"
  pass "serve --cluster with the token of $ns/wirecheck: all $kinds kinds synced, /readyz 200, nothing forbidden"
  wc_stop
}

# 1. cert-manager path: deploy/overlays/enforce as shipped (its namespace),
#    plus monitoring and pre-1.21.
cm=$E2E_WORK/overlay-enforce
mkdir -p "$cm"
rel=$(realpath --relative-to="$cm" "$DEPLOY")
sed "s#\.\./\.\./#$rel/#" "$DEPLOY/overlays/enforce/kustomization.yaml" > "$cm/kustomization.yaml"
with_components "$cm/kustomization.yaml" pre-1.21 monitoring
install cert-manager "$cm" wirecheck-system
check_rbac wirecheck-system
serve_as_service_account wirecheck-system
uninstall cert-manager "$E2E_WORK/cert-manager.yaml" wirecheck-system

# 2. no-cert-manager path: the overlay certs/gen-deploy-certs.sh writes, in
#    another namespace, with the command docs/operations.md gives
#    (`kubectl apply -k DIR`, client-side).
static=$E2E_WORK/static
"$E2E_ROOT/certs/gen-deploy-certs.sh" --mode enforce --namespace wirecheck-e2e-static "$static" 2>/dev/null \
  || fail "certs/gen-deploy-certs.sh failed"
with_components "$static/kustomization.yaml" pre-1.21 monitoring
install static "$static" wirecheck-e2e-static -k "$static"
[[ $(k get validatingwebhookconfiguration wirecheck -o jsonpath='{.webhooks[*].clientConfig.caBundle}' \
    | tr ' ' '\n' | sort -u) == "$(base64 -w0 < "$static/certs/ca.crt")" ]] \
  || fail "static: not every webhook entry holds the generated CA as caBundle"
[[ $(k -n wirecheck-e2e-static get secret wirecheck-serving-cert -o jsonpath='{.type}') == kubernetes.io/tls ]] \
  || fail "static: no kubernetes.io/tls Secret wirecheck-serving-cert"
pass "static: every webhook entry trusts the generated CA; the serving Secret is stored"
check_rbac wirecheck-e2e-static
uninstall static "$E2E_WORK/static.yaml" wirecheck-e2e-static
