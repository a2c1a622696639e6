#!/usr/bin/env bash
# Captures the AdmissionReview requests a real kube-apiserver sends to a
# validating webhook, byte for byte, into tests/fixtures/admission/ (the
# server tests replay them). One command regenerates them all:
#
#   scripts/capture-admission.sh [OUT_DIR]
#
# Uses the e2e tier's cluster (scripts/envtest.sh) when one is running (its
# ENVTEST_DIR / ENVTEST_PORT_BASE), else installs, starts and at the end
# stops one of its own. A recording webhook (python3 stdlib, HTTPS on
# 127.0.0.1, a throwaway CA as caBundle) writes every request body it
# receives as <operation>-<kind>-<name>[-<qualifier>].json and answers
# allowed with a warning, or denied (403) for objects labelled deny=yes
# (deny-on=DELETE: only their DELETE). The scenario below (kubectl create,
# apply, dry runs, label, server-side apply, delete, a CRD with the
# APIService the API server registers for it, an APIService) runs in
# namespace demo. Files of an earlier capture are replaced;
# tests/fixtures/admission/README.md says what produced which.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$(realpath -m "${1:-$ROOT/tests/fixtures/admission}")
ENVTEST=$ROOT/scripts/envtest.sh
command -v python3 >/dev/null || { echo "capture-admission: python3 is required" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/wirecheck-capture.XXXXXX")
STARTED='' RECORDER='' VWC=capture-admission-wirecheck
if ! env=$("$ENVTEST" env 2>/dev/null); then
  export ENVTEST_DIR=${ENVTEST_DIR:-$WORK/envtest}
  "$ENVTEST" install
  "$ENVTEST" start
  STARTED=1
  env=$("$ENVTEST" env)
fi
eval "$env"
k() { "$ENVTEST_KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }

cleanup() {
  local rc=$?
  set +e
  k delete validatingwebhookconfiguration "$VWC" --ignore-not-found >/dev/null 2>&1
  k delete namespace demo --ignore-not-found --wait=false >/dev/null 2>&1
  k delete customresourcedefinition widgets.e2e.local --ignore-not-found >/dev/null 2>&1
  k delete apiservice v1alpha1.missing.e2e.local --ignore-not-found >/dev/null 2>&1
  [[ -z $RECORDER ]] || { kill "$RECORDER" 2>/dev/null; wait "$RECORDER" 2>/dev/null; }
  [[ -z $STARTED ]] || "$ENVTEST" stop
  [[ $rc -eq 0 ]] || echo "capture-admission: failed; recorder log: $WORK/recorder.log" >&2
  [[ $rc -ne 0 ]] || rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the recording webhook ----------------------------------------------------
CERT_DIR=$WORK/certs
mkdir -p "$CERT_DIR" "$WORK/out"
CERT_DIR=$CERT_DIR "$ROOT/certs/gen-dev-certs.sh" 2>/dev/null
: > "$WORK/qualifier"
cat > "$WORK/recorder.py" <<'PY'
import http.server, json, os, ssl, sys
out, certs, qualifier_file, port_file = sys.argv[1:5]
counts = {}
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, fmt, *args):
        sys.stderr.write("recorder: " + fmt % args + "\n")
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = json.loads(body)["request"]
        obj = request.get("object") or request.get("oldObject") or {}
        labels = (obj.get("metadata") or {}).get("labels") or {}
        name = request.get("name") or (obj.get("metadata") or {}).get("name", "unnamed")
        deny = labels.get("deny") == "yes" and labels.get("deny-on", request["operation"]) == request["operation"]
        if name.startswith("capture-probe-"):
            open(os.path.join(out, "..", "probe-seen"), "w").close()
        else:
            qualifier = open(qualifier_file).read().strip()
            if request["userInfo"].get("username") == "system:apiserver":
                qualifier = "auto"
            base = "-".join([request["operation"].lower(), request["kind"]["kind"].lower(), name] +
                            ([qualifier] if qualifier else []))
            counts[base] = counts.get(base, 0) + 1
            suffix = "" if counts[base] == 1 else "-%d" % counts[base]
            with open(os.path.join(out, base + suffix + ".json"), "wb") as f:
                f.write(body)
        response = {"uid": request["uid"], "allowed": not deny,
                    "warnings": ["capture: %s %s" % (request["kind"]["kind"], name)]}
        if deny:
            response["status"] = {"code": 403, "message": "denied by capture"}
        answer = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                             "response": response}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(certs, "tls.crt"), os.path.join(certs, "tls.key"))
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
PY
python3 "$WORK/recorder.py" "$WORK/out" "$CERT_DIR" "$WORK/qualifier" "$WORK/port" 2>"$WORK/recorder.log" &
RECORDER=$!
for ((i = 0; i < 100; i++)); do [[ -s $WORK/port ]] && break; sleep 0.1; done
[[ -s $WORK/port ]] || { cat "$WORK/recorder.log" >&2; exit 1; }
PORT=$(<"$WORK/port")

# --- cluster set-up -------------------------------------------------------------
k apply -f "$ROOT/tests/e2e/crds/" >/dev/null
k wait --for condition=established --timeout=60s -f "$ROOT/tests/e2e/crds/" >/dev/null
k create namespace demo >/dev/null
k label namespace demo capture=yes >/dev/null
CA=$(base64 -w0 < "$CERT_DIR/ca.crt")
k apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: $VWC
webhooks:
  - name: capture.wirecheck.dev
    clientConfig: {url: "https://127.0.0.1:$PORT/validate", caBundle: "$CA"}
    sideEffects: None
    admissionReviewVersions: ["v1"]
    namespaceSelector: {matchLabels: {capture: "yes"}}
    rules:
      - {apiGroups: [""], apiVersions: ["v1"], operations: ["*"], resources: ["services"], scope: Namespaced}
      - {apiGroups: ["apps"], apiVersions: ["v1"], operations: ["*"], resources: ["deployments"], scope: Namespaced}
      - {apiGroups: ["monitoring.coreos.com"], apiVersions: ["v1"], operations: ["*"], resources: ["servicemonitors", "podmonitors"], scope: Namespaced}
      - {apiGroups: ["cert-manager.io"], apiVersions: ["v1"], operations: ["*"], resources: ["certificates"], scope: Namespaced}
  - name: capture-cluster.wirecheck.dev
    clientConfig: {url: "https://127.0.0.1:$PORT/validate", caBundle: "$CA"}
    sideEffects: None
    admissionReviewVersions: ["v1"]
    rules:
      - {apiGroups: ["apiextensions.k8s.io"], apiVersions: ["v1"], operations: ["*"], resources: ["customresourcedefinitions"], scope: Cluster}
      - {apiGroups: ["apiregistration.k8s.io"], apiVersions: ["v1"], operations: ["*"], resources: ["apiservices"], scope: Cluster}
YAML
# The API server picks the configuration up from an informer.
for ((i = 1; i <= 100; i++)); do
  k -n demo create service clusterip "capture-probe-$i" --tcp=80:8080 --dry-run=server >/dev/null 2>&1 || true
  [[ -e $WORK/probe-seen ]] && break
  sleep 0.2
done
[[ -e $WORK/probe-seen ]] || { echo "capture-admission: the API server never called the recorder" >&2; exit 1; }

# --- the scenario ---------------------------------------------------------------
q() { echo "${1:-}" > "$WORK/qualifier"; }
kd() { k -n demo "$@" >/dev/null 2>"$WORK/kubectl.err" || { echo "capture-admission: kubectl $* failed:" >&2; cat "$WORK/kubectl.err" >&2; return 1; }; }
denied() { if k -n demo "$@" >/dev/null 2>&1; then echo "capture-admission: expected a deny: $*" >&2; exit 1; fi; }

web() {  # the demo application; $1 = Deployment replicas
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports:
    - {name: https, port: 443, targetPort: https, protocol: TCP}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: $1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0
          args: ["--listen=127.0.0.1:8080"]
          ports: [{name: http, containerPort: 8080, protocol: TCP}]
          readinessProbe: {httpGet: {path: /readyz, port: 8080}}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
        - name: kube-rbac-proxy
          image: registry.example/kube-rbac-proxy:0.18
          args: ["--secure-listen-address=0.0.0.0:8443", "--upstream=http://127.0.0.1:8080/"]
          ports: [{name: https, containerPort: 8443, protocol: TCP}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  endpoints:
    - port: https
      scheme: https
      path: /metrics
      bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
      tlsConfig:
        ca: {secret: {name: web-tls, key: ca.crt}}
        serverName: web.demo.svc
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: web, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  podMetricsEndpoints:
    - {port: https, scheme: https, path: /metrics, tlsConfig: {insecureSkipVerify: true}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web-tls, labels: {app: web}}
spec:
  secretName: web-tls
  dnsNames: [web, web.demo, web.demo.svc]
  privateKey: {algorithm: ECDSA, size: 256}
  issuerRef: {kind: ClusterIssuer, name: platform-ca}
YAML
}
doc() {  # one document of web: $1 replicas, $2 kind
  web "$1" | awk -v kind="$2" 'BEGIN { RS = "---\n"; ORS = "" } $0 ~ ("\nkind: " kind "\n") { print }'
}
guarded() {  # $1 name, $2 extra label pairs
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: $1, labels: {deny: "yes"$2}}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
}
crd() {
  cat <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.e2e.local}
spec:
  group: e2e.local
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
YAML
}
apiservice() {
  cat <<'YAML'
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.missing.e2e.local}
spec:
  group: missing.e2e.local
  version: v1alpha1
  service: {name: missing, namespace: demo, port: 443}
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 1000
  versionPriority: 15
YAML
}

q dryrun; kd apply --dry-run=server -f <(web 1)
q;        kd apply -f <(web 1)
q label;  for o in service/web deployment/web servicemonitor/web podmonitor/web certificate/web-tls; do kd label "$o" edited=yes; done
q apply-dryrun; kd apply --dry-run=server -f <(doc 3 Deployment)
q apply;  kd apply -f <(web 2)
q ssa;    kd apply --server-side --force-conflicts --field-manager=capture -f <(doc 2 Service)
q dryrun; denied create --dry-run=server -f <(guarded denied "")
q;        denied create -f <(guarded denied "")
q;        kd create -f <(guarded protected ', deny-on: DELETE')
q dryrun; denied delete service protected --dry-run=server
q;        denied delete service protected
q dryrun; kd create --dry-run=server -f <(crd)
q;        kd create -f <(crd)
k wait --for condition=established --timeout=60s customresourcedefinition/widgets.e2e.local >/dev/null
q label;  kd label customresourcedefinition widgets.e2e.local edited=yes
q dryrun; kd create --dry-run=server -f <(apiservice)
q;        kd create -f <(apiservice)
q label;  kd label apiservice v1alpha1.missing.e2e.local edited=yes
q;        kd delete apiservice v1alpha1.missing.e2e.local
q dryrun; kd delete service web --dry-run=server
q;        for o in certificate/web-tls podmonitor/web servicemonitor/web deployment/web service/web; do kd delete "$o"; done
q;        kd delete customresourcedefinition widgets.e2e.local
# The API server's own APIService deletion follows the CRD's.
sleep 2

n=$(find "$WORK/out" -name '*.json' | wc -l)
[[ $n -ge 31 ]] || { ls "$WORK/out" >&2; echo "capture-admission: only $n requests captured" >&2; exit 1; }
mkdir -p "$OUT"
find "$OUT" -maxdepth 1 -name '*.json' -delete
cp "$WORK/out"/*.json "$OUT/"
echo "capture-admission: $n requests from $("$ENVTEST_KUBECTL" --kubeconfig "$KUBECONFIG" version -o json | python3 -c 'import json,sys; print("kube-apiserver", json.load(sys.stdin)["serverVersion"]["gitVersion"])') in $OUT" >&2
