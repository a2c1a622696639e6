# shellcheck shell=bash
# Helpers for wirecheck's e2e tests: bash + kubectl against the real
# kube-apiserver that scripts/envtest.sh runs (make e2e starts it).
#
# A test is a bash script that sources this file and calls:
#
#   e2e_init NAME               cluster env, CRDs, a namespace of its own
#                               ($E2E_NS, labelled wirecheck-e2e=$E2E_ID), a
#                               work dir ($E2E_WORK), cleanup on every exit
#   wc_start [SERVE FLAGS...]   `wirecheck serve` on free loopback ports with
#                               a fresh CA; flags are passed through (e.g.
#                               --mode enforce, --cluster --kubeconfig "$KUBECONFIG");
#                               waits for /readyz unless WC_WAIT_READY=0.
#                               Sets WC_PORT, WC_OPS_PORT, WC_PID, WC_LOG, WC_CA
#   wc_stop                     SIGTERM, waits for exit
#   wc_register [OPTIONS]       a ValidatingWebhookConfiguration ($WC_WEBHOOK)
#                               calling https://127.0.0.1:$WC_PORT$PATH with
#                               the CA as caBundle, scoped to $E2E_NS; waits
#                               until the apiserver calls it. Options:
#                                 --failure-policy Fail|Ignore  (Fail)
#                                 --path /validate               (/validate)
#                                 --operations CREATE,UPDATE     (CREATE,UPDATE,DELETE)
#                                 --rules JSON                   (the kinds wirecheck reads)
#                                 --all-namespaces               (no namespaceSelector)
#   wc_unregister               deletes the configuration
#   expect_kubectl OUTCOME PATTERN -- KUBECTL ARGS...
#                               runs kubectl (stdin passed on); OUTCOME is
#                               allow (exit 0, no wirecheck warning), warn (exit 0 and a
#                               `Warning:` line matching PATTERN), deny
#                               (non-zero, wirecheck's denial matching
#                               PATTERN). PATTERN is a grep -E regex ('' = any).
#   expect_apply OUTCOME PATTERN   the same for `kubectl apply -f -` in $E2E_NS
#                               (both leave kubectl's stderr in $E2E_STDERR;
#                               feed them with `< <(cmd)`, not a pipe, to read it)
#   k ARGS...                   kubectl with the envtest kubeconfig
#   envtest ARGS...             scripts/envtest.sh, e.g. `envtest restart-apiserver --kill`
#   e2e_defer CMD...            runs CMD at exit (latest first), after the
#                               webhook is removed and before the server stops
#   wc_metric NAME              a metric's summed value from /metrics
#   wc_decision NAME [KIND]     wirecheck's last decision log line (JSON) for
#                               an object of that name, or fails: proves the
#                               webhook saw it (e.g. `| jq -r .decision`)
#   pass MSG / fail MSG         a check's result line; fail exits 1
#
# Cluster-scoped objects a test creates (webhook configurations, APIServices,
# ClusterRoles...) labelled wirecheck-e2e=$E2E_ID are deleted at exit: an
# APIService left unavailable would stall every namespace deletion. The
# namespaceSelector does not apply to cluster-scoped kinds: a webhook whose
# --rules name them sees them all. wc_register again replaces the
# configuration (another path or policy); wc_stop + wc_start gives new ports,
# so register again after it.
#
# Environment: WIRECHECK (binary; default build/wirecheck), ENVTEST_DIR (as
# for scripts/envtest.sh), E2E_KEEP=1 keeps the namespace and work dir.

set -euo pipefail

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WIRECHECK=${WIRECHECK:-$E2E_ROOT/build/wirecheck}
E2E_CHECKS=0
E2E_PROBES=0
WC_PID=
WC_WATCHDOG=
WC_WEBHOOK=

pass() {
  E2E_CHECKS=$((E2E_CHECKS + 1))
  echo "ok $E2E_CHECKS - $*"
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

k() { "$ENVTEST_KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }

envtest() { "$E2E_ROOT/scripts/envtest.sh" "$@"; }

E2E_DEFERRED=()
e2e_defer() { E2E_DEFERRED+=("$(printf '%q ' "$@")"); }

# until_ok SECONDS CMD...: retries CMD every 0.2 s until it succeeds.
until_ok() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

e2e_init() {
  local name=$1 env
  [[ -x $WIRECHECK ]] || fail "no wirecheck binary at $WIRECHECK (build it, or set WIRECHECK)"
  env=$("$E2E_ROOT/scripts/envtest.sh" env) \
    || fail "no envtest cluster running: 'make e2e' starts one, or scripts/envtest.sh install && scripts/envtest.sh start"
  eval "$env"
  E2E_ID="$name-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
  E2E_NS="e2e-$E2E_ID"
  E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/wirecheck-e2e-$name.XXXXXX")
  trap e2e_cleanup EXIT
  trap 'exit 130' INT TERM
  e2e_apply_crds
  k create namespace "$E2E_NS" >/dev/null
  k label namespace "$E2E_NS" "wirecheck-e2e=$E2E_ID" >/dev/null
  echo "# $name: namespace $E2E_NS, work dir $E2E_WORK"
}

# The CRDs the rules read; applying them is idempotent, and each test can run
# alone.
e2e_apply_crds() {
  k apply -f "$E2E_ROOT/tests/e2e/crds/" >/dev/null
  k wait --for condition=established --timeout=60s \
    -f "$E2E_ROOT/tests/e2e/crds/" >/dev/null
}

# Runs on every exit: the webhook goes first (a failurePolicy Fail webhook
# with no server behind it would block the namespace's deletion), then what
# the test deferred and its labelled cluster-scoped objects, then the server,
# then the namespace. A failing test shows the server's log.
e2e_cleanup() {
  local rc=$?
  set +e
  [[ -z $WC_WEBHOOK ]] || wc_unregister
  local i
  for ((i = ${#E2E_DEFERRED[@]} - 1; i >= 0; i--)); do eval "${E2E_DEFERRED[i]}"; done
  [[ -z ${E2E_ID:-} ]] || k delete --ignore-not-found -l "wirecheck-e2e=$E2E_ID" \
    validatingwebhookconfigurations,mutatingwebhookconfigurations,apiservices,clusterroles,clusterrolebindings \
    >/dev/null 2>&1
  if [[ $rc -ne 0 && -n ${WC_LOG:-} && -f $WC_LOG ]]; then
    echo "--- last lines of wirecheck's log ($WC_LOG) ---" >&2
    tail -n 30 "$WC_LOG" >&2
  fi
  [[ -z $WC_PID ]] || wc_stop
  if [[ ${E2E_KEEP:-} != 1 ]]; then
    # Waits for the namespace controller to empty it: a test that audits the
    # whole cluster must not see the objects of the one before it.
    [[ -z ${E2E_NS:-} ]] || k delete namespace "$E2E_NS" --timeout=60s >/dev/null 2>&1
    [[ -z ${E2E_WORK:-} ]] || rm -rf "$E2E_WORK"
  fi
  if [[ $rc -eq 0 ]]; then echo "# $E2E_CHECKS checks passed"; fi
  exit "$rc"
}

# write_token_kubeconfig FILE TOKEN: a kubeconfig for the envtest cluster that
# authenticates with TOKEN (a ServiceAccount's, from `create token`).
write_token_kubeconfig() {
  local token=$2
  cat > "$1" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: envtest
    cluster: {server: "$ENVTEST_APISERVER_URL", certificate-authority: "$ENVTEST_CA_FILE"}
users:
  - name: wirecheck
    user: {token: "$token"}
contexts:
  - name: wirecheck
    context: {cluster: envtest, user: wirecheck}
current-context: wirecheck
YAML
}

# --- the webhook server ----------------------------------------------------

wc_start() {
  [[ -z $WC_PID ]] || fail "wc_start: wirecheck already running (pid $WC_PID)"
  local certs=$E2E_WORK/certs line
  mkdir -p "$certs"
  [[ -s $certs/tls.crt ]] || CERT_DIR=$certs "$E2E_ROOT/certs/gen-dev-certs.sh" 2>/dev/null
  WC_CA=$certs/ca.crt
  WC_LOG=$E2E_WORK/wirecheck.log
  : > "$WC_LOG"
  "$WIRECHECK" serve --listen 127.0.0.1:0 --ops-listen 127.0.0.1:0 \
    --tls-cert-file "$certs/tls.crt" --tls-private-key-file "$certs/tls.key" \
    --shutdown-delay 0s --log-level debug "$@" </dev/null >>"$WC_LOG" 2>&1 &
  WC_PID=$!
  # Should this script be killed outright (ctest's timeout), the server goes too.
  ( while kill -0 "$$" 2>/dev/null; do sleep 1; done; kill -TERM "$WC_PID" 2>/dev/null ) \
    </dev/null >/dev/null 2>&1 &
  WC_WATCHDOG=$!
  # The ports come from the "serving" line (port 0 = the kernel picks).
  until_ok 30 grep -q '"msg":"serving"' "$WC_LOG" || {
    kill -0 "$WC_PID" 2>/dev/null || { WC_PID=; tail -n 20 "$WC_LOG" >&2; fail "wirecheck serve exited"; }
    fail "wirecheck serve did not log \"serving\" within 30s"
  }
  line=$(grep -m1 '"msg":"serving"' "$WC_LOG")
  WC_PORT=$(jq -r .port <<<"$line")
  WC_OPS_PORT=$(jq -r .opsPort <<<"$line")
  if [[ ${WC_WAIT_READY:-1} == 1 ]]; then
    until_ok "${WC_READY_TIMEOUT:-60}" wc_ready \
      || fail "wirecheck /readyz not ready after ${WC_READY_TIMEOUT:-60}s: $(wc_readyz_body)"
  fi
  echo "# wirecheck serve $* on 127.0.0.1:$WC_PORT (ops $WC_OPS_PORT, pid $WC_PID)"
}

wc_ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$WC_OPS_PORT/readyz") == 200 ]]; }
wc_readyz_body() { curl -s "http://127.0.0.1:$WC_OPS_PORT/readyz" || true; }

wc_stop() {
  [[ -n $WC_PID ]] || return 0
  kill -TERM "$WC_PID" 2>/dev/null || true
  until_ok 15 wc_exited || kill -KILL "$WC_PID" 2>/dev/null || true
  wait "$WC_PID" 2>/dev/null || true
  kill "$WC_WATCHDOG" 2>/dev/null || true
  wait "$WC_WATCHDOG" 2>/dev/null || true
  WC_PID=
}

wc_exited() { ! kill -0 "$WC_PID" 2>/dev/null; }

wc_metric() {
  curl -s "http://127.0.0.1:$WC_OPS_PORT/metrics" \
    | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }'
}

wc_decision() {
  local line
  line=$(jq -c --arg n "$1" --arg k "${2:-}" \
    'select(.msg == "admission decision" and .name == $n and ($k == "" or .kind == $k))' \
    "$WC_LOG" 2>/dev/null | tail -n 1)
  [[ -n $line ]] || fail "wirecheck logged no decision for ${2:+$2 }$1"
  echo "$line"
}

# Every kind wirecheck has rules for, namespaced ones only (the
# namespaceSelector keeps each test's webhook to its own namespace; cluster-
# scoped kinds would reach every test's webhook: pass --rules for those).
WC_DEFAULT_RULES='[
 {"apiGroups":[""],"apiVersions":["v1"],"resources":["services","pods"]},
 {"apiGroups":["apps"],"apiVersions":["v1"],"resources":["deployments","statefulsets","daemonsets","replicasets"]},
 {"apiGroups":["batch"],"apiVersions":["v1","v1beta1"],"resources":["jobs","cronjobs"]},
 {"apiGroups":["monitoring.coreos.com"],"apiVersions":["v1"],"resources":["servicemonitors","podmonitors"]},
 {"apiGroups":["cert-manager.io"],"apiVersions":["v1"],"resources":["certificates"]}
]'

wc_register() {
  [[ -n $WC_PID ]] || fail "wc_register: start the server first (wc_start)"
  local policy=Fail path=/validate ops=CREATE,UPDATE,DELETE rules=$WC_DEFAULT_RULES scoped=1
  while (($#)); do
    case $1 in
      --failure-policy) policy=$2; shift 2 ;;
      --path) path=$2; shift 2 ;;
      --operations) ops=$2; shift 2 ;;
      --rules) rules=$2; shift 2 ;;
      --all-namespaces) scoped=0; shift ;;
      *) fail "wc_register: unknown option $1" ;;
    esac
  done
  WC_WEBHOOK=wirecheck-$E2E_ID
  jq -n --arg name "$WC_WEBHOOK" --arg url "https://127.0.0.1:$WC_PORT$path" \
      --arg ca "$(base64 -w0 < "$WC_CA")" --arg policy "$policy" --arg id "$E2E_ID" \
      --arg ops "$ops" --argjson rules "$rules" --argjson scoped "$scoped" '{
    apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration",
    metadata: {name: $name, labels: {"wirecheck-e2e": $id}},
    webhooks: [{
      name: "validate.wirecheck.dev",
      clientConfig: {url: $url, caBundle: $ca},
      rules: [$rules[] | . + {operations: ($ops | split(",")), scope: "*"}],
      failurePolicy: $policy, sideEffects: "None", timeoutSeconds: 10,
      admissionReviewVersions: ["v1"], matchPolicy: "Equivalent"
    } + (if $scoped == 1 then {namespaceSelector: {matchLabels: {"wirecheck-e2e": $id}}} else {} end)]
  }' > "$E2E_WORK/webhook.json"
  k apply -f "$E2E_WORK/webhook.json" >/dev/null
  if jq -e 'any(.webhooks[0].rules[]; (.resources | index("services")) and (.operations | index("CREATE")))' \
      "$E2E_WORK/webhook.json" >/dev/null; then
    wc_await_webhook
  else
    sleep 2  # no Service CREATE to probe with: give the informer time
  fi
}

# The apiserver picks webhook configurations up from an informer: wait until
# a server-side dry run reaches wirecheck (its decision log names the probe).
wc_await_webhook() {
  local i probe
  for ((i = 0; i < 100; i++)); do
    E2E_PROBES=$((E2E_PROBES + 1))
    probe=e2e-probe-$E2E_PROBES
    k -n "$E2E_NS" create service clusterip "$probe" --tcp=80:8080 --dry-run=server -o name >/dev/null 2>&1 || true
    grep -q "\"name\":\"$probe\"" "$WC_LOG" && return 0
    sleep 0.2
  done
  fail "the apiserver did not call wirecheck within 20s after registering $WC_WEBHOOK"
}

wc_unregister() {
  [[ -n $WC_WEBHOOK ]] || return 0
  k delete validatingwebhookconfiguration "$WC_WEBHOOK" --ignore-not-found >/dev/null
  WC_WEBHOOK=
}

# --- expectations ------------------------------------------------------------

# expect_kubectl OUTCOME PATTERN -- KUBECTL ARGS...
expect_kubectl() {
  local outcome=$1 pattern=$2 rc=0 out err what
  [[ $3 == -- ]] || fail "expect_kubectl: usage: expect_kubectl allow|warn|deny PATTERN -- KUBECTL ARGS"
  shift 3
  out=$E2E_WORK/kubectl.out
  err=$E2E_WORK/kubectl.err
  k "$@" >"$out" 2>"$err" || rc=$?
  what="kubectl $*"
  case $outcome in
    allow)
      [[ $rc -eq 0 ]] || { cat "$err" >&2; fail "$what: expected allow, got exit $rc"; }
      if grep -q '^Warning: wirecheck' "$err"; then cat "$err" >&2; fail "$what: expected no wirecheck warning"; fi
      ;;
    warn)
      [[ $rc -eq 0 ]] || { cat "$err" >&2; fail "$what: expected allow with a warning, got exit $rc"; }
      grep '^Warning:' "$err" | grep -qE -- "$pattern" \
        || { cat "$err" >&2; fail "$what: expected a warning matching /$pattern/"; }
      ;;
    deny)
      [[ $rc -ne 0 ]] || { cat "$out" "$err" >&2; fail "$what: expected a deny, was allowed"; }
      grep -q 'admission webhook "validate.wirecheck.dev" denied the request' "$err" \
        || { cat "$err" >&2; fail "$what: failed, but not denied by wirecheck"; }
      grep -qE -- "$pattern" "$err" \
        || { cat "$err" >&2; fail "$what: denial does not match /$pattern/"; }
      ;;
    *) fail "expect_kubectl: unknown outcome $outcome" ;;
  esac
  # shellcheck disable=SC2034  # for the calling test
  E2E_STDERR=$(<"$err")
}

# expect_apply OUTCOME PATTERN < MANIFEST: kubectl apply in the test namespace.
expect_apply() {
  expect_kubectl "$1" "$2" -- -n "$E2E_NS" apply -f -
}
