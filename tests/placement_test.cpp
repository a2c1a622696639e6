// Placement (include/wirecheck/placement.hpp): lint puts namespace-less
// objects where `helm install -n` / `kubectl apply -n` would, inferred from
// the input's own references when -n is not given.
#include <catch2/catch.hpp>

#include <string>

#include "support.hpp"
#include "wirecheck/lint.hpp"
#include "wirecheck/placement.hpp"

using namespace wirecheck;
using policy::Placement;
using testing::contains;

namespace {

// What `helm template -n guard` of a webhook chart renders: no namespace on
// the Service and Deployment, the release namespace in clientConfig.
const char* const kChart = R"(
apiVersion: v1
kind: Service
metadata: {name: guard-webhook}
spec:
  selector: {app: guard}
  ports: [{name: https, port: 443, targetPort: webhook}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: guard}
spec:
  selector: {matchLabels: {app: guard}}
  template:
    metadata: {labels: {app: guard}}
    spec:
      containers: [{name: guard, image: guard, ports: [{name: webhook, containerPort: 9443}]}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: guard}
webhooks:
- name: v.guard.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Ignore
  clientConfig:
    caBundle: Cg==
    service: {name: guard-webhook, namespace: guard}
  rules: [{apiGroups: [example.com], apiVersions: [v1], operations: [CREATE], resources: [things]}]
)";

policy::LintReport lint(core::ManifestSet set, const std::string& ns = "") {
  const policy::Engine engine;
  return policy::lint_manifests(set, engine, {.ns = ns});
}

}  // namespace

TEST_CASE("placement: without -n, the namespace the input's references agree on is used and stated") {
  const auto report = lint(testing::load_yaml(kChart));
  CHECK(report.placement.source == Placement::Source::kInferred);
  CHECK(report.placement.ns == "guard");
  REQUIRE(report.placement.evidence.size() == 1);
  CHECK(contains(report.placement.evidence[0], "calls Service guard/guard-webhook"));
  CHECK(testing::of_rule(report.findings, "webhook-service-missing").empty());
}

TEST_CASE("placement: -n always wins, and a reference elsewhere is then really elsewhere") {
  const auto report = lint(testing::load_yaml(kChart), "other");
  CHECK(report.placement.source == Placement::Source::kFlag);
  CHECK(report.placement.ns == "other");
  const auto f = testing::of_rule(report.findings, "webhook-service-missing");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == policy::Severity::kWarn);
}

TEST_CASE("placement: references that disagree keep default, and a name that exists is never missing") {
  const std::string yaml = std::string(kChart) + R"(
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: guard}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: guard}
subjects: [{kind: ServiceAccount, name: default, namespace: elsewhere}]
)";
  const auto report = lint(testing::load_yaml(yaml));
  CHECK(report.placement.source == Placement::Source::kDefault);
  CHECK(report.placement.ns == "default");
  CHECK(report.placement.candidates == std::vector<std::string>{"elsewhere", "guard"});
  CHECK(testing::of_rule(report.findings, "webhook-service-missing").empty());
}

TEST_CASE("placement: a reference to a name absent from the input stays a warning, with or without a namespace") {
  std::string yaml = kChart;
  const std::string ref = "service: {name: guard-webhook, namespace: guard}";
  yaml.replace(yaml.find(ref), ref.size(), "service: {name: absent, namespace: guard}");
  const auto report = lint(testing::load_yaml(yaml));
  const auto f = testing::of_rule(report.findings, "webhook-service-missing");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == policy::Severity::kWarn);
}

TEST_CASE("placement: cluster-scoped kinds lose a stray namespace; custom resources follow their CRD's scope") {
  auto set = testing::load_yaml(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, namespace: oops}
rules: []
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: globals.example.com}
spec:
  group: example.com
  names: {kind: Global, plural: globals}
  scope: Cluster
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: example.com/v1
kind: Global
metadata: {name: g}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
)");
  const Placement p = policy::place_in_apply_namespace(set, "team");
  CHECK(set.objects[0].ns().empty());
  CHECK(set.objects[2].ns().empty());
  CHECK(set.objects[3].ns() == "team");
  CHECK(p.placed == 1);
}
