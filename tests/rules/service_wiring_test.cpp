// Service and workload wiring rules: what the findings say (message, fix,
// path) and at which severity, per branch of RULES.md. The generic fixture
// test only checks that fail.* fires and pass.* does not.
#include <catch2/catch.hpp>

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
using policy::Operation;
using policy::Severity;
using testing::contains;
using testing::fixture_findings;
using testing::of_rule;
using testing::yaml_findings;

constexpr const char* kTargetMissing = "service-target-port-missing";
constexpr const char* kSelectsNothing = "service-selects-nothing";
constexpr const char* kBreaks = "workload-breaks-service";

// The first document evaluated against `set` as a view of `complete`-ness.
std::vector<Finding> view_findings(const std::string& rule, const core::ManifestSet& set, bool complete,
                                   Operation op = Operation::kCreate, const core::Object* old = nullptr) {
  return of_rule(testing::view_findings(set, 0, op, old, complete), rule);
}

// A Deployment "op" with `containers` (YAML list items, indented 6) and the
// metrics Service targeting https, for the UPDATE cases.
std::string operator_deployment(std::string_view containers) {
  return std::string(R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: op
  namespace: demo
spec:
  selector:
    matchLabels:
      app: op
  template:
    metadata:
      labels:
        app: op
    spec:
      containers:
)") + std::string(containers);
}

constexpr std::string_view kMetricsService = R"(---
apiVersion: v1
kind: Service
metadata:
  name: op-metrics
  namespace: demo
spec:
  ports:
  - name: https
    port: 8443
    targetPort: https
  selector:
    app: op
)";

constexpr std::string_view kWithProxyPort = R"(      - name: manager
        image: example/manager:1
        ports:
        - containerPort: 9443
          name: webhook-server
      - name: kube-rbac-proxy
        image: quay.io/brancz/kube-rbac-proxy:v0.18.1
        args: ["--secure-listen-address=:8443", "--upstream=http://127.0.0.1:8080/"]
        ports:
        - containerPort: 8443
          name: https
)";

constexpr std::string_view kWithoutProxyPort = R"(      - name: manager
        image: example/manager:1
        ports:
        - containerPort: 9443
          name: webhook-server
      - name: kube-rbac-proxy
        image: quay.io/brancz/kube-rbac-proxy:v0.18.1
        args: ["--secure-listen-address=:8443", "--upstream=http://127.0.0.1:8080/"]
)";

constexpr std::string_view kRenamedProxyPort = R"(      - name: manager
        image: example/manager:1
      - name: kube-rbac-proxy
        image: quay.io/brancz/kube-rbac-proxy:v0.18.1
        ports:
        - containerPort: 8443
          name: metrics
)";

}  // namespace

// ------------------------------------------------- service-target-port-missing

TEST_CASE("service-target-port-missing: named targetPort no selected container declares -> deny with path and fix") {
  const auto f = fixture_findings(kTargetMissing, "fail.named-port-missing.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.ports[0].targetPort");
  CHECK(contains(f[0].message, "\"https\""));
  CHECK(contains(f[0].message, "Deployment op-controller"));
  CHECK(contains(f[0].message, "no endpoints"));
  // The proxy listens on the Service port, so it is where the port belongs;
  // never the admission webhook's port, which serves something else.
  CHECK(f[0].fix == "declare containerPort 8443 named https in container kube-rbac-proxy (it listens there)");
  CHECK_FALSE(contains(f[0].fix, "webhook-server"));
}

TEST_CASE("service-target-port-missing: numeric targetPort nobody declares -> info, never retargeting the Service") {
  // containerPort is informational: a process listening on 9090 works.
  const auto f = fixture_findings(kTargetMissing, "fail.number-not-declared.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(f[0].path == "spec.ports[0].targetPort");
  CHECK(contains(f[0].message, "targets 9090"));
  CHECK(contains(f[0].message, "fine if a container listens there"));
  CHECK(f[0].fix ==
        "declare containerPort 9090 in the container that listens on it, so named ports, NetworkPolicies and "
        "readers see it");
  CHECK_FALSE(contains(f[0].fix, "targetPort"));
  CHECK_FALSE(contains(f[0].fix, "8080"));
}

TEST_CASE("service-target-port-missing: named targetPort, same number declared under another name -> propose that name") {
  const auto f = fixture_findings(kTargetMissing, "fail.named-same-number-other-name.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].fix == "set targetPort to metrics (container exporter declares 8443 under that name)");
}

TEST_CASE("service-target-port-missing: named targetPort nobody is known to serve -> what to check, no number") {
  const auto f = fixture_findings(kTargetMissing, "fail.named-unknown-listener.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].fix ==
        "check which container serves grpc (e.g. a proxy sidecar that was removed) and declare the port named "
        "grpc there");
  CHECK_FALSE(contains(f[0].fix, "50051"));
  CHECK_FALSE(contains(f[0].fix, "http"));
}

TEST_CASE("service-target-port-missing: absent targetPort defaults to port and is reported at spec.ports[i].port") {
  const auto f = fixture_findings(kTargetMissing, "fail.default-target-is-port.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(f[0].path == "spec.ports[0].port");
  CHECK(contains(f[0].message, "(no targetPort) targets 9102"));
}

TEST_CASE("service-target-port-missing: name declared for another protocol -> deny with the protocol fix") {
  const auto f = fixture_findings(kTargetMissing, "fail.protocol-mismatch.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "over UDP"));
  CHECK(contains(f[0].message, "for TCP"));
  CHECK(f[0].fix == "set protocol: TCP on spec.ports[0], or declare dns with protocol UDP in container coredns");
}

TEST_CASE("service-target-port-missing: numeric targetPort bound to loopback only -> warn with the rebind") {
  const auto f = fixture_findings(kTargetMissing, "fail.number-bound-to-loopback.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "container manager"));
  CHECK(contains(f[0].message, "127.0.0.1:8080"));
  CHECK(contains(f[0].fix, "--metrics-bind-address=:8080"));
}

TEST_CASE("service-target-port-missing: name declared only by a run-to-completion init container -> deny") {
  const auto f = fixture_findings(kTargetMissing, "fail.named-only-in-init-container.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "init container exporter"));
  CHECK(contains(f[0].message, "runs to completion"));
  CHECK(contains(f[0].fix, "native sidecar (restartPolicy: Always)"));
}

TEST_CASE("service-target-port-missing: name declared by a native sidecar init container -> no finding") {
  CHECK(fixture_findings(kTargetMissing, "pass.named-by-native-sidecar.yaml").empty());
}

TEST_CASE("service-target-port-missing: numeric port served by an all-interfaces listen flag -> no finding") {
  CHECK(fixture_findings(kTargetMissing, "pass.number-served-by-listen-flag.yaml").empty());
}

TEST_CASE("service-target-port-missing: one finding per broken port, each at its own path") {
  const auto f = yaml_findings(kTargetMissing, R"(apiVersion: v1
kind: Service
metadata: {name: s, namespace: demo}
spec:
  selector: {app: a}
  ports:
  - {name: ok, port: 80, targetPort: http}
  - {name: bad, port: 81, targetPort: missing}
  - {name: bad-too, port: 82, targetPort: "gone"}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: demo, labels: {app: a, extra: x}}
spec:
  containers:
  - name: a
    image: a
    ports: [{containerPort: 8080, name: http}]
)");
  // One finding per object and rule, listing both ports.
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "spec.ports[1].targetPort");
  CHECK(f[0].paths == std::vector<std::string>{"spec.ports[1].targetPort", "spec.ports[2].targetPort"});
  CHECK(contains(f[0].message, "(+1 more)"));
  CHECK(f[0].fix == "check which container serves missing (e.g. a proxy sidecar that was removed) and declare the "
                    "port named missing there");
}

TEST_CASE("service-target-port-missing: a context that does not know workloads -> skipped, not passed") {
  const core::ManifestSet set = testing::load_fixture("rules/" + std::string(kTargetMissing) + "/fail.named-port-missing.yaml");
  const policy::EmptyContext context;
  const policy::Engine engine;
  CHECK(of_rule(engine.evaluate(set.objects.front(), nullptr, Operation::kCreate, context), kTargetMissing).empty());
}

TEST_CASE("service-target-port-missing: the operator release corpus case -> deny on the metrics Service") {
  const std::string shared = testing::shared_dir();
  core::ManifestSet set;
  core::load_path(shared + "/corpus/emqx-operator-1.1.4-release", set);
  const auto all = of_rule(testing::evaluate_all(set), kTargetMissing);
  REQUIRE(all.size() == 1);
  CHECK(all[0].object.name == "emqx-operator-controller-manager-metrics-service");
  CHECK(all[0].severity == Severity::kDeny);
  // The proxy sidecar that served https is gone from the release; nothing
  // listens on 8443, and webhook-server serves admission, not metrics.
  CHECK(all[0].fix ==
        "check which container serves https (e.g. a proxy sidecar that was removed) and declare the port named https "
        "there");
}

// ----------------------------------------------------- service-selects-nothing

TEST_CASE("service-selects-nothing: selector matches no template of its namespace -> warn, no 'closest template' guess") {
  const auto f = fixture_findings(kSelectsNothing, "fail.label-mismatch.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.selector");
  CHECK(contains(f[0].message, "app=frontend,tier=web"));
  CHECK(contains(f[0].message, "no endpoints"));
  CHECK(f[0].fix == "make spec.selector a subset of the pod template labels of the workload that serves it");
  CHECK_FALSE(contains(f[0].fix, "Deployment frontend"));
}

TEST_CASE("service-selects-nothing: the matching workload is in another namespace -> warn naming the namespace") {
  const auto f = fixture_findings(kSelectsNothing, "fail.other-namespace.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "namespace frontend"));
  CHECK_FALSE(contains(f[0].fix, "web"));
}

TEST_CASE("service-selects-nothing: pods from controllers, operators or outside the input -> no warn") {
  for (const char* name : {"pass.statefulset-pod-name.yaml", "pass.job-controller-labels.yaml",
                           "pass.operator-custom-resource.yaml", "pass.no-workloads-in-namespace.yaml",
                           "pass.namespace-without-workloads.yaml"}) {
    INFO(name);
    CHECK(fixture_findings(kSelectsNothing, name).empty());
  }
  // A component nothing else in the input names: info, not warn.
  const auto f = fixture_findings(kSelectsNothing, "pass.component-not-in-input.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(contains(f[0].message, "app.kubernetes.io/name=shop-reporter"));
  const auto renamed = fixture_findings(kSelectsNothing, "fail.renamed-workload.yaml");
  REQUIRE(renamed.size() == 1);
  CHECK(renamed[0].severity == Severity::kWarn);
}

TEST_CASE("service-selects-nothing: a namespace without workloads is a finding in the complete (audit) view") {
  const core::ManifestSet set =
      testing::load_fixture("rules/" + std::string(kSelectsNothing) + "/pass.no-workloads-in-namespace.yaml");
  const auto f = view_findings(kSelectsNothing, set, /*complete=*/true);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
}

// ----------------------------------------------------- workload-breaks-service

TEST_CASE("workload-breaks-service: UPDATE that removes the targeted port -> deny at the container's ports") {
  const auto old_set = testing::load_yaml(operator_deployment(kWithProxyPort));
  const auto set = testing::load_yaml(operator_deployment(kWithoutProxyPort) + std::string(kMetricsService));
  const auto f = of_rule(testing::evaluate(set, 0, Operation::kUpdate, &old_set.objects.front()), kBreaks);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.template.spec.containers[1].ports");
  CHECK(f[0].message ==
        "this change removes port \"https\" (8443) from container kube-rbac-proxy, which Service op-metrics:8443 "
        "targets: these pods drop out of its endpoints");
  CHECK(f[0].fix == "declare containerPort 8443 named https in container kube-rbac-proxy");
}

TEST_CASE("workload-breaks-service: UPDATE that renames the targeted port -> deny") {
  const auto old_set = testing::load_yaml(operator_deployment(kWithProxyPort));
  const auto set = testing::load_yaml(operator_deployment(kRenamedProxyPort) + std::string(kMetricsService));
  const auto f = of_rule(testing::evaluate(set, 0, Operation::kUpdate, &old_set.objects.front()), kBreaks);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.template.spec.containers[1].ports");
}

TEST_CASE("workload-breaks-service: UPDATE of a template that already lacked the port -> warn, not this change's doing") {
  const auto old_set = testing::load_yaml(operator_deployment(kWithoutProxyPort));
  const auto set = testing::load_yaml(operator_deployment(kWithoutProxyPort) + std::string(kMetricsService));
  const auto f = of_rule(testing::evaluate(set, 0, Operation::kUpdate, &old_set.objects.front()), kBreaks);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "Service op-metrics targets port name \"https\""));
  // The proxy binds the Service port, so that is where to declare it.
  CHECK(contains(f[0].fix, "declare containerPort 8443 named https in container kube-rbac-proxy"));
}

TEST_CASE("workload-breaks-service: UPDATE that keeps the port -> no finding") {
  const auto old_set = testing::load_yaml(operator_deployment(kWithProxyPort));
  const auto set = testing::load_yaml(operator_deployment(kWithProxyPort) + std::string(kMetricsService));
  CHECK(of_rule(testing::evaluate(set, 0, Operation::kUpdate, &old_set.objects.front()), kBreaks).empty());
}

TEST_CASE("workload-breaks-service: CREATE while no other template declares it -> warn; deny in a complete view") {
  const auto f = fixture_findings(kBreaks, "fail.port-name-missing-create.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  // Nothing in the template listens on 8443: say what to check, no guess.
  CHECK(f[0].path == "spec.template.spec.containers");
  CHECK(f[0].fix == "check which container serves https and declare the port named https there");

  const core::ManifestSet set = testing::load_fixture("rules/" + std::string(kBreaks) + "/fail.port-name-missing-create.yaml");
  const auto complete = view_findings(kBreaks, set, /*complete=*/true);
  REQUIRE(complete.size() == 1);
  CHECK(complete[0].severity == Severity::kDeny);
}

TEST_CASE("workload-breaks-service: CREATE while another selected template declares it -> deny with its number") {
  const auto f = fixture_findings(kBreaks, "fail.port-name-missing-declared-elsewhere.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "(Deployment api declares it)"));
  CHECK(contains(f[0].fix, "declare containerPort 8080 named http in container api"));
}

TEST_CASE("workload-breaks-service: a name declared for another protocol does not count") {
  const auto f = yaml_findings(kBreaks, R"(apiVersion: v1
kind: Pod
metadata: {name: dns, namespace: demo, labels: {app: dns}}
spec:
  containers:
  - name: coredns
    image: coredns
    ports: [{containerPort: 53, name: dns, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: demo}
spec:
  selector: {app: dns}
  ports:
  - {name: tcp, port: 53, targetPort: dns}
  - {name: udp, port: 53, protocol: UDP, targetPort: dns}
)");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "dns:53"));
  CHECK(contains(f[0].fix, "named dns"));
}

namespace {

// A Pod whose only `https` port is on an init container, and a Service targeting it.
std::string pod_with_init_port(bool sidecar) {
  return std::string(R"(apiVersion: v1
kind: Pod
metadata: {name: p, namespace: demo, labels: {app: p}}
spec:
  initContainers:
  - name: proxy
    image: proxy
)") + (sidecar ? "    restartPolicy: Always\n" : "") + R"(    ports: [{containerPort: 8443, name: https}]
  containers:
  - name: app
    image: app
---
apiVersion: v1
kind: Service
metadata: {name: p, namespace: demo}
spec:
  selector: {app: p}
  ports:
  - {port: 443, targetPort: https}
)";
}

}  // namespace

TEST_CASE("workload-breaks-service: a name declared by a native sidecar init container -> no finding") {
  CHECK(yaml_findings(kBreaks, pod_with_init_port(/*sidecar=*/true)).empty());
}

TEST_CASE("workload-breaks-service: a name declared only by a run-to-completion init container is reported") {
  const auto f = yaml_findings(kBreaks, pod_with_init_port(/*sidecar=*/false));
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "https"));
}

// ------------------------------------------------------------------- corpus

TEST_CASE("service wiring: correct real manifests give no finding of these rules") {
  const std::string shared = testing::shared_dir();
  for (const char* name : {"emqx-operator-1.1.7-release", "cert-manager-v1.10.1-static-install",
                           "kube-state-metrics-chart-5.27.0-default", "kube-prometheus-v0.14.0-kube-state-metrics",
                           "kubebuilder-v4.15.0-multiversion-fixed", "kubebuilder-v4.5.0-getting-started-insecure"}) {
    INFO("corpus case " << name);
    core::ManifestSet set;
    core::load_path(shared + "/corpus/" + name, set);
    const auto all = testing::evaluate_all(set);
    for (const char* rule : {kTargetMissing, kSelectsNothing, kBreaks}) {
      for (const Finding& f : of_rule(all, rule)) {
        FAIL_CHECK("unexpected " << f.rule << " on " << f.object.name << " at " << f.path << ": " << f.message);
      }
    }
  }
}

}  // namespace wirecheck
