// "Made at run time" (RULES.md): a missing counterpart that something in the
// view produces (an operator creating Services or pods, a controller patching
// a caBundle, prometheus-operator labelling pods by convention) is info,
// naming the producer; the same manifests without a producer keep their
// warning. One test per pattern, each with its control.
#include <catch2/catch.hpp>

#include <string>

#include "support.hpp"

using namespace wirecheck;
using policy::Severity;
using testing::contains;

namespace {

// An operator in `ops` whose ClusterRole (bound cluster-wide) grants `rules`.
std::string operator_with(const std::string& rules) {
  return R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: operator, namespace: ops}
spec:
  selector: {matchLabels: {app: op}}
  template:
    metadata: {labels: {app: op}}
    spec:
      serviceAccountName: op
      containers: [{name: manager, image: op}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op}
rules: )" + rules + R"(
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: op}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op}
subjects: [{kind: ServiceAccount, name: op, namespace: ops}]
)";
}

std::string crd(const std::string& plural, const std::string& versions) {
  return R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: )" + plural + R"(.example.com}
spec:
  group: example.com
  names: {kind: Thing, plural: )" + plural + R"(}
  scope: Namespaced
  versions: )" + versions + R"(
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: [v1]
      clientConfig:
        caBundle: Cg==
        service: {name: conversion, namespace: ops, path: /convert}
)";
}

const char* const kTwoVersions =
    "[{name: v1, served: true, storage: true}, {name: v1alpha1, served: true, storage: false}]";

std::vector<policy::Finding> findings_of(const std::string& rule, const std::string& yaml) {
  return testing::of_rule(testing::evaluate(testing::load_yaml(yaml)), rule);
}

}  // namespace

TEST_CASE("made at run time: a conversion Service that the operator may create is info, naming the operator") {
  const std::string services = R"([{apiGroups: [""], resources: [services], verbs: [create, get, list]}])";
  const auto f = findings_of("webhook-service-missing", crd("things", kTwoVersions) + "---" + operator_with(services));
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(contains(f[0].message, "may be created at run time by Deployment ops/operator"));
  CHECK(contains(f[0].message, "may create services in ops"));
  CHECK(f[0].cause == "Service ops/conversion does not exist");

  // Control: the same operator without that grant leaves the warning.
  const std::string none = R"([{apiGroups: [""], resources: [configmaps], verbs: [create]}])";
  const auto control = findings_of("webhook-service-missing", crd("things", kTwoVersions) + "---" + operator_with(none));
  REQUIRE(control.size() == 1);
  CHECK(control[0].severity == Severity::kWarn);
}

TEST_CASE("made at run time: an operator that may update CRDs rewrites their clientConfig, so a placeholder Service is info") {
  const std::string crds =
      R"([{apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [get, update]}])";
  const auto f = findings_of("webhook-service-missing", crd("things", kTwoVersions) + "---" + operator_with(crds));
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(contains(f[0].message, "may be repointed at run time by Deployment ops/operator"));
}

TEST_CASE("made at run time: the conversion webhook of a CRD serving one version is never called") {
  const auto one = findings_of("webhook-service-missing", crd("things", "[{name: v1, served: true, storage: true}]"));
  REQUIRE(one.size() == 1);
  CHECK(one[0].severity == Severity::kInfo);
  CHECK(contains(one[0].message, "never calls it"));

  const auto two = findings_of("webhook-service-missing", crd("things", kTwoVersions));
  REQUIRE(two.size() == 1);
  CHECK(two[0].severity == Severity::kWarn);
}

TEST_CASE("made at run time: a caBundle that an aggregated ClusterRole lets the webhook patch is info") {
  const std::string webhook = R"(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: op-webhook}
webhooks:
- name: v.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig: {service: {name: op-webhook, namespace: ops}}
  rules: [{apiGroups: [example.com], apiVersions: [v1], operations: [CREATE], resources: [things]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op-webhook-writer, labels: {example.com/aggregate-to-op: "true"}}
rules: [{apiGroups: [admissionregistration.k8s.io], resources: [validatingwebhookconfigurations], verbs: [get, update]}]
---)";
  const std::string aggregated = R"([]
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {example.com/aggregate-to-op: "true"}}])";
  const auto f = findings_of("webhook-missing-ca-bundle", webhook + operator_with(aggregated));
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(contains(f[0].message, "injected at run time by Deployment ops/operator"));

  // Control: without the aggregation the operator may not touch it.
  const auto control = findings_of("webhook-missing-ca-bundle", webhook + operator_with("[]"));
  REQUIRE(control.size() == 1);
  CHECK(control[0].severity == Severity::kWarn);
}

TEST_CASE("made at run time: metrics Services an operator may create make an empty monitor selection info") {
  const std::string monitor = R"(
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: db-metrics, namespace: ops}
spec:
  selector: {matchLabels: {app.kubernetes.io/component: db-metrics}}
  endpoints: [{port: metrics}]
---)";
  const std::string services = R"([{apiGroups: [""], resources: [services], verbs: ["*"]}])";
  const auto f = findings_of("servicemonitor-selects-nothing", monitor + operator_with(services));
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);
  CHECK(contains(f[0].message, "created at run time by Deployment ops/operator"));

  const auto control = findings_of("servicemonitor-selects-nothing", monitor + operator_with("[]"));
  REQUIRE(control.size() == 1);
  CHECK(control[0].severity == Severity::kWarn);
}

TEST_CASE("made at run time: a Service selecting prometheus: NAME selects the pods of the Prometheus NAME") {
  const std::string service = R"(
apiVersion: v1
kind: Service
metadata: {name: prometheus-k8s, namespace: monitoring}
spec:
  selector: {prometheus: k8s}
  ports: [{name: web, port: 9090, targetPort: web}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: grafana, namespace: monitoring}
spec:
  selector: {matchLabels: {app: grafana}}
  template:
    metadata: {labels: {app: grafana}}
    spec: {containers: [{name: grafana, image: grafana}]}
---)";
  const std::string prometheus = R"(
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: k8s, namespace: monitoring}
spec: {replicas: 2}
)";
  CHECK(findings_of("service-selects-nothing", service + prometheus).empty());

  // Control: the Prometheus of that name runs in another namespace, so
  // nothing makes pods here: the warning stays.
  std::string elsewhere = prometheus;
  elsewhere.replace(elsewhere.find("namespace: monitoring"), 21, "namespace: other-team");
  const auto control = findings_of("service-selects-nothing", service + elsewhere);
  REQUIRE(control.size() == 1);
  CHECK(control[0].severity == Severity::kWarn);
}

TEST_CASE("made at run time: pods an operator may create make an empty Service selection info") {
  const std::string service = R"(
apiVersion: v1
kind: Service
metadata: {name: cluster-db, namespace: ops}
spec:
  selector: {db.example.com/cluster: main}
  ports: [{name: pg, port: 5432, targetPort: 5432}]
---)";
  // The custom resource names the cluster but declares no pod labels.
  const std::string cluster = R"(
apiVersion: db.example.com/v1
kind: DbCluster
metadata: {name: main, namespace: ops}
spec: {instances: 3}
---)";
  const std::string pods = R"([{apiGroups: [apps], resources: [statefulsets], verbs: [create, update]}])";
  const auto f = findings_of("service-selects-nothing", service + cluster + operator_with(pods));
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kInfo);

  const auto control = findings_of("service-selects-nothing", service + cluster + operator_with("[]"));
  REQUIRE(control.size() == 1);
  CHECK(control[0].severity == Severity::kWarn);
}
