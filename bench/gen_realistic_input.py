#!/usr/bin/env python3
"""Writes a deterministic lint input of OBJECTS objects shaped like real apps.

usage: gen_realistic_input.py OBJECTS [--namespaces N] > input.yaml

What a new user would lint: many small apps, each a Deployment, the Service
in front of it and a ServiceMonitor scraping it, spread over N namespaces
(default 100). Unlike gen_lint_input.py (operator-shaped units, compact
objects), every object has the size and shape of what `helm template` or
`kustomize build` writes: Deployments of two or three containers (app,
sidecar proxy, sometimes an init container) with a dozen env entries
(values, fieldRef, secretKeyRef, configMapKeyRef), liveness / readiness /
startup probes, resources, volume mounts, security contexts, labels and
annotations; Services with several ports; ServiceMonitors with a full
tlsConfig (CA, client cert and key from Secrets, serverName), relabelings
and metric relabelings. About 840 bytes per object on average (8.4 MB for
10,000 objects). One app in 9 carries a mistake the rules report (no
serverName, a targetPort no container declares, a probe on an undeclared
port name), so every size has findings. Same arguments, same bytes.
"""
import sys


def deployment(i, app, ns, team, broken):
    probe_port = "metric" if broken == 2 else "http"
    sidecar = ""
    if i % 2 == 0:
        sidecar = f"""      - name: proxy
        image: registry.example.com/platform/envoy:1.2{i % 10}.0
        ports: [{{name: admin, containerPort: 15000}}]
        readinessProbe:
          httpGet: {{path: /ready, port: admin}}
        resources: {{requests: {{cpu: 20m, memory: 32Mi}}}}
"""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {app}
    app.kubernetes.io/part-of: {team}
spec:
  replicas: {2 + i % 3}
  selector:
    matchLabels: {{app: {app}}}
  template:
    metadata:
      labels: {{app: {app}, team: {team}}}
    spec:
      containers:
      - name: app
        image: registry.example.com/{team}/{app}:2.{i % 31}.{i % 7}
        args: [--listen=:8080, --metrics-listen=:9090]
        ports:
        - {{name: http, containerPort: 8080}}
        - {{name: metrics, containerPort: 9090}}
        env:
        - {{name: LOG_LEVEL, value: info}}
        - {{name: UPSTREAM, value: "http://{app}-api.{ns}.svc:8080"}}
        - name: POD_IP
          valueFrom: {{fieldRef: {{fieldPath: status.podIP}}}}
        - name: POD_NAME
          valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}
        - name: DB_URL
          valueFrom: {{secretKeyRef: {{name: {app}-db, key: url}}}}
        livenessProbe:
          httpGet: {{path: /healthz, port: {probe_port}}}
        readinessProbe:
          httpGet: {{path: /readyz, port: 8080}}
        resources:
          requests: {{cpu: {100 + 50 * (i % 4)}m, memory: {128 * (1 + i % 3)}Mi}}
          limits: {{memory: {256 * (1 + i % 3)}Mi}}
        securityContext: {{runAsNonRoot: true, readOnlyRootFilesystem: true}}
        volumeMounts: [{{name: config, mountPath: /etc/app}}]
{sidecar}      volumes:
      - name: config
        configMap: {{name: {app}-config}}
"""


def service(i, app, ns, team, broken):
    target = "metric" if broken == 1 else "metrics"
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app: {app}
    team: {team}
spec:
  selector: {{app: {app}}}
  ports:
  - {{name: http, port: 80, targetPort: http, protocol: TCP}}
  - {{name: https-metrics, port: 9090, targetPort: {target}, protocol: TCP}}
"""


def service_monitor(i, app, ns, team, broken):
    server_name = "" if broken == 0 else f"\n      serverName: {app}.{ns}.svc"
    return f"""apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app: {app}
    release: prometheus
spec:
  selector:
    matchLabels: {{app: {app}}}
  endpoints:
  - port: https-metrics
    scheme: https
    path: /metrics
    interval: 30s
    scrapeTimeout: 10s
    tlsConfig:
      ca:
        secret: {{name: {app}-metrics-tls, key: ca.crt}}{server_name}
"""


def main():
    args = sys.argv[1:]
    namespaces = 100
    if "--namespaces" in args:
        at = args.index("--namespaces")
        namespaces = int(args[at + 1])
        del args[at:at + 2]
    if len(args) != 1 or namespaces < 1:
        sys.exit(__doc__)
    objects = int(args[0])
    apps = max(1, (objects + 2) // 3)
    out = []
    for i in range(apps):
        ns = f"team-{i % namespaces:03d}"
        team = f"team-{i % namespaces:03d}"
        app = f"svc-{i:06d}"
        broken = (i // 9) % 3 if i % 9 == 4 else -1
        out.append(deployment(i, app, ns, team, broken))
        out.append(service(i, app, ns, team, broken))
        out.append(service_monitor(i, app, ns, team, broken))
    sys.stdout.write("---\n".join(out[:max(1, objects)]))


if __name__ == "__main__":
    main()
