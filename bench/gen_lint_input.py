#!/usr/bin/env python3
"""Writes a deterministic lint input of about OBJECTS Kubernetes objects.

usage: gen_lint_input.py OBJECTS [--layout spread|one-namespace] > input.yaml

Objects come in operator-shaped units of 10 that reference each other the
way real installs do: a Deployment, the Services selecting its pods (webhook
and metrics), a ServiceMonitor selecting the metrics Service by label with a
tlsConfig whose CA Secret a cert-manager Certificate writes, a Certificate
for the webhook Service's DNS names, a Validating and a Mutating webhook
configuration pointing at that Service, a PodMonitor selecting the pods and
a ConfigMap (a kind no rule inspects). One unit in 7 carries mistakes
(ServiceMonitor without serverName, a webhook pointing at a missing Service,
a Service targetPort no container declares) so rules report findings.

Layouts: `spread` puts 10 units (100 objects) in each namespace; in
`one-namespace` every unit shares one namespace, the shape that exposes
per-object scans of a namespace. Same arguments, same bytes.
"""
import sys

UNIT = 10


def certificate(name, secret, service, ns):
    return f"""apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {name}
  namespace: {ns}
spec:
  secretName: {secret}
  issuerRef: {{kind: ClusterIssuer, name: fleet-ca}}
  dnsNames:
  - {service}.{ns}.svc
  - {service}.{ns}.svc.cluster.local
"""


def unit(i, ns, out):
    app = f"app-{i:06d}"
    broken = i % 7 == 3
    labels = f"""      app.kubernetes.io/name: {app}
      app.kubernetes.io/part-of: fleet
      tier: t{i % 5}"""
    out.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {ns}
  labels:
{labels}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  template:
    metadata:
      labels:
  {labels.replace(chr(10), chr(10) + '  ')}
    spec:
      containers:
      - name: manager
        image: registry.example.com/{app}:v1.{i % 13}.0
        args:
        - --metrics-bind-address=:8443
        - --health-probe-bind-address=:8081
        - --leader-elect
        ports:
        - name: webhook-server
          containerPort: 9443
          protocol: TCP
        - name: metrics
          containerPort: 8443
        - name: health
          containerPort: 8081
        livenessProbe:
          httpGet:
            path: /healthz
            port: health
        readinessProbe:
          httpGet:
            path: /readyz
            port: 8081
        resources:
          limits: {{cpu: 500m, memory: 128Mi}}
          requests: {{cpu: 10m, memory: "64Mi"}}
""")
    out.append(f"""apiVersion: v1
kind: Service
metadata:
  name: {app}-webhook
  namespace: {ns}
spec:
  selector:
    app.kubernetes.io/name: {app}
  ports:
  - name: https
    port: 443
    targetPort: {'webhook-srv' if broken else 'webhook-server'}
""")
    out.append(f"""apiVersion: v1
kind: Service
metadata:
  name: {app}-metrics
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
    monitoring: "true"
spec:
  selector:
    app.kubernetes.io/name: {app}
  ports:
  - name: https-metrics
    port: 8443
    targetPort: metrics
""")
    server_name = "" if broken else f"\n      serverName: {app}-metrics.{ns}.svc"
    out.append(f"""apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {app}
  namespace: {ns}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
      monitoring: "true"
  endpoints:
  - port: https-metrics
    scheme: https
    path: /metrics
    interval: 30s
    bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
    tlsConfig:
      ca:
        secret:
          name: {app}-metrics-cert
          key: ca.crt{server_name}
""")
    out.append(certificate(f"{app}-metrics-cert", f"{app}-metrics-cert", f"{app}-metrics", ns))
    out.append(certificate(f"{app}-serving-cert", f"{app}-webhook-cert", f"{app}-webhook", ns))
    target = f"{app}-webhook-gone" if broken else f"{app}-webhook"
    for kind, verb in (("ValidatingWebhookConfiguration", "validate"),
                       ("MutatingWebhookConfiguration", "mutate")):
        out.append(f"""apiVersion: admissionregistration.k8s.io/v1
kind: {kind}
metadata:
  name: {app}-{verb}
  annotations:
    cert-manager.io/inject-ca-from: {ns}/{app}-serving-cert
webhooks:
- name: {verb}.{app}.example.dev
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: 5
  namespaceSelector:
    matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: [kube-system, {ns}]
  clientConfig:
    service:
      name: {target}
      namespace: {ns}
      path: /{verb}-v1-widget
  rules:
  - apiGroups: ["example.dev"]
    apiVersions: ["v1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["widgets"]
""")
    out.append(f"""apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata:
  name: {app}-pods
  namespace: {ns}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: {app}
  podMetricsEndpoints:
  - port: health
    path: /metrics
""")
    out.append(f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-config
  namespace: {ns}
data:
  mode: "0755"
  retries: 1e3
  enabled: yes
  config.yaml: |
    leaderElection: true
    metrics:
      bindAddress: :8443
""")


def main():
    args = sys.argv[1:]
    layout = "spread"
    if "--layout" in args:
        at = args.index("--layout")
        layout = args[at + 1]
        del args[at:at + 2]
    if len(args) != 1 or layout not in ("spread", "one-namespace"):
        sys.exit(__doc__)
    units = max(1, int(args[0]) // UNIT)
    out = []
    for i in range(units):
        ns = "fleet" if layout == "one-namespace" else f"team-{i // 10:05d}"
        unit(i, ns, out)
    sys.stdout.write("---\n".join(out))


if __name__ == "__main__":
    main()
