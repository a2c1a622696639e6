// Service and workload wiring rules: what the findings say (message, fix,
// path) and at which severity, per branch of RULES.md. The generic fixture
// test only checks that fail.* fires and pass.* does not.
#include <catch2/catch.hpp>

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cluster/store.hpp"
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

// objects[index] judged at admission: the server's cache (a real Store
// snapshot, every kind synced) holds the other objects of `set`, and for an
// UPDATE the stored `old` copy of the object under review.
std::vector<Finding> admission_findings(const std::string& rule, const core::ManifestSet& set, std::size_t index,
                                        Operation op = Operation::kCreate, const core::Object* old = nullptr) {
  cluster::Store store;
  std::array<std::vector<cluster::ObjectPtr>, core::kKindCount> by_kind;
  for (std::size_t i = 0; i < set.objects.size(); ++i) {
    if (i == index && old == nullptr) continue;  // a CREATE is not stored yet
    const core::Object& o = i == index ? *old : set.objects[i];
    by_kind[static_cast<std::size_t>(o.kind)].push_back(std::make_shared<const core::Object>(o));
  }
  for (std::size_t k = 1; k < core::kKindCount; ++k) store.replace(static_cast<core::Kind>(k), std::move(by_kind[k]));
  const auto snapshot = store.snapshot();
  return of_rule(policy::Engine().evaluate(set.objects[index], old, op, *snapshot), rule);
}

std::vector<Finding> admission_findings(const std::string& rule, std::string_view yaml) {
  return admission_findings(rule, testing::load_yaml(yaml), 0);
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
  // Port names are unique in a container: UDP needs a name of its own.
  CHECK(f[0].fix ==
        "set protocol: TCP on spec.ports[0], or declare containerPort 53 with protocol UDP under a new name in "
        "container coredns and set targetPort to it");
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
  // One finding per object and rule, listing both ports; port ok resolves,
  // so the dead ones are feature-gated at most (warn).
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
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

TEST_CASE("service-target-port-missing: a dead port that a ServiceMonitor scrapes stays deny, naming the monitor") {
  const auto f = fixture_findings(kTargetMissing, "fail.dead-port-scraped-by-monitor.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.ports[1].targetPort");
  CHECK(f[0].message ==
        "port 9114 (metrics) targets \"metrics\", which no container of StatefulSet search declares: the Service "
        "has no endpoints for it, and ServiceMonitor demo/search scrapes it");
  // Control: without the monitor the port is feature-gated (warn).
  core::ManifestSet set =
      testing::load_fixture("rules/" + std::string(kTargetMissing) + "/fail.dead-port-scraped-by-monitor.yaml");
  set.objects.pop_back();
  const auto unused = of_rule(testing::evaluate(set), kTargetMissing);
  REQUIRE(unused.size() == 1);
  CHECK(unused[0].severity == Severity::kWarn);
}

TEST_CASE("service-target-port-missing: a feature-gated port while other ports resolve -> warn; info on a headless Service") {
  const auto f = fixture_findings(kTargetMissing, "fail.feature-gated-port.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.ports[1].targetPort");
  CHECK(f[0].message ==
        "port 8443 (tls) targets \"tls\", which no container of Deployment cache declares: no endpoints for port "
        "tls until a container declares it (other ports resolve; nothing in the view uses it)");
  const auto headless = fixture_findings(kTargetMissing, "fail.feature-gated-port-headless.yaml");
  REQUIRE(headless.size() == 1);
  CHECK(headless[0].severity == Severity::kInfo);
  CHECK(contains(headless[0].message, "no endpoints for port peer until a container declares it"));
  CHECK(contains(headless[0].message, "headless Service still gives its pods DNS names"));
}

namespace {

// A Service whose http port resolves and whose https port (443 -> "tls")
// does not, followed by `user`: something that may use the https port.
std::string service_with_dead_https(std::string_view user) {
  return std::string(R"(apiVersion: v1
kind: Service
metadata: {name: api, namespace: demo, labels: {app: api}}
spec:
  selector: {app: api}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: https, port: 443, targetPort: tls}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: demo}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: example/api:1
        ports: [{name: http, containerPort: 8080}]
---
)") + std::string(user);
}

}  // namespace

TEST_CASE("service-target-port-missing: a dead port a client config, Ingress or HTTPRoute uses -> deny naming the user") {
  struct Case {
    const char* name;
    const char* user;
    const char* said;  // empty: not a user of the https port (warn)
  };
  const Case cases[] = {
      {"admission webhook on the default port 443", R"(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: api-validator}
webhooks:
- name: v.api.example.com
  clientConfig: {service: {name: api, namespace: demo}}
  sideEffects: None
  admissionReviewVersions: [v1]
)",
       "ValidatingWebhookConfiguration api-validator calls it (webhook \"v.api.example.com\")"},
      {"webhook on another port", R"(apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: api-mutator}
webhooks:
- name: m.api.example.com
  clientConfig: {service: {name: api, namespace: demo, port: 80}}
  sideEffects: None
  admissionReviewVersions: [v1]
)",
       ""},
      {"APIService", R"(apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.api.example.com}
spec:
  group: api.example.com
  version: v1beta1
  service: {name: api, namespace: demo}
  groupPriorityMinimum: 100
  versionPriority: 100
)",
       "APIService v1beta1.api.example.com calls it"},
      {"conversion webhook of a CRD serving two versions", R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.api.example.com}
spec:
  group: api.example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true}
  - {name: v2, served: true, storage: false}
  conversion:
    strategy: Webhook
    webhook:
      clientConfig: {service: {name: api, namespace: demo, port: 443}}
      conversionReviewVersions: [v1]
)",
       "CustomResourceDefinition widgets.api.example.com calls it (conversion webhook)"},
      {"conversion webhook of a CRD serving one version (never called)", R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.api.example.com}
spec:
  group: api.example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - {name: v1, served: true, storage: true}
  conversion:
    strategy: Webhook
    webhook:
      clientConfig: {service: {name: api, namespace: demo, port: 443}}
      conversionReviewVersions: [v1]
)",
       ""},
      {"Ingress backend by port name", R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api, namespace: demo}
spec:
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: api, port: {name: https}}}
)",
       "Ingress demo/api routes to it"},
      {"Ingress backend on the live port", R"(apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api, namespace: demo}
spec:
  defaultBackend: {service: {name: api, port: {number: 80}}}
)",
       ""},
      {"HTTPRoute backend by number from another namespace", R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: edge}
spec:
  rules:
  - backendRefs: [{name: api, namespace: demo, port: 443}]
)",
       "HTTPRoute edge/api routes to it"},
      {"ServiceMonitor by deprecated targetPort", R"(apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: api, namespace: demo}
spec:
  selector: {matchLabels: {app: api}}
  endpoints: [{targetPort: tls}]
)",
       "ServiceMonitor demo/api scrapes it"},
      {"ServiceMonitor in another namespace without namespaceSelector", R"(apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: api, namespace: monitoring}
spec:
  selector: {matchLabels: {app: api}}
  endpoints: [{port: https}]
)",
       ""},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const auto f = yaml_findings(kTargetMissing, service_with_dead_https(c.user));
    REQUIRE(f.size() == 1);
    CHECK(f[0].path == "spec.ports[1].targetPort");
    if (std::string_view(c.said).empty()) {
      CHECK(f[0].severity == Severity::kWarn);
    } else {
      CHECK(f[0].severity == Severity::kDeny);
      CHECK(contains(f[0].message, ", and " + std::string(c.said)));
    }
  }
}

TEST_CASE("service-target-port-missing: Jobs and Helm test hooks are no backends") {
  CHECK(fixture_findings(kTargetMissing, "pass.selects-only-job-pods.yaml").empty());
  CHECK(fixture_findings(kTargetMissing, "pass.helm-test-pod-lacks-port.yaml").empty());
  // A test hook that declares the port does not make the Service live: the
  // Deployment, its only backend, lacks it.
  const auto f = yaml_findings(kTargetMissing, R"(apiVersion: v1
kind: Service
metadata: {name: shop, namespace: demo}
spec:
  selector: {app: shop}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata:
  name: shop-test
  namespace: demo
  labels: {app: shop}
  annotations: {helm.sh/hook: test-success}
spec:
  containers: [{name: t, image: busybox, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: demo}
spec:
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers: [{name: shop, image: example/shop:1}]
)");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "which no container of Deployment shop declares"));
}

TEST_CASE("service-target-port-missing: judged at admission of the Service against the cache, the same verdicts") {
  const core::ManifestSet set =
      testing::load_fixture("rules/" + std::string(kTargetMissing) + "/fail.dead-port-scraped-by-monitor.yaml");
  const auto f = admission_findings(kTargetMissing, set, 0);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(contains(f[0].message, "ServiceMonitor demo/search scrapes it"));
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
  for (const bool admission : {false, true}) {
    INFO((admission ? "admission" : "lint view"));
    const auto f = admission ? admission_findings(kBreaks, set, 0, Operation::kUpdate, &old_set.objects.front())
                             : of_rule(testing::evaluate(set, 0, Operation::kUpdate, &old_set.objects.front()), kBreaks);
    REQUIRE(f.size() == 1);
    CHECK(f[0].severity == Severity::kDeny);
    CHECK(f[0].path == "spec.template.spec.containers[1].ports");
    CHECK(f[0].message ==
          "this change removes port \"https\" (8443) from container kube-rbac-proxy, which Service op-metrics:8443 "
          "targets: these pods drop out of its endpoints");
    CHECK(f[0].fix == "declare containerPort 8443 named https in container kube-rbac-proxy");
  }
}

TEST_CASE("workload-breaks-service: UPDATE that renames the targeted port -> deny, fix names it back, no second 8443") {
  const auto old_set = testing::load_yaml(operator_deployment(kWithProxyPort));
  const auto set = testing::load_yaml(operator_deployment(kRenamedProxyPort) + std::string(kMetricsService));
  const auto f = admission_findings(kBreaks, set, 0, Operation::kUpdate, &old_set.objects.front());
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kDeny);
  CHECK(f[0].path == "spec.template.spec.containers[1].ports");
  // Declaring 8443 again under the old name would duplicate the number.
  CHECK(f[0].fix ==
        "rename port metrics (8443) of container kube-rbac-proxy back to https, or set Service op-metrics's "
        "targetPort to metrics in the same change");
}

TEST_CASE("workload-breaks-service: UPDATE of a template that already lacked the port -> warn at admission, not this change's doing") {
  const auto old_set = testing::load_yaml(operator_deployment(kWithoutProxyPort));
  const auto set = testing::load_yaml(operator_deployment(kWithoutProxyPort) + std::string(kMetricsService));
  const auto f = admission_findings(kBreaks, set, 0, Operation::kUpdate, &old_set.objects.front());
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "Service op-metrics targets port name \"https\""));
  // The proxy binds the Service port, so that is where to declare it.
  CHECK(f[0].fix == "declare containerPort 8443 named https in container kube-rbac-proxy (it listens there)");
  CHECK(f[0].path == "spec.template.spec.containers[1].ports");
}

TEST_CASE("workload-breaks-service: UPDATE that keeps the port -> no finding") {
  const auto old_set = testing::load_yaml(operator_deployment(kWithProxyPort));
  const auto set = testing::load_yaml(operator_deployment(kWithProxyPort) + std::string(kMetricsService));
  CHECK(admission_findings(kBreaks, set, 0, Operation::kUpdate, &old_set.objects.front()).empty());
}

TEST_CASE("workload-breaks-service: nobody declares the port -> warn at admission of the workload, once on the Service in lint and audit") {
  const core::ManifestSet set =
      testing::load_fixture("rules/" + std::string(kBreaks) + "/pass.nobody-declares-port.yaml");
  const auto f = admission_findings(kBreaks, set, 0);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  // Nothing in the template listens on 8443: say what to check, no guess.
  CHECK(f[0].path == "spec.template.spec.containers");
  CHECK(f[0].fix ==
        "check which container serves https (e.g. a proxy sidecar that was removed) and declare the port named "
        "https there");

  // lint and the audit judge the Service too: the port is reported there only.
  for (const bool complete : {false, true}) {
    INFO((complete ? "audit" : "lint"));
    CHECK(view_findings(kBreaks, set, complete).empty());
    const auto on_service = of_rule(testing::view_findings(set, 1, Operation::kCreate, nullptr, complete), kTargetMissing);
    REQUIRE(on_service.size() == 1);
    CHECK(on_service[0].severity == Severity::kDeny);
    CHECK(on_service[0].fix == f[0].fix);
  }
}

TEST_CASE("workload-breaks-service: another selected workload serves the port -> info naming it, in lint and at admission") {
  const core::ManifestSet set =
      testing::load_fixture("rules/" + std::string(kBreaks) + "/fail.port-name-missing-declared-elsewhere.yaml");
  for (const bool admission : {false, true}) {
    INFO((admission ? "admission" : "lint"));
    const auto f = admission ? admission_findings(kBreaks, set, 0) : fixture_findings(kBreaks, "fail.port-name-missing-declared-elsewhere.yaml");
    REQUIRE(f.size() == 1);
    CHECK(f[0].severity == Severity::kInfo);
    CHECK(f[0].message ==
          "Service api targets port name \"http\", which this pod template does not declare: its pods get no "
          "endpoint for api:80, which Deployment api serves");
    // Never "declare 8080 named http": the canary already serves 8080 as web
    // and may not be meant to serve http at all.
    CHECK(f[0].fix ==
          "nothing to do if these pods do not serve http; if they do, declare the port named http in the container "
          "that serves it");
  }
}

TEST_CASE("workload-breaks-service: a Helm test Pod carrying the app's labels is no backend -> no finding anywhere") {
  const core::ManifestSet set = testing::load_fixture("rules/" + std::string(kBreaks) + "/pass.helm-test-pod.yaml");
  CHECK(admission_findings(kBreaks, set, 0).empty());
  for (const char* rule : {kBreaks, kTargetMissing, kSelectsNothing}) {
    INFO(rule);
    CHECK(of_rule(testing::evaluate_all(set), rule).empty());
  }
  // Control: the same Pod without the hook annotation is a backend that
  // lacks the port, while the Deployment serves it.
  core::ManifestSet plain = set;
  plain.objects[0].helm_test_hook = false;
  const auto f = of_rule(testing::evaluate(plain), kBreaks);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(contains(f[0].message, "which Deployment shop serves"));
}

TEST_CASE("workload-breaks-service: Jobs and CronJobs sharing the app's labels are never backends") {
  const core::ManifestSet set = testing::load_fixture("rules/" + std::string(kBreaks) + "/pass.job-shares-labels.yaml");
  CHECK(admission_findings(kBreaks, set, 0).empty());
  CHECK(of_rule(testing::evaluate_all(set), kBreaks).empty());
  const auto cron = testing::load_yaml(R"(apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: demo}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: shop}}
        spec:
          restartPolicy: Never
          containers: [{name: report, image: example/report:1}]
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: demo}
spec:
  selector: {app: shop}
  ports: [{name: http, port: 80, targetPort: http}]
)");
  CHECK(admission_findings(kBreaks, cron, 0).empty());
  // The Service that selects only Job pods: no backend, nothing to judge, and
  // not "selects nothing" either (the pods may be meant to be selected).
  const auto all = testing::evaluate_all(cron);
  CHECK(of_rule(all, kTargetMissing).empty());
  CHECK(of_rule(all, kSelectsNothing).empty());
}

TEST_CASE("workload-breaks-service: a name declared for another protocol does not count") {
  const auto f = admission_findings(kBreaks, R"(apiVersion: v1
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
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(contains(f[0].message, "over UDP, but container coredns declares it for TCP"));
  CHECK(contains(f[0].message, "dns:53"));
  // The Service's own finding gives the same fix, addressed to the Service.
  // Port 53/TCP exists already: switching the UDP port to TCP would clash.
  CHECK(f[0].fix ==
        "declare containerPort 53 with protocol UDP under a new name in container coredns and set Service dns's "
        "targetPort to it");
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
  CHECK(admission_findings(kBreaks, pod_with_init_port(/*sidecar=*/true)).empty());
}

TEST_CASE("workload-breaks-service: a name declared only by a run-to-completion init container says so") {
  const auto f = admission_findings(kBreaks, pod_with_init_port(/*sidecar=*/false));
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.initContainers[0].ports");
  CHECK(contains(f[0].message, "declared only by init container proxy of Pod p, which runs to completion"));
  CHECK_FALSE(contains(f[0].message, "does not declare"));
  CHECK(f[0].fix == "make proxy a native sidecar (restartPolicy: Always) or declare port https in a regular container");
  // The Service says the same.
  const auto set = testing::load_yaml(pod_with_init_port(false));
  const auto on_service = of_rule(testing::view_findings(set, 1, Operation::kCreate, nullptr, false), kTargetMissing);
  REQUIRE(on_service.size() == 1);
  CHECK(on_service[0].fix == f[0].fix);
}

TEST_CASE("service wiring: the same number under another name -> both rules say rename targetPort, never declare it twice") {
  const std::string yaml = R"(apiVersion: apps/v1
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
        args: ["--web.listen-address=:8443"]
        ports: [{name: metrics, containerPort: 8443}]
---
apiVersion: v1
kind: Service
metadata: {name: exporter, namespace: demo}
spec:
  ports: [{name: https, port: 8443, targetPort: https}]
  selector: {app: exporter}
)";
  const auto set = testing::load_yaml(yaml);
  const auto on_workload = admission_findings(kBreaks, set, 0);
  REQUIRE(on_workload.size() == 1);
  CHECK(on_workload[0].fix ==
        "set Service exporter's targetPort to metrics (container exporter declares 8443 under that name)");
  const auto on_service = of_rule(testing::evaluate(set, 1), kTargetMissing);
  REQUIRE(on_service.size() == 1);
  CHECK(on_service[0].fix == "set targetPort to metrics (container exporter declares 8443 under that name)");
  for (const Finding& f : {on_workload[0], on_service[0]}) CHECK_FALSE(contains(f.fix, "declare containerPort"));
  // lint: the Service alone reports it.
  CHECK(of_rule(testing::evaluate_all(set), kBreaks).empty());
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
