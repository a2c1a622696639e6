// Probe and RBAC-proxy rules: what the findings say (message, fix, path) and
// at which severity, per branch of RULES.md, on top of the generic fixture
// test. The bind detection itself is tested in loopback_test.cpp.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support.hpp"
#include "wide_pod.hpp"
#include "wirecheck/settings.hpp"

namespace wirecheck {
namespace {

using policy::Finding;
using policy::Severity;
using testing::contains;
using testing::fixture_findings;
using testing::of_rule;
using testing::yaml_findings;

constexpr const char* kLoopback = "probe-targets-loopback-port";
constexpr const char* kNotDeclared = "probe-port-not-declared";
constexpr const char* kBypass = "rbac-proxy-bypass";

// A Pod with a sidecar and a manager whose args and probe are given.
std::string pod(std::string_view manager_args, std::string_view probe, bool host_network = false) {
  return std::string(R"(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: demo}
spec:
  hostNetwork: )") +
         (host_network ? "true" : "false") + R"(
  containers:
  - name: sidecar
    image: sidecar
  - name: manager
    image: manager
    args: )" + std::string(manager_args) + R"(
    ports: [{containerPort: 8080, name: metrics}]
)" + std::string(probe);
}

}  // namespace

// ------------------------------------------------- probe-targets-loopback-port

TEST_CASE("probe-targets-loopback-port: readiness probe on a port bound to 127.0.0.1 -> deny with path and fix") {
  const auto f = yaml_findings(kLoopback, pod(R"(["--metrics-bind-address=127.0.0.1:8080"])", R"(    readinessProbe:
      httpGet: {path: /readyz, port: metrics}
)"));
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.containers[1].readinessProbe.httpGet.port");
  CHECK(f[0].message ==
        "readinessProbe of manager dials the pod IP on 8080, which manager binds to 127.0.0.1 only "
        "(--metrics-bind-address=127.0.0.1:8080): the probe always fails, the pod never becomes Ready");
  CHECK(f[0].fix ==
        "remove the readinessProbe or serve health on a separate port bound on all interfaces and probe that; "
        "--metrics-bind-address=:8080 in manager works too but exposes 8080 unauthenticated");
}

TEST_CASE("probe-targets-loopback-port: the RBAC-proxy chart case -> one deny listing both probes, fix probes the proxy") {
  const auto f = fixture_findings(kLoopback, "fail.ksm-rbac-proxy-probes.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].paths == std::vector<std::string>{"spec.template.spec.containers[0].livenessProbe.httpGet.port",
                                               "spec.template.spec.containers[0].readinessProbe.httpGet.port"});
  CHECK(contains(f[0].message, "(--host=127.0.0.1 --port=8081)"));
  CHECK(contains(f[0].message, "the container restarts in a loop"));
  // The proxy serves TLS (--secure-listen-address): the probe must too.
  CHECK(contains(f[0].fix, "probe kube-rbac-proxy-http on 8080 (scheme: HTTPS"));
  CHECK(contains(f[0].fix, "--host=0.0.0.0 in kube-state-metrics"));
}

TEST_CASE("probe-targets-loopback-port: a plain-HTTP proxy in front -> the fix probes it with scheme HTTP") {
  const auto f = yaml_findings(kLoopback, R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: exporter, namespace: demo}
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    metadata: {labels: {app: exporter}}
    spec:
      containers:
      - name: exporter
        image: example/exporter:1
        args: [--web.listen-address=127.0.0.1:9100]
        readinessProbe: {httpGet: {port: 9100, path: /healthz}}
      - name: proxy
        image: example/auth-proxy:1
        args: [--insecure-listen-address=0.0.0.0:9101, --upstream=http://127.0.0.1:9100/]
)");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].fix, "probe proxy on 9101 (scheme: HTTP,"));
}

TEST_CASE("probe-targets-loopback-port: kube-state-metrics default ports apply when only the host flags are set") {
  const auto f = fixture_findings(kLoopback, "fail.default-ports.yaml");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "dials the pod IP on 8081"));
  CHECK(contains(f[0].message, "(--telemetry-host 127.0.0.1)"));
}

TEST_CASE("probe-targets-loopback-port: tcpSocket, grpc and startup probes, IPv6 loopback and $(VAR) binds") {
  const auto startup = fixture_findings(kLoopback, "fail.named-port-via-env.yaml");
  REQUIRE(startup.size() == 1);
  CHECK(startup[0].path == "spec.template.spec.containers[0].startupProbe.tcpSocket.port");
  CHECK(contains(startup[0].message, "binds to localhost only"));
  CHECK(contains(startup[0].message, "killed before it starts"));

  const auto grpc = fixture_findings(kLoopback, "fail.grpc-ipv6-loopback.yaml");
  REQUIRE(grpc.size() == 1);
  CHECK(grpc[0].path == "spec.containers[0].livenessProbe.grpc.port");
  CHECK(contains(grpc[0].message, "binds to [::1] only"));
}

TEST_CASE("probe-targets-loopback-port: an explicit host is judged by that host") {
  const std::string probe = R"(    livenessProbe:
      httpGet: {host: 127.0.0.1, path: /healthz, port: 8080}
)";
  // Loopback host: the kubelet dials loopback, which a hostNetwork pod's
  // loopback listener answers (the static control-plane pattern).
  CHECK(yaml_findings(kLoopback, pod(R"(["--metrics-addr=127.0.0.1:8080"])", probe, true)).empty());
  CHECK(yaml_findings(kLoopback, pod(R"(["--metrics-addr=127.0.0.1:8080"])", probe)).empty());

  const auto other = fixture_findings(kLoopback, "fail.explicit-non-loopback-host.yaml");
  REQUIRE(other.size() == 1);
  CHECK(contains(other[0].message, "dials 10.0.0.12 on 8080"));
  CHECK(fixture_findings(kLoopback, "fail.hostnetwork-without-host.yaml").size() == 1);
}

TEST_CASE("probe-targets-loopback-port: another container binding the port on all interfaces -> no deny") {
  const auto f = yaml_findings(kLoopback, R"(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: demo}
spec:
  containers:
  - name: a
    image: a
    args: ["--listen-address=127.0.0.1:9000"]
    readinessProbe:
      tcpSocket: {port: 9000}
  - name: b
    image: b
    args: ["--bind-address=0.0.0.0:9000"]
)");
  CHECK(f.empty());
}

TEST_CASE("probe-targets-loopback-port: the fix points at a health port bound on all interfaces when there is one") {
  const auto f = yaml_findings(kLoopback, pod(R"(["--metrics-bind-address=127.0.0.1:8080", "--health-probe-bind-address=:8081"])",
                                              R"(    livenessProbe:
      httpGet: {path: /metrics, port: 8080}
)"));
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].fix, "point it at 8081 (--health-probe-bind-address=:8081 in manager)"));
}

TEST_CASE("probe-targets-loopback-port: flags added by configuration count as listen flags") {
  const std::string yaml = pod(R"(["--stats-listen=127.0.0.1:8080"])", R"(    readinessProbe:
      httpGet: {path: /, port: 8080}
)");
  CHECK(yaml_findings(kLoopback, yaml).empty());
  policy::Settings s = policy::Settings::defaults();
  s.listen_flags.push_back("--stats-listen");
  const auto f = yaml_findings(kLoopback, yaml, s);
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].fix, "--stats-listen=:8080"));
}

TEST_CASE("probe-targets-loopback-port: an unresolvable probe port name is left to probe-port-not-declared") {
  const auto set = testing::load_yaml(pod(R"(["--metrics-bind-address=127.0.0.1:8080"])", R"(    readinessProbe:
      httpGet: {path: /readyz, port: health}
)"));
  const auto all = testing::evaluate(set);
  CHECK(of_rule(all, kLoopback).empty());
  CHECK(of_rule(all, kNotDeclared).size() == 1);
}

// ---------------------------------------------------- probe-port-not-declared

TEST_CASE("probe-port-not-declared: undeclared name -> deny with the container's health port in the fix") {
  const auto f = fixture_findings(kNotDeclared, "fail.http-name-missing.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.template.spec.containers[0].livenessProbe.httpGet.port");
  CHECK(f[0].message ==
        "livenessProbe of manager uses port name \"healthz\", which manager does not declare: the kubelet cannot "
        "resolve it, the probe fails and the container restarts in a loop");
  CHECK(f[0].fix == "declare containerPort 8081 named healthz in container manager (it serves health there), or set the probe "
        "port to 8081");
}

TEST_CASE("probe-port-not-declared: name declared by another container -> deny saying names resolve per container") {
  const auto f = fixture_findings(kNotDeclared, "fail.declared-in-other-container.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "spec.template.spec.containers[1].readinessProbe.httpGet.port");
  CHECK(contains(f[0].message, "(app does, but names resolve per container)"));
  // Nothing on the command lines says who listens on 8080: only who declares it.
  CHECK(f[0].fix ==
        "set the probe port to 8080 (the number container app declares under that name; names resolve only within "
        "the probed container)");
}

TEST_CASE("probe-port-not-declared: a near-miss name -> the fix proposes the declared one") {
  const auto f = fixture_findings(kNotDeclared, "fail.tcp-socket-startup.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "spec.containers[0].startupProbe.tcpSocket.port");
  CHECK(f[0].fix == "set the probe port to postgresql (5432), or declare a containerPort named postgres in container db");
}

TEST_CASE("probe-port-not-declared: numbers, numeric strings and exec probes need no declaration") {
  CHECK(yaml_findings(kNotDeclared, R"(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: demo}
spec:
  containers:
  - name: c
    image: c
    livenessProbe:
      httpGet: {path: /, port: "8080"}
    readinessProbe:
      tcpSocket: {port: 8080}
    startupProbe:
      exec: {command: ["true"]}
)")
            .empty());
}

// ---------------------------------------------------------- rbac-proxy-bypass

TEST_CASE("rbac-proxy-bypass: port flag without host behind a proxy -> warn at the flag, fix adds the host") {
  const auto f = fixture_findings(kBypass, "fail.port-flag-default-host.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.template.spec.containers[0].args[0]");
  CHECK(f[0].message ==
        "kube-rbac-proxy fronts 8081 (--upstream=http://127.0.0.1:8081/), but kube-state-metrics binds 8081 on all "
        "interfaces (--port=8081, no --host): the pod IP serves it without authentication");
  CHECK(f[0].fix == "bind kube-state-metrics to loopback: add --host=127.0.0.1");
}

TEST_CASE("rbac-proxy-bypass: listen flag on all interfaces behind a localhost upstream -> warn with the loopback value") {
  const auto f = fixture_findings(kBypass, "fail.metrics-bind-all-interfaces.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "spec.template.spec.containers[1].args[0]");
  CHECK(contains(f[0].message, "(--upstream http://localhost:8080/)"));
  CHECK(f[0].fix == "bind manager to loopback: set --metrics-bind-address=127.0.0.1:8080");
}

TEST_CASE("rbac-proxy-bypass: any proxy with a loopback upstream counts, IPv6 included") {
  const auto f = fixture_findings(kBypass, "fail.oauth-proxy-ipv6.yaml");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "oauth2-proxy fronts 3000"));
  CHECK(f[0].fix == "bind dashboard to loopback: set --web.listen-address=127.0.0.1:3000");
}

// ------------------------------------------------------------------- corpus

TEST_CASE("probes: correct real manifests give no finding of these rules") {
  const std::string shared = testing::shared_dir();
  for (const char* name : {"kube-state-metrics-chart-5.27.0-default", "kube-prometheus-v0.14.0-kube-state-metrics",
                           "emqx-operator-1.1.4-release", "emqx-operator-1.1.7-release",
                           "cert-manager-v1.10.1-static-install", "kubebuilder-v4.15.0-multiversion-fixed",
                           "external-secrets-chart-0.9.20-certmanager"}) {
    INFO("corpus case " << name);
    core::ManifestSet set;
    core::load_path(shared + "/corpus/" + name, set);
    const auto all = testing::evaluate_all(set);
    for (const char* rule : {kLoopback, kNotDeclared, kBypass}) {
      for (const Finding& f : of_rule(all, rule)) {
        FAIL_CHECK("unexpected " << f.rule << " on " << f.object.name << " at " << f.path << ": " << f.message);
      }
    }
  }
}

TEST_CASE("probe-port-not-declared: the container's only other port is not proposed (it may serve metrics)") {
  const auto f = yaml_findings(kNotDeclared, R"(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: demo}
spec:
  containers:
  - name: app
    image: example/app:1
    ports: [{name: metrics, containerPort: 9090}]
    readinessProbe: {httpGet: {port: healthz, path: /healthz}}
)");
  REQUIRE(f.size() == 1);
  CHECK_FALSE(contains(f[0].fix, "metrics"));
  CHECK_FALSE(contains(f[0].fix, "9090"));
  CHECK(contains(f[0].fix, "declare a containerPort named healthz in container app"));
}

}  // namespace wirecheck

// ------------------------------------------------------------------ scale

namespace wirecheck {

using testing::wide_pod;

TEST_CASE("probes: 16,384 containers probing a loopback port -> every finding, linear in the pod") {
  // This took 67 s when each finding rescanned the pod for a fix
  // (bench: BM_LoopbackProbes shows the per-container cost stays flat).
  const core::Object o = wide_pod(16384);
  const policy::Engine engine;
  const policy::EmptyContext none;
  const auto findings = engine.evaluate(o, nullptr, policy::Operation::kCreate, none);
  // One finding per rule, listing every probe's path (the engine merges).
  const auto loopback = of_rule(findings, kLoopback);
  REQUIRE(loopback.size() == 1);
  CHECK(loopback.front().paths.size() == 16384);
  CHECK(loopback.front().path == "spec.template.spec.containers[0].readinessProbe.httpGet.port");
  CHECK(contains(loopback.front().fix, "point it at 8081 (--health-probe-bind-address=:8081 in open)"));
  const auto undeclared = of_rule(findings, kNotDeclared);
  REQUIRE(undeclared.size() == 1);
  CHECK(undeclared.front().paths.size() == 16384);
  CHECK(contains(undeclared.front().fix, "declare a containerPort named health in container c0"));
  const auto bypass = of_rule(findings, kBypass);
  REQUIRE(bypass.size() == 1);
  CHECK(contains(bypass.front().message, "proxy-9090 fronts 9090"));
}

TEST_CASE("probes: the fix names the proxy fronting the port when no health port exists") {
  core::Object o = wide_pod(3);
  auto& containers = std::get<core::PodTemplate>(o.spec).containers;
  containers.pop_back();  // proxy-9090
  containers.back().args = {"--metrics-bind-address=:9090"};  // "open" has no health port now
  const auto f = of_rule(policy::Engine().evaluate(o, nullptr, policy::Operation::kCreate, policy::EmptyContext()),
                         kLoopback);
  REQUIRE(f.size() == 1);
  CHECK(f.front().paths.size() == 3);
  CHECK(contains(f.front().fix, "probe kube-rbac-proxy on 8443 (scheme: HTTPS, path allowed without auth)"));
}

TEST_CASE("probe-targets-loopback-port: a proxy whose port another container binds on all interfaces is not offered") {
  // The manager holds 9101 on all interfaces: whatever answers there, it is
  // not the proxy, so probing "the proxy on 9101" would be a wrong fix.
  const auto f = yaml_findings(kLoopback, R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: exporter, namespace: demo}
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    metadata: {labels: {app: exporter}}
    spec:
      containers:
      - name: exporter
        image: example/exporter:1
        args: [--web.listen-address=127.0.0.1:9100]
        readinessProbe: {httpGet: {port: 9100, path: /healthz}}
      - name: proxy
        image: example/auth-proxy:1
        args: [--insecure-listen-address=0.0.0.0:9101, --upstream=http://127.0.0.1:9100/]
      - name: manager
        image: example/manager:1
        args: [--metrics-bind-address=:9101]
)");
  REQUIRE(f.size() == 1);
  CHECK_FALSE(contains(f[0].fix, "probe proxy"));
  CHECK(contains(f[0].fix, "serve health on a separate port bound on all interfaces and probe that"));
}

TEST_CASE("probe-port-not-declared: the number another container declares -> the fix names who listens there") {
  // kube-rbac-proxy declares `https` (8443), but the manager binds 8443 on all
  // addresses: the fix must not say the proxy serves it.
  const std::string deployment = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: ctl, namespace: demo}
spec:
  selector: {matchLabels: {app: ctl}}
  template:
    metadata: {labels: {app: ctl}}
    spec:
      containers:
      - name: manager
        image: example/manager:1
        args: [MANAGER_ARGS]
        readinessProbe: {tcpSocket: {port: https}}
      - name: kube-rbac-proxy
        image: quay.io/brancz/kube-rbac-proxy:v0.18.1
        ports: [{name: https, containerPort: 8443}]
)";
  auto with_args = [&](std::string_view args) {
    std::string yaml = deployment;
    yaml.replace(yaml.find("MANAGER_ARGS"), 12, args);
    return yaml_findings(kNotDeclared, yaml);
  };
  const auto listens = with_args("--metrics-bind-address=:8443");
  REQUIRE(listens.size() == 1);
  CHECK(listens[0].fix ==
        "set the probe port to 8443 (container manager listens there; kube-rbac-proxy only declares the name; names "
        "resolve only within the probed container)");
  CHECK_FALSE(contains(listens[0].fix, "served by"));

  // Bound to loopback only: the number would fail the probe too.
  const auto loopback = with_args("--metrics-bind-address=127.0.0.1:8443");
  REQUIRE(loopback.size() == 1);
  CHECK(loopback[0].fix ==
        "probe a port served on all interfaces: 8443 (declared by container kube-rbac-proxy) is bound to "
        "127.0.0.1:8443 by manager, which the kubelet cannot reach");

  // Control: nothing says who listens: the declaration is all there is.
  const auto unknown = with_args("--leader-elect");
  REQUIRE(unknown.size() == 1);
  CHECK(unknown[0].fix ==
        "set the probe port to 8443 (the number container kube-rbac-proxy declares under that name; names resolve "
        "only within the probed container)");
}

}  // namespace wirecheck
