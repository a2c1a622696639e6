// ServiceMonitor and PodMonitor rules: messages, fixes, paths and severities
// per branch. The generic fixture test checks that every fail.* fires and
// every pass.* does not; these tests check what the findings say.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support.hpp"
#include "wirecheck/context.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/object_index.hpp"

namespace wirecheck {
namespace {

using policy::Finding;
using policy::Severity;
using testing::contains;
using testing::fixture_findings;
using testing::of_rule;
using testing::yaml_findings;

constexpr const char* kTlsServerName = "servicemonitor-tls-servername";
constexpr const char* kEndpointIncomplete = "servicemonitor-endpoint-incomplete";
constexpr const char* kSchemeMismatch = "servicemonitor-scheme-tls-mismatch";
constexpr const char* kInsecure = "servicemonitor-insecure-skip-verify";
constexpr const char* kPortNotFound = "servicemonitor-port-not-found";
constexpr const char* kSelectsNothing = "servicemonitor-selects-nothing";
constexpr const char* kServerNameMismatch = "servicemonitor-servername-mismatch";

// The first document alone, with a context that knows nothing (the server
// before its cache is ready).
std::vector<Finding> no_context_findings(const std::string& rule, const std::string& file) {
  return of_rule(testing::no_context_findings(testing::load_fixture("rules/" + rule + "/" + file)), rule);
}

// The first document with every document as a complete (audit) view.
std::vector<Finding> complete_view_findings(const std::string& rule, const std::string& file) {
  const core::ManifestSet set = testing::load_fixture("rules/" + rule + "/" + file);
  return of_rule(testing::view_findings(set, 0, policy::Operation::kCreate, nullptr, /*complete=*/true), rule);
}

// ============================================== servicemonitor-tls-servername

TEST_CASE("tls-servername: https endpoint whose Service is in the input -> fix names <svc>.<ns>.svc") {
  const auto f = fixture_findings(kTlsServerName, "fail.https-no-servername.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.endpoints[0].tlsConfig.serverName");
  CHECK(contains(f[0].message, "doesn't contain any IP SANs"));
  CHECK(contains(f[0].message, "use cart-metrics.shop.svc (the selected Service)"));
  CHECK(f[0].fix == "add to spec.endpoints[0].tlsConfig: serverName: cart-metrics.shop.svc");
}

TEST_CASE("tls-servername: endpoint wiped by a merge patch (tlsConfig only, no scheme) -> deny naming the metrics Service") {
  const auto f = fixture_findings(kTlsServerName, "fail.patch-wiped-endpoint.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].fix ==
        "add to spec.endpoints[0].tlsConfig: serverName: "
        "controller-manager-metrics-service.project-system.svc");
}

TEST_CASE("tls-servername: scheme HTTPS without tlsConfig and no Service known -> says the form <service>.<namespace>.svc") {
  const auto f = fixture_findings(kTlsServerName, "fail.no-tlsconfig.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "use the selected Service's name, <service>.<namespace>.svc"));
  CHECK(contains(f[0].fix,
                 "add to spec.endpoints[0]: tlsConfig: {serverName: <service>.<namespace>.svc}"));
}

TEST_CASE("tls-servername: runs without any context, the message then gives the DNS form") {
  const auto f = no_context_findings(kTlsServerName, "fail.https-no-servername.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "<service>.<namespace>.svc"));
  CHECK(contains(f[0].fix, "serverName: <service>.<namespace>.svc"));
}

TEST_CASE("tls-servername: deprecated caFile with scheme unset counts as TLS") {
  const auto f = fixture_findings(kTlsServerName, "fail.deprecated-cafile.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "spec.endpoints[0].tlsConfig.serverName");
}

TEST_CASE("tls-servername: PodMonitor proposes the Service that selects the monitored pods") {
  const auto f = fixture_findings(kTlsServerName, "fail.podmonitor.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "spec.podMetricsEndpoints[0].tlsConfig.serverName");
  CHECK(f[0].fix == "add to spec.podMetricsEndpoints[0].tlsConfig: serverName: worker.jobs.svc");
}

TEST_CASE("tls-servername: several selected Services -> message lists each DNS name") {
  const auto f = yaml_findings(kTlsServerName, R"(
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m, namespace: shop}
spec:
  selector: {matchLabels: {team: cart}}
  endpoints:
    - port: https
      scheme: https
---
apiVersion: v1
kind: Service
metadata: {name: cart-a, namespace: shop, labels: {team: cart}}
spec: {selector: {app: a}, ports: [{name: https, port: 8443}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart-b, namespace: shop, labels: {team: cart}}
spec: {selector: {app: b}, ports: [{name: https, port: 8443}]}
)");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "a selected Service's name: cart-a.shop.svc or cart-b.shop.svc"));
  CHECK(contains(f[0].fix, "add to spec.endpoints[0]: tlsConfig: {serverName: cart-a.shop.svc}"));
  CHECK(contains(f[0].fix, "(or cart-b.shop.svc;"));
}

TEST_CASE("tls-servername: proposal prefers the Service the serving Certificate covers") {
  const auto f = yaml_findings(kTlsServerName, R"(
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m, namespace: shop}
spec:
  selector: {matchLabels: {team: cart}}
  endpoints:
    - port: https
      scheme: https
      tlsConfig: {ca: {secret: {name: b-cert, key: ca.crt}}}
---
apiVersion: v1
kind: Service
metadata: {name: cart-a, namespace: shop, labels: {team: cart}}
spec: {selector: {app: a}, ports: [{name: https, port: 8443}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart-b, namespace: shop, labels: {team: cart}}
spec: {selector: {app: b}, ports: [{name: https, port: 8443}]}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: b, namespace: shop}
spec: {secretName: b-cert, dnsNames: [cart-b.shop.svc]}
)");
  REQUIRE(f.size() == 1);
  CHECK(f[0].fix == "add to spec.endpoints[0].tlsConfig: serverName: cart-b.shop.svc");
}

TEST_CASE("tls-servername: Services lacking the endpoint's port are not proposed") {
  const auto f = yaml_findings(kTlsServerName, R"(
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m, namespace: shop}
spec:
  selector: {matchLabels: {team: cart}}
  endpoints: [{port: https, scheme: https}]
---
apiVersion: v1
kind: Service
metadata: {name: cart-api, namespace: shop, labels: {team: cart}}
spec: {selector: {app: a}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart-metrics, namespace: shop, labels: {team: cart}}
spec: {selector: {app: a}, ports: [{name: https, port: 8443}]}
)");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].fix, "{serverName: cart-metrics.shop.svc}"));
  CHECK_FALSE(contains(f[0].message, "cart-api"));
}

TEST_CASE("tls-servername: no selected Service has the endpoint's port -> no Service is proposed") {
  const auto f = yaml_findings(kTlsServerName, R"(
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m, namespace: shop}
spec:
  selector: {matchLabels: {team: cart}}
  endpoints: [{port: https, scheme: https}]
---
apiVersion: v1
kind: Service
metadata: {name: cart-api, namespace: shop, labels: {team: cart}}
spec: {selector: {app: a}, ports: [{name: http, port: 80}]}
)");
  REQUIRE(f.size() == 1);
  CHECK_FALSE(contains(f[0].fix, "cart-api"));
  CHECK_FALSE(contains(f[0].message, "cart-api"));
  CHECK(contains(f[0].fix, "serverName: <service>.<namespace>.svc"));
}

TEST_CASE("tls-servername: serverName set, insecureSkipVerify or plain http -> no finding") {
  for (const char* file : {"pass.servername-set.yaml", "pass.insecure-skip-verify.yaml",
                           "pass.plain-http.yaml", "pass.explicit-http-with-tlsconfig.yaml"}) {
    INFO(file);
    CHECK(fixture_findings(kTlsServerName, file).empty());
  }
}

// ========================================= servicemonitor-endpoint-incomplete

TEST_CASE("endpoint-incomplete: endpoint left with only tlsConfig -> deny, fix restores the Service's port and patches only tlsConfig") {
  const auto f = fixture_findings(kEndpointIncomplete, "fail.tls-only-endpoint.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.endpoints[0]");
  CHECK(contains(f[0].message, "endpoint has tlsConfig but no port/targetPort"));
  CHECK(contains(f[0].message, "a patch replaced the endpoints list"));
  CHECK(contains(f[0].fix, "restore port: https, scheme and path in spec.endpoints[0]"));
  CHECK(contains(f[0].fix, "patch /spec/endpoints/0/tlsConfig instead of replacing the list"));
}

TEST_CASE("endpoint-incomplete: auth settings without port -> deny even with no Service known") {
  const auto f = fixture_findings(kEndpointIncomplete, "fail.auth-only-endpoint.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "endpoint has auth settings but no port"));
  CHECK(contains(f[0].fix, "port: <service port name>"));
}

TEST_CASE("endpoint-incomplete: bare endpoint without port -> warn, scrapes every port") {
  const auto f = fixture_findings(kEndpointIncomplete, "fail.no-port.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "Prometheus scrapes every port of the selected Services"));
  CHECK(f[0].fix == "add to spec.endpoints[0]: port: <service port name>");
}

TEST_CASE("endpoint-incomplete: PodMonitor endpoint with basicAuth and no port -> deny on podMetricsEndpoints") {
  const auto f = fixture_findings(kEndpointIncomplete, "fail.podmonitor-no-port.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.podMetricsEndpoints[0]");
  CHECK(contains(f[0].message, "no port/portNumber/targetPort"));
  CHECK(contains(f[0].fix, "/spec/podMetricsEndpoints/0/tlsConfig"));
}

TEST_CASE("endpoint-incomplete: several Service ports -> fix lists them") {
  const auto f = yaml_findings(kEndpointIncomplete, R"(
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  endpoints: [{path: /metrics}]
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop, labels: {app: cart}}
spec: {selector: {app: cart}, ports: [{name: http, port: 80}, {name: metrics, port: 9090}]}
)");
  REQUIRE(f.size() == 1);
  // Which of two ports serves metrics is not derivable: no value picked.
  CHECK(f[0].fix == "add to spec.endpoints[0]: port: <the metrics port: one of http, metrics>");
}

TEST_CASE("endpoint-incomplete: runs without any context") {
  const auto f = no_context_findings(kEndpointIncomplete, "fail.tls-only-endpoint.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].fix, "port: <service port name>"));
}

TEST_CASE("endpoint-incomplete: port, targetPort or portNumber -> no finding") {
  for (const char* file :
       {"pass.port.yaml", "pass.target-port.yaml", "pass.podmonitor-port-number.yaml"}) {
    INFO(file);
    CHECK(fixture_findings(kEndpointIncomplete, file).empty());
  }
}

// ========================================= servicemonitor-scheme-tls-mismatch

TEST_CASE("scheme-tls-mismatch: tlsConfig with scheme unset -> warn on the scheme") {
  const auto f = fixture_findings(kSchemeMismatch, "fail.tls-scheme-unset.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.endpoints[0].scheme");
  CHECK(contains(f[0].message, "tlsConfig is set but scheme is unset (Prometheus defaults to http)"));
  CHECK(f[0].fix ==
        "set spec.endpoints[0].scheme: https (or remove tlsConfig if the target serves plain HTTP)");
}

TEST_CASE("scheme-tls-mismatch: PodMonitor tlsConfig with scheme HTTP (any case) -> warn") {
  const auto f = fixture_findings(kSchemeMismatch, "fail.tls-scheme-http.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "spec.podMetricsEndpoints[0].scheme");
  CHECK(contains(f[0].message, "scheme is HTTP"));
}

TEST_CASE("scheme-tls-mismatch: https port name with default scheme -> warn") {
  const auto f = fixture_findings(kSchemeMismatch, "fail.https-port-http-scheme.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "port \"https-main\" says https but scheme is unset"));
  CHECK(contains(f[0].fix, "set spec.endpoints[0].scheme: https"));
}

TEST_CASE("scheme-tls-mismatch: tlsConfig on an https port with scheme unset -> one finding naming both") {
  const auto f = yaml_findings(kSchemeMismatch, R"(
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  endpoints: [{port: https, tlsConfig: {serverName: cart.shop.svc}}]
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop, labels: {app: cart}}
spec: {selector: {app: cart}, ports: [{name: https, port: 8443}]}
)");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "while port \"https\" serves HTTPS"));
}

TEST_CASE("scheme-tls-mismatch: a port name no selected Service has says nothing about TLS; the selection is the one finding") {
  // Issue 23: the endpoint names port "https", no Service has it, the real
  // target is plain HTTP. scheme https + tlsConfig would break the scrape
  // once the selector is fixed.
  const auto set = testing::load_fixture("rules/servicemonitor-scheme-tls-mismatch/pass.https-port-selects-nothing.yaml");
  const auto all = testing::evaluate_all(set);
  CHECK(of_rule(all, kSchemeMismatch).empty());
  CHECK(of_rule(all, kPortNotFound).empty());
  CHECK(of_rule(all, kTlsServerName).empty());
  const auto selects = of_rule(all, kSelectsNothing);
  REQUIRE(selects.size() == 1);
  CHECK(selects[0].severity == Severity::kWarn);
  // Without any view the port cannot be resolved either: no conclusion.
  CHECK(of_rule(testing::no_context_findings(testing::load_fixture(
                    "rules/servicemonitor-scheme-tls-mismatch/fail.https-port-http-scheme.yaml")),
                kSchemeMismatch)
            .empty());
}

TEST_CASE("scheme-tls-mismatch: a Service port whose targetPort is named https -> warn, fix names the Service") {
  const auto f = yaml_findings(kSchemeMismatch, R"(
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  endpoints: [{port: metrics}]
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop, labels: {app: cart}}
spec: {selector: {app: cart}, ports: [{name: metrics, port: 8443, targetPort: https}]}
)");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "port \"https\" says https but scheme is unset"));
  CHECK(contains(f[0].fix, "serverName: cart.shop.svc"));
}

TEST_CASE("scheme-tls-mismatch: PodMonitor port resolved in the selected pods' containers") {
  const std::string monitor = R"(
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: m, namespace: jobs}
spec:
  selector: {matchLabels: {app: worker}}
  podMetricsEndpoints: [{port: https-metrics}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: jobs}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: )";
  const std::string tail = R"(}}
    spec:
      containers: [{name: w, image: w, ports: [{name: https-metrics, containerPort: 8443}]}]
)";
  CHECK(yaml_findings(kSchemeMismatch, monitor + "worker" + tail).size() == 1);
  // The PodMonitor selects no pods: the selection is the broken link.
  CHECK(yaml_findings(kSchemeMismatch, monitor + "other" + tail).empty());
}

TEST_CASE("scheme-tls-mismatch: https with tlsConfig, or plain http ports -> no finding") {
  for (const char* file : {"pass.https-with-tls.yaml", "pass.plain-http.yaml"}) {
    INFO(file);
    CHECK(fixture_findings(kSchemeMismatch, file).empty());
  }
}

// ======================================== servicemonitor-insecure-skip-verify

TEST_CASE("insecure-skip-verify: one warn per monitor listing the endpoints, fix names the Service") {
  const auto f = fixture_findings(kInsecure, "fail.insecure.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.endpoints[0].tlsConfig.insecureSkipVerify");
  CHECK(f[0].paths == std::vector<std::string>{"spec.endpoints[0].tlsConfig.insecureSkipVerify",
                                               "spec.endpoints[1].tlsConfig.insecureSkipVerify"});
  CHECK(contains(f[0].message, "receive the scrape's credentials"));
  CHECK(contains(f[0].message, "(+1 more)"));
  CHECK(contains(f[0].fix, "insecureSkipVerify: false"));
  CHECK(contains(f[0].fix, "serverName: kube-state-metrics.monitoring.svc"));
}

TEST_CASE("insecure-skip-verify: control-plane targets -> info with the reason and the cluster CA, never a cert-manager Certificate") {
  const auto f = fixture_findings(kInsecure, "pass.kubelet-control-plane.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(f[0].paths.size() == 2);
  CHECK(contains(f[0].message, "node or control-plane target (kubelet)"));
  CHECK(contains(f[0].message, "by design"));
  CHECK(contains(f[0].fix, "caFile: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt"));
  CHECK_FALSE(contains(f[0].fix, "Certificate"));
  CHECK_FALSE(contains(f[0].fix, "cert-manager"));
  CHECK_FALSE(contains(f[0].fix, "serverName: kubelet"));
}

TEST_CASE("insecure-skip-verify: CoreDNS and kube-system targets -> info; an application target stays warn") {
  const std::string head = R"(
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m, namespace: monitoring}
spec:
  endpoints: [{port: metrics, scheme: https, tlsConfig: {insecureSkipVerify: true}}]
)";
  const auto dns = yaml_findings(kInsecure, head + "  selector: {matchExpressions: [{key: k8s-app, operator: In, values: [coredns]}]}\n");
  REQUIRE(dns.size() == 1);
  CHECK(dns[0].severity == Severity::kInfo);
  CHECK(contains(dns[0].message, "(coredns)"));
  const auto system = yaml_findings(
      kInsecure, head + "  selector: {matchLabels: {app: thing}}\n  namespaceSelector: {matchNames: [kube-system]}\n");
  REQUIRE(system.size() == 1);
  CHECK(system[0].severity == Severity::kInfo);
  const auto app = yaml_findings(kInsecure, head + "  selector: {matchLabels: {app: shop}}\n");
  REQUIRE(app.size() == 1);
  CHECK(app[0].severity == Severity::kWarn);
}

TEST_CASE("insecure-skip-verify: controller-runtime metrics without a certificate -> the fix gives it one first") {
  const auto f = fixture_findings(kInsecure, "fail.self-signed-metrics.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].message ==
        "insecureSkipVerify: Deployment controller-manager makes a self-signed certificate at start-up (no "
        "--metrics-cert-path), so any impersonator is accepted and gets the scrape's credentials");
  // The certificate comes first: verification alone would break the scrape.
  CHECK(f[0].fix ==
        "first give it a certificate from a CA given to Prometheus (--metrics-cert-path), then set "
        "insecureSkipVerify: false, ca: <that CA>, serverName: controller-manager-metrics-service.project-system.svc");
}

TEST_CASE("insecure-skip-verify: kube-rbac-proxy without --tls-cert-file is found through a named targetPort") {
  const std::string yaml = R"(
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: ksm, namespace: monitoring}
spec:
  selector: {matchLabels: {app: ksm}}
  endpoints: [{port: https-main, scheme: https, tlsConfig: {insecureSkipVerify: true}}]
---
apiVersion: v1
kind: Service
metadata: {name: ksm, namespace: monitoring, labels: {app: ksm}}
spec: {selector: {app: ksm}, ports: [{name: https-main, port: 8443, targetPort: https-main}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ksm, namespace: monitoring}
spec:
  selector: {matchLabels: {app: ksm}}
  template:
    metadata: {labels: {app: ksm}}
    spec:
      containers:
      - name: kube-rbac-proxy-main
        image: kube-rbac-proxy
        args: [--secure-listen-address=:8443, --upstream=http://127.0.0.1:8081/)";
  const std::string ports = R"(]
        ports: [{name: https-main, containerPort: 8443}]
)";
  const auto self_signed = yaml_findings(kInsecure, yaml + ports);
  REQUIRE(self_signed.size() == 1);
  CHECK(contains(self_signed[0].message, "Deployment ksm makes a self-signed certificate at start-up (no --tls-cert-file)"));
  CHECK(contains(self_signed[0].fix, "first give it a certificate from a CA given to Prometheus (--tls-cert-file)"));
  // Given a certificate file, the target can be verified once Prometheus has its CA.
  const auto with_cert = yaml_findings(kInsecure, yaml + ", --tls-cert-file=/certs/tls.crt" + ports);
  REQUIRE(with_cert.size() == 1);
  CHECK(with_cert[0].severity == Severity::kWarn);
  CHECK_FALSE(contains(with_cert[0].message, "self-signed"));
  CHECK(with_cert[0].fix ==
        "serve a certificate from a CA given to Prometheus (not a self-signed one), then set insecureSkipVerify: "
        "false, ca: <that CA>, serverName: ksm.monitoring.svc");
}

TEST_CASE("insecure-skip-verify: without context the fix gives the DNS form") {
  const auto f = no_context_findings(kInsecure, "fail.podmonitor.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "spec.podMetricsEndpoints[0].tlsConfig.insecureSkipVerify");
  CHECK(contains(f[0].fix, "serverName: <service>.<namespace>.svc"));
}

TEST_CASE("insecure-skip-verify: verified TLS or no tlsConfig -> no finding") {
  for (const char* file : {"pass.verified.yaml", "pass.no-tlsconfig.yaml"}) {
    INFO(file);
    CHECK(fixture_findings(kInsecure, file).empty());
  }
}

// ============================================== servicemonitor-port-not-found

TEST_CASE("port-not-found: endpoint names the container port instead of the Service port -> deny listing the Service ports") {
  const auto f = fixture_findings(kPortNotFound, "fail.wrong-port-name.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.endpoints[0].port");
  CHECK(contains(f[0].message, "port \"metrics\" is not a port name of the selected Services "
                               "(shop/cart-metrics; named ports: http-metrics)"));
  CHECK(f[0].fix ==
        "set spec.endpoints[0].port to http-metrics, or name the Service port \"metrics\"");
}

TEST_CASE("port-not-found: matchNames namespace and matchExpressions In are resolved; unnamed ports do not count") {
  const auto f = fixture_findings(kPortNotFound, "fail.other-namespace.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "shop/cart; named ports: http"));
}

TEST_CASE("port-not-found: PodMonitor port missing from the templates -> warn (a sidecar may inject it)") {
  const auto f = fixture_findings(kPortNotFound, "fail.podmonitor.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.podMetricsEndpoints[0].port");
  CHECK(contains(f[0].message, "container port of the selected pod templates (jobs/worker"));
  CHECK(contains(f[0].message, "injected sidecar"));
  CHECK(contains(f[0].fix, "set spec.podMetricsEndpoints[0].port to http"));
}

TEST_CASE("port-not-found: skipped when the context does not know Services") {
  CHECK(no_context_findings(kPortNotFound, "fail.wrong-port-name.yaml").empty());
}

TEST_CASE("port-not-found: matching port, one of several Services, nothing selected -> no finding") {
  for (const char* file : {"pass.port-matches.yaml", "pass.one-of-several-services.yaml",
                           "pass.selects-nothing.yaml", "pass.podmonitor.yaml"}) {
    INFO(file);
    CHECK(fixture_findings(kPortNotFound, file).empty());
  }
}

// ============================================= servicemonitor-selects-nothing

TEST_CASE("selects-nothing: selector written with pod labels -> warn naming the Service that has the port") {
  const auto f = fixture_findings(kSelectsNothing, "fail.pod-labels.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.selector");
  CHECK(contains(f[0].message, "selector app=cart, tier=backend matches no Service in namespace shop"));
  CHECK(contains(f[0].fix, "match the metrics Service's own metadata.labels (not its pods' labels)"));
  CHECK(contains(f[0].fix, "Services with the endpoint's port: cart-metrics"));
}

TEST_CASE("selects-nothing: the monitor's own namespace is the default namespaceSelector") {
  const auto f = fixture_findings(kSelectsNothing, "fail.wrong-namespace.yaml");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "in namespace monitoring"));
}

TEST_CASE("selects-nothing: matchExpressions NotIn and Exists are honoured and described") {
  const auto f = fixture_findings(kSelectsNothing, "fail.match-expressions.yaml");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "selector app NotIn (cart), metrics matches no Service"));
}

TEST_CASE("selects-nothing: PodMonitor whose selector matches no pod template -> warn") {
  const auto f = fixture_findings(kSelectsNothing, "fail.podmonitor.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "matches no pod template in namespace jobs"));
}

TEST_CASE("selects-nothing: stays warn in a complete (audit) view") {
  const auto f = complete_view_findings(kSelectsNothing, "fail.pod-labels.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
}

TEST_CASE("selects-nothing: skipped when the context does not know Services") {
  CHECK(no_context_findings(kSelectsNothing, "fail.pod-labels.yaml").empty());
}

TEST_CASE("selects-nothing: matchLabels, namespaceSelector any / matchNames, CronJob templates -> no finding") {
  for (const char* file : {"pass.matches.yaml", "pass.namespace-any.yaml", "pass.match-names.yaml",
                           "pass.podmonitor.yaml"}) {
    INFO(file);
    CHECK(fixture_findings(kSelectsNothing, file).empty());
  }
}

// ========================================= servicemonitor-servername-mismatch

TEST_CASE("servername-mismatch: serverName not a DNS name of the selected Service -> warn proposing <svc>.<ns>.svc") {
  const auto f = fixture_findings(kServerNameMismatch, "fail.not-service-name.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.endpoints[0].tlsConfig.serverName");
  CHECK(contains(f[0].message, "serverName \"cart-controller.shop.svc\" is not a DNS name of the "
                               "selected Service (shop/cart-metrics)"));
  CHECK(f[0].fix == "set spec.endpoints[0].tlsConfig.serverName: cart-metrics.shop.svc (and make "
                    "sure the serving certificate lists it)");
}

TEST_CASE("servername-mismatch: Service name in another namespace -> warn") {
  const auto f = fixture_findings(kServerNameMismatch, "fail.wrong-namespace.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
}

TEST_CASE("servername-mismatch: serving Certificate lacks the serverName -> one deny naming the Certificate") {
  const auto f = fixture_findings(kServerNameMismatch, "fail.certificate-lacks-name.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.endpoints[0].tlsConfig.serverName");
  CHECK(contains(f[0].message, "is not in the dnsNames of Certificate project-system/metrics-certs"));
  CHECK(contains(f[0].message, "which issues Secret metrics-server-cert: TLS verification will fail"));
  CHECK(f[0].fix ==
        "set serverName: controller-manager-metrics-service.project-system.svc.cluster.local, or add "
        "\"controller-manager-metrics-service.project-system.svc\" to spec.dnsNames of Certificate metrics-certs");
}

TEST_CASE("servername-mismatch: PodMonitor with a serving Certificate lacking the name -> deny") {
  const auto f = yaml_findings(kServerNameMismatch, R"(
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: m, namespace: jobs}
spec:
  selector: {matchLabels: {app: worker}}
  podMetricsEndpoints:
    - port: https
      scheme: https
      tlsConfig:
        serverName: worker.jobs.svc
        ca: {secret: {name: worker-tls, key: ca.crt}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: worker-tls, namespace: jobs}
spec: {secretName: worker-tls, dnsNames: [worker-metrics.jobs.svc]}
)");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.podMetricsEndpoints[0].tlsConfig.serverName");
  CHECK(contains(f[0].fix, "serverName: worker-metrics.jobs.svc"));
}

TEST_CASE("servername-mismatch: Service forms, covering Certificates, client certificates, insecure -> no finding") {
  for (const char* file :
       {"pass.svc-form.yaml", "pass.service-forms.yaml", "pass.certificate-lists-custom-name.yaml",
        "pass.client-certificate.yaml", "pass.insecure-skip-verify.yaml",
        "pass.no-service-known.yaml"}) {
    INFO(file);
    CHECK(fixture_findings(kServerNameMismatch, file).empty());
  }
}

// ================================================================ all rules

// ============================================================ real manifests

// The corpus expectations for this rule family (see ../shared/corpus): what
// each folder must deny / warn, and that nothing else of ours denies.
struct CorpusCase {
  const char* folder;
  std::vector<std::string> deny;
  std::vector<std::string> warn;
};

TEST_CASE("monitor rules on the real-manifest corpus: expected denies and warnings, no false deny") {
  const std::string shared = testing::shared_dir();
  const std::vector<CorpusCase> cases = {
      {"kubebuilder-v4.5.0-multiversion-tls-patch",
       {kEndpointIncomplete, kTlsServerName},
       {kSchemeMismatch}},
      {"kubebuilder-v4.5.0-getting-started-insecure", {}, {kInsecure}},
      {"kube-prometheus-v0.14.0-kube-state-metrics", {}, {kInsecure}},
      {"kubebuilder-v4.15.0-multiversion-fixed", {}, {}},
      {"external-secrets-chart-0.9.20-certmanager", {}, {}},
      {"kube-state-metrics-chart-5.27.0-default", {}, {}},
  };
  for (const CorpusCase& c : cases) {
    INFO(c.folder);
    core::ManifestSet set;
    core::load_path(shared + "/corpus/" + c.folder, set);
    const auto all = testing::evaluate_all(set);
    std::vector<std::string> denied;
    std::vector<std::string> warned;
    for (const Finding& f : all) {
      if (f.rule.rfind("servicemonitor-", 0) != 0) continue;
      INFO(f.rule << " " << f.object.name << ": " << f.message);
      (f.severity == Severity::kDeny ? denied : warned).push_back(f.rule);
    }
    for (const std::string& rule : c.deny) {
      INFO("expected deny " << rule);
      CHECK(std::count(denied.begin(), denied.end(), rule) >= 1);
    }
    for (const std::string& rule : c.warn) {
      INFO("expected warn " << rule);
      CHECK(std::count(warned.begin(), warned.end(), rule) >= 1);
    }
    for (const std::string& rule : denied) {
      INFO("unexpected deny " << rule);
      CHECK(std::find(c.deny.begin(), c.deny.end(), rule) != c.deny.end());
    }
    if (c.deny.empty() && c.warn.empty()) CHECK(warned.empty());
  }
}


// Issue 9 classes 5 and 7: Services the cluster or another install provides,
// and scrape addresses set by relabeling.

TEST_CASE("selects-nothing: kube-system, default/kubernetes and namespaces the input lacks -> no finding in lint") {
  for (const char* file : {"pass.kubelet-kube-system.yaml", "pass.default-kubernetes.yaml",
                           "pass.namespace-not-in-input.yaml", "pass.namespace-any.yaml"}) {
    INFO(file);
    CHECK(fixture_findings(kSelectsNothing, file).empty());
  }
}

TEST_CASE("selects-nothing: in the complete (audit) view the same monitors are findings") {
  for (const char* file : {"pass.kubelet-kube-system.yaml", "pass.namespace-not-in-input.yaml"}) {
    INFO(file);
    const auto f = complete_view_findings(kSelectsNothing, file);
    REQUIRE(f.size() == 1);
    CHECK(f[0].severity == Severity::kWarn);
  }
}

TEST_CASE("endpoint-incomplete: relabelings that set __address__ choose the port on purpose -> no finding") {
  CHECK(fixture_findings(kEndpointIncomplete, "pass.relabel-address.yaml").empty());
  // A relabeling of another label does not.
  const auto f = yaml_findings(kEndpointIncomplete, R"(apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m, namespace: mesh}
spec:
  selector: {matchLabels: {app: x}}
  endpoints:
  - relabelings: [{sourceLabels: [__meta_kubernetes_pod_name], targetLabel: pod}]
)");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
}

}  // namespace
}  // namespace wirecheck
