// Producers (include/wirecheck/producers.hpp): who in the view may create or
// change objects at run time, from RBAC the way the API server authorises it.
#include <catch2/catch.hpp>

#include "support.hpp"
#include "wirecheck/object_index.hpp"
#include "wirecheck/producers.hpp"

using namespace wirecheck;
using policy::Access;

namespace {

// An operator Deployment running as ServiceAccount `op` in `ops`, plus `rbac`.
core::ManifestSet with_operator(const std::string& rbac, const std::string& account = "serviceAccountName: op") {
  return testing::load_yaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: operator, namespace: ops}
spec:
  selector: {matchLabels: {app: op}}
  template:
    metadata: {labels: {app: op}}
    spec:
      )" + account + R"(
      containers: [{name: manager, image: op}]
---
)" + rbac);
}

std::optional<policy::Producer> ask(const core::ManifestSet& set, const Access& access) {
  policy::ObjectIndex index;
  index.add_all(set.objects);
  return index.producers().may(index, access);
}

}  // namespace

TEST_CASE("producers: a ClusterRoleBinding to a ClusterRole grants in every namespace") {
  const auto set = with_operator(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op}
rules: [{apiGroups: [""], resources: [services], verbs: [create, get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: op}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op}
subjects: [{kind: ServiceAccount, name: op, namespace: ops}]
)");
  const auto p = ask(set, {{"create"}, "", "services", "apps", "metrics"});
  REQUIRE(p);
  CHECK(p->who() == "Deployment ops/operator");
  CHECK(p->describe() == "Deployment ops/operator: its ServiceAccount may create services in apps");
  CHECK_FALSE(ask(set, {{"delete"}, "", "services", "apps", "metrics"}));
  CHECK_FALSE(ask(set, {{"create"}, "", "pods", "apps", ""}));
}

TEST_CASE("producers: a RoleBinding to a ClusterRole grants only in the binding's namespace") {
  const auto set = with_operator(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op}
rules: [{apiGroups: [""], resources: [services], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: op, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op}
subjects: [{kind: ServiceAccount, name: op}]
)");
  CHECK(ask(set, {{"create"}, "", "services", "ops", ""}));
  CHECK_FALSE(ask(set, {{"create"}, "", "services", "other", ""}));
}

TEST_CASE("producers: an aggregated ClusterRole takes the rules of the ClusterRoles its selectors match") {
  const auto set = with_operator(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {rbac.example.com/aggregate-to-op: "true"}}]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op-webhooks, labels: {rbac.example.com/aggregate-to-op: "true"}}
rules: [{apiGroups: [admissionregistration.k8s.io], resources: [validatingwebhookconfigurations], verbs: [get, update]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: op}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op}
subjects: [{kind: ServiceAccount, name: op, namespace: ops}]
)");
  const auto p = ask(set, {{"update", "patch"}, "admissionregistration.k8s.io", "validatingwebhookconfigurations", "",
                           "op-webhook"});
  REQUIRE(p);
  CHECK(p->grant == "may update validatingwebhookconfigurations");
}

TEST_CASE("producers: resourceNames limit update to those names and never allow create") {
  const auto set = with_operator(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op}
rules:
- apiGroups: [admissionregistration.k8s.io]
  resources: [mutatingwebhookconfigurations]
  resourceNames: [mine]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: op}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op}
subjects: [{kind: ServiceAccount, name: op, namespace: ops}]
)");
  const std::string_view g = "admissionregistration.k8s.io", r = "mutatingwebhookconfigurations";
  const auto mine = ask(set, {{"patch"}, g, r, "", "mine"});
  REQUIRE(mine);
  CHECK(mine->grant == "may patch mutatingwebhookconfigurations/mine");
  CHECK_FALSE(ask(set, {{"patch"}, g, r, "", "theirs"}));
  CHECK_FALSE(ask(set, {{"create"}, g, r, "", "mine"}));
}

TEST_CASE("producers: wildcards match any verb, group and resource") {
  const auto set = with_operator(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: op, namespace: ops}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: op, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: op}
subjects: [{kind: ServiceAccount, name: op, namespace: ops}]
)");
  CHECK(ask(set, {{"create"}, "", "services", "ops", ""}));
  CHECK(ask(set, {{"create"}, "apps", "statefulsets", "ops", ""}));
  // A Role never reaches another namespace nor cluster-scoped resources.
  CHECK_FALSE(ask(set, {{"create"}, "", "services", "elsewhere", ""}));
  CHECK_FALSE(ask(set, {{"update"}, "apiextensions.k8s.io", "customresourcedefinitions", "", "x"}));
}

TEST_CASE("producers: a pod template without serviceAccountName runs as the namespace's default account") {
  const std::string rbac = R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: op, namespace: ops}
rules: [{apiGroups: [""], resources: [services], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: op, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: op}
subjects: [{kind: ServiceAccount, name: default, namespace: ops}]
)";
  CHECK(ask(with_operator(rbac, "automountServiceAccountToken: true"), {{"create"}, "", "services", "ops", ""}));
  CHECK_FALSE(ask(with_operator(rbac), {{"create"}, "", "services", "ops", ""}));
}

TEST_CASE("producers: the system:serviceaccounts group of a namespace grants every account there") {
  const auto set = with_operator(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op}
rules: [{apiGroups: [""], resources: [pods], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: op}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op}
subjects: [{kind: Group, name: "system:serviceaccounts:ops", apiGroup: rbac.authorization.k8s.io}]
)");
  CHECK(ask(set, {{"create"}, "", "pods", "anywhere", ""}));
}

TEST_CASE("producers: a helm test hook is not a producer") {
  const auto set = testing::load_yaml(R"(
apiVersion: v1
kind: Pod
metadata:
  name: test-connection
  namespace: ops
  annotations: {helm.sh/hook: test}
spec:
  serviceAccountName: op
  containers: [{name: t, image: busybox}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: op, namespace: ops}
rules: [{apiGroups: [""], resources: [services], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: op, namespace: ops}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: op}
subjects: [{kind: ServiceAccount, name: op}]
)");
  CHECK(set.objects.front().helm_test_hook);
  CHECK_FALSE(ask(set, {{"create"}, "", "services", "ops", ""}));
}
