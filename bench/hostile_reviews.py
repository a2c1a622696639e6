#!/usr/bin/env python3
"""Writes the AdmissionReviews that once blew up a server's memory or CPU
(issue 10), for scripts/bench-hostile.sh:

  empty-containers.json   an 8 MiB Deployment review whose containers are all `{}`
  loopback-probes-16k.json a Deployment of 16,384 containers that each bind
                           127.0.0.1:8080 and probe 8080 (1.9 MB)
  loopback-probes-1000.json  the same with 1,000 containers (under the decode cap:
                           the rule itself runs)
  env-expansion.json      one container whose env values each reference the
                           previous one twice (unbounded expansion doubles per entry)
"""
import json
import sys

LIMIT = 8 * 1024 * 1024
# 2^16 KiB = 64 MiB once fully expanded: enough to show the cost, safe to run
# against an unbounded build. Thirty levels would be a terabyte.
LEVELS = 17


def review(obj, uid):
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "hostile",
            "namespace": "default",
            "operation": "CREATE",
            "userInfo": {"username": "bench"},
            "object": obj,
            "oldObject": None,
            "dryRun": True,
        },
    }


def deployment(containers):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hostile", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "h"}},
            "template": {"metadata": {"labels": {"app": "h"}}, "spec": {"containers": containers}},
        },
    }


def empty_containers():
    base = json.dumps(review(deployment([]), "empty-containers"), separators=(",", ":"))
    n = (LIMIT - len(base) - 16) // 3
    return base.replace('"containers":[]', '"containers":[' + ",".join(["{}"] * n) + "]")


def loopback_probes(n):
    containers = [
        {
            "name": f"c{i}",
            "image": "app",
            "args": ["--metrics-bind-address=127.0.0.1:8080"],
            "readinessProbe": {"httpGet": {"port": 8080}},
        }
        for i in range(n)
    ]
    return json.dumps(review(deployment(containers), f"loopback-{n}"), separators=(",", ":"))


def env_expansion():
    env = [{"name": "V0", "value": "x" * 1024}]
    for i in range(1, LEVELS):
        env.append({"name": f"V{i}", "value": f"$(V{i-1})$(V{i-1})"})
    c = {"name": "c", "image": "app", "env": env, "args": [f"--metrics-bind-address=$(V{LEVELS - 1}):8080"]}
    return json.dumps(review(deployment([c]), "env-expansion"), separators=(",", ":"))


if __name__ == "__main__":
    out = sys.argv[1]
    for name, text in [
        ("empty-containers", empty_containers()),
        ("loopback-probes-16k", loopback_probes(16384)),
        ("loopback-probes-1000", loopback_probes(1000)),
        ("env-expansion", env_expansion()),
    ]:
        with open(f"{out}/{name}.json", "w") as f:
            f.write(text)
