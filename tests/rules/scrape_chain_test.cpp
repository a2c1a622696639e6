// The scrape chain: selector semantics as prometheus-operator applies them
// (each nil / {} combination), discovery RBAC through aggregated
// ClusterRoles, secure-metrics detection (kube-rbac-proxy, controller-runtime)
// and what each rule's finding says and proposes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "rules/scrape_chain.hpp"
#include "support.hpp"
#include "wirecheck/object_index.hpp"

namespace wirecheck {
namespace {

using core::Kind;
using policy::Finding;
using policy::Severity;
using policy::Tri;
using testing::contains;
using testing::fixture_findings;
using testing::of_rule;

// A view over `yaml` (namespaces as written) and lookups into it.
struct View {
  core::ManifestSet set;
  policy::ObjectIndex index;

  explicit View(std::string_view yaml, bool complete = false) : set(testing::load_yaml(yaml)), index(complete) {
    index.add_all(set.objects);
  }
  const core::Object& get(Kind kind, std::string_view name) const {
    for (const core::Object& o : set.objects) {
      if (o.kind == kind && o.name() == name) return o;
    }
    FAIL("no object " << name);
    return set.objects.front();
  }
};

std::string monitor_yaml(std::string_view ns, std::string_view labels) {
  return "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: app\n  namespace: " +
         std::string(ns) + "\n  labels: " + std::string(labels) +
         "\nspec:\n  selector: {matchLabels: {app: app}}\n  endpoints: [{port: metrics}]\n";
}

std::string prometheus_yaml(std::string_view selectors) {
  return "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata:\n  name: k8s\n  namespace: monitoring\n"
         "spec:\n" + std::string(selectors) + "\n";
}

// =================================================== selector semantics

TEST_CASE("scrape chain: nil and {} selectors select as the operator applies them") {
  struct Case {
    const char* what;
    const char* monitor_ns;
    const char* monitor_labels;
    const char* selectors;  // Prometheus spec lines ("  {}" = none)
    Tri expected;
  };
  const std::vector<Case> cases = {
      {"nil label selector selects nothing, even in its own namespace", "monitoring", "{}", "  replicas: 1", Tri::kNo},
      {"{} label selector, nil namespace selector: its own namespace", "monitoring", "{}",
       "  serviceMonitorSelector: {}", Tri::kYes},
      {"{} label selector, nil namespace selector: not another namespace", "apps", "{}",
       "  serviceMonitorSelector: {}", Tri::kNo},
      {"{} label selector, {} namespace selector: every namespace", "apps", "{}",
       "  serviceMonitorSelector: {}\n  serviceMonitorNamespaceSelector: {}", Tri::kYes},
      {"nil label selector with {} namespace selector still selects nothing", "apps", "{}",
       "  serviceMonitorNamespaceSelector: {}", Tri::kNo},
      {"matchLabels the monitor carries", "monitoring", "{release: prom}",
       "  serviceMonitorSelector: {matchLabels: {release: prom}}", Tri::kYes},
      {"matchLabels the monitor lacks", "monitoring", "{app: x}",
       "  serviceMonitorSelector: {matchLabels: {release: prom}}", Tri::kNo},
      {"namespace selected by kubernetes.io/metadata.name without a Namespace object", "apps", "{}",
       "  serviceMonitorSelector: {}\n  serviceMonitorNamespaceSelector: {matchLabels: "
       "{kubernetes.io/metadata.name: apps}}",
       Tri::kYes},
      {"namespace label of a Namespace the view lacks: unknown", "apps", "{}",
       "  serviceMonitorSelector: {}\n  serviceMonitorNamespaceSelector: {matchLabels: {monitoring: on}}",
       Tri::kUnknown},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const View v(monitor_yaml(c.monitor_ns, c.monitor_labels) + "---\n" + prometheus_yaml(c.selectors));
    const rules::Selection s =
        rules::prometheus_selects(v.index, v.get(Kind::kPrometheus, "k8s"), v.get(Kind::kServiceMonitor, "app"));
    CHECK(s.selects == c.expected);
  }
}

TEST_CASE("scrape chain: namespace selectors match the Namespace object's labels") {
  const std::string prom = prometheus_yaml(
      "  serviceMonitorSelector: {}\n  serviceMonitorNamespaceSelector: {matchLabels: {monitoring: enabled}}");
  const View labelled(monitor_yaml("apps", "{}") + "---\n" + prom +
                      "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: apps, labels: {monitoring: enabled}}\n");
  CHECK(rules::prometheus_selects(labelled.index, labelled.get(Kind::kPrometheus, "k8s"),
                                  labelled.get(Kind::kServiceMonitor, "app"))
            .selects == Tri::kYes);
  const View unlabelled(monitor_yaml("apps", "{}") + "---\n" + prom +
                        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n");
  const rules::Selection s = rules::prometheus_selects(unlabelled.index, unlabelled.get(Kind::kPrometheus, "k8s"),
                                                       unlabelled.get(Kind::kServiceMonitor, "app"));
  CHECK(s.selects == Tri::kNo);
  REQUIRE(s.add_namespace_labels.size() == 1);
  CHECK(s.add_namespace_labels[0] == std::pair<std::string, std::string>{"monitoring", "enabled"});
  CHECK(rules::describe_edits(s, unlabelled.get(Kind::kServiceMonitor, "app")) ==
        "kubectl label namespace apps monitoring=enabled");
}

TEST_CASE("scrape chain: match expressions give the label edits that satisfy them") {
  const View v(monitor_yaml("monitoring", "{legacy: 'yes', tier: web}") + "---\n" +
               prometheus_yaml("  serviceMonitorSelector:\n    matchExpressions:\n"
                               "      - {key: release, operator: In, values: [prom, prom2]}\n"
                               "      - {key: legacy, operator: DoesNotExist}\n"
                               "      - {key: team, operator: Exists}\n"));
  const core::Object& mon = v.get(Kind::kServiceMonitor, "app");
  const rules::Selection s = rules::prometheus_selects(v.index, v.get(Kind::kPrometheus, "k8s"), mon);
  CHECK(s.selects == Tri::kNo);
  CHECK(rules::describe_edits(s, mon) ==
        "add to the ServiceMonitor's metadata.labels: release: prom, team: <any value>; remove from the "
        "ServiceMonitor's metadata.labels: legacy");
}

TEST_CASE("scrape chain: the closest Prometheus is the one needing the fewest changes") {
  const View v(monitor_yaml("apps", "{team: a}") + "---\n" +
               "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: far, namespace: monitoring}\n"
               "spec:\n  serviceMonitorSelector: {matchLabels: {release: x, tier: y}}\n"
               "  serviceMonitorNamespaceSelector: {}\n---\n"
               "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusAgent\nmetadata: {name: near, namespace: monitoring}\n"
               "spec:\n  serviceMonitorSelector: {matchLabels: {release: x}}\n  serviceMonitorNamespaceSelector: {}\n");
  const auto all = rules::prometheus_selections(v.index, v.get(Kind::kServiceMonitor, "app"));
  REQUIRE(all.size() == 2);
  const rules::Selection* best = rules::closest(all);
  REQUIRE(best != nullptr);
  CHECK(best->prometheus->name() == "near");
}

// =============================================================== rules

TEST_CASE("monitor-not-selected: a missing release label -> warn naming the exact label to add") {
  const auto f = fixture_findings("monitor-not-selected", "fail.missing-release-label.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "metadata.labels");
  CHECK(f[0].message ==
        "the only Prometheus, Prometheus monitoring/k8s, needs labels release=kube-prom: this ServiceMonitor is "
        "never scraped");
  CHECK(f[0].fix == "add to the ServiceMonitor's metadata.labels: release: kube-prom");
}

TEST_CASE("monitor-not-selected: nil namespace selector and another namespace -> fix names the selector to set") {
  const auto f = fixture_findings("monitor-not-selected", "fail.nil-namespace-selector.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "metadata.namespace");
  CHECK(contains(f[0].message, "selects ServiceMonitors only in its own namespace monitoring"));
  CHECK(f[0].fix ==
        "set spec.serviceMonitorNamespaceSelector: {matchLabels: {kubernetes.io/metadata.name: apps}} (or move "
        "the ServiceMonitor to monitoring) on Prometheus monitoring/k8s");
}

TEST_CASE("monitor-not-selected: a Probe whose namespace lacks the selected label -> kubectl label namespace") {
  const auto f = fixture_findings("monitor-not-selected", "fail.probe-namespace-label.yaml");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "needs namespace apps labelled monitoring=enabled"));
  CHECK(f[0].fix == "kubectl label namespace apps monitoring=enabled");
}

TEST_CASE("prometheus-cannot-discover: a Role in its own namespace only -> warn, fix grants in the target namespace") {
  const auto f = fixture_findings("prometheus-cannot-discover", "fail.role-in-own-namespace-only.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].message ==
        "Prometheus monitoring/k8s runs as ServiceAccount monitoring/prometheus, which may not list services in "
        "namespace apps: its service discovery finds no target of this ServiceMonitor");
  CHECK(f[0].fix ==
        "grant ServiceAccount monitoring/prometheus get, list and watch on services, endpoints (or endpointslices) "
        "and pods in namespace apps (a Role and RoleBinding there, or a ClusterRole bound cluster-wide)");
}

TEST_CASE("prometheus-cannot-discover: list without watch is not enough") {
  const auto f = fixture_findings("prometheus-cannot-discover", "fail.no-watch.yaml");
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "may not watch pods in namespace monitoring"));
}

TEST_CASE("prometheus-cannot-discover: rules of an aggregated ClusterRole count") {
  const std::string base = R"(apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: app, namespace: apps}
spec:
  selector: {matchLabels: {app: app}}
  podMetricsEndpoints: [{port: metrics}]
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: k8s, namespace: monitoring}
spec:
  serviceAccountName: prometheus
  podMonitorSelector: {}
  podMonitorNamespaceSelector: {}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: prometheus}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {example.com/aggregate-to-prometheus: "true"}}]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prometheus}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: prometheus}
subjects: [{kind: ServiceAccount, name: prometheus, namespace: monitoring}]
)";
  const std::string child = R"(---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: prometheus-pods, labels: {example.com/aggregate-to-prometheus: "true"}}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list, watch]}]
)";
  // A binding whose role grants nothing yet still binds the account: the
  // aggregated rules are what decide.
  const std::string unrelated = R"(---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: prometheus-config}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prometheus-config}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: prometheus-config}
subjects: [{kind: ServiceAccount, name: prometheus, namespace: monitoring}]
)";
  CHECK(testing::yaml_findings("prometheus-cannot-discover", base + child + unrelated).empty());
  const auto f = testing::yaml_findings("prometheus-cannot-discover", base + unrelated);
  REQUIRE(f.size() == 1);
  CHECK(contains(f[0].message, "may not list pods cluster-wide") == false);
  CHECK(contains(f[0].message, "may not list pods in namespace apps"));
}

TEST_CASE("scrape-unauthorized: kube-rbac-proxy without a token -> 401, fix adds the Prometheus's token") {
  const auto f = fixture_findings("scrape-unauthorized", "fail.rbac-proxy-without-token.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == Severity::kWarn);
  CHECK(f[0].path == "spec.endpoints[0]");
  CHECK(f[0].message ==
        "every scrape gets 401: kube-rbac-proxy (container kube-rbac-proxy of Deployment system/controller-manager) "
        "requires a bearer token and the endpoint sends none");
  CHECK(f[0].fix ==
        "add to spec.endpoints[0]: bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token (the "
        "Prometheus's own token), and let its ServiceAccount get nonResourceURL /metrics");
}

TEST_CASE("scrape-unauthorized: --metrics-secure and no /metrics grant -> 403 naming the account") {
  const auto f = fixture_findings("scrape-unauthorized", "fail.metrics-secure-not-granted.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "spec.endpoints[0].bearerTokenFile");
  CHECK(f[0].message ==
        "every scrape gets 403: controller-runtime's secure metrics (container manager of Deployment "
        "system/controller-manager) admits accounts allowed to get /metrics; no ClusterRole grants that to "
        "ServiceAccount system/prometheus");
  CHECK(f[0].fix ==
        "bind a ClusterRole with rules: [{nonResourceURLs: [\"/metrics\"], verbs: [get]}] to ServiceAccount "
        "system/prometheus with a ClusterRoleBinding");
}

// ===================================================== secure metrics

// The first scrape target of the ServiceMonitor `app` in `yaml`.
std::optional<rules::SecureMetrics> secure_of(std::string_view yaml, bool tls = true) {
  const View v(yaml);
  const core::Object& mon = v.get(Kind::kServiceMonitor, "app");
  const auto targets = rules::scrape_targets(v.index, mon, *mon.monitor(), mon.monitor()->endpoints[0]);
  REQUIRE(targets.size() == 1);
  return rules::secure_metrics(v.index, policy::Settings::defaults(), targets[0], tls);
}

std::string target_yaml(std::string_view container, std::string_view extra = "") {
  return std::string(R"(apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: app, namespace: apps}
spec:
  selector: {matchLabels: {app: app}}
  endpoints: [{port: https, scheme: https}]
---
apiVersion: v1
kind: Service
metadata: {name: app, namespace: apps, labels: {app: app}}
spec:
  selector: {app: app}
  ports: [{name: https, port: 8443, targetPort: 8443}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: apps}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      serviceAccountName: manager
      containers:
)") + std::string(container) + std::string(extra);
}

TEST_CASE("secure metrics: kube-rbac-proxy is known by its flags or its name") {
  auto by_flag = secure_of(target_yaml(
      "        - {name: proxy, args: [--secure-listen-address=0.0.0.0:8443, --upstream=http://127.0.0.1:8080/], "
      "ports: [{containerPort: 8443}]}\n"));
  REQUIRE(by_flag);
  CHECK(by_flag->what == "kube-rbac-proxy");
  auto by_name = secure_of(target_yaml(
      "        - {name: kube-rbac-proxy, args: [--upstream=http://127.0.0.1:8080/], ports: [{containerPort: 8443}]}\n"));
  CHECK(by_name);
  // Another reverse proxy with an upstream is not assumed to authenticate.
  CHECK_FALSE(secure_of(target_yaml(
      "        - {name: oauth-proxy, args: [--http-address=:8443, --upstream=http://127.0.0.1:8080/], ports: "
      "[{containerPort: 8443}]}\n")));
  // /metrics let through without authentication.
  CHECK_FALSE(secure_of(target_yaml(
      "        - {name: kube-rbac-proxy, args: [--upstream=http://127.0.0.1:8080/, --ignore-paths=/metrics], "
      "ports: [{containerPort: 8443}]}\n")));
}

TEST_CASE("secure metrics: controller-runtime's --metrics-secure, and =false turns it off") {
  auto on = secure_of(target_yaml(
      "        - {name: manager, args: [--metrics-bind-address=:8443, --metrics-secure], ports: [{containerPort: 8443}]}\n"));
  REQUIRE(on);
  CHECK(on->what == "controller-runtime's secure metrics");
  CHECK(on->evidence == "--metrics-secure");
  CHECK_FALSE(secure_of(target_yaml(
      "        - {name: manager, args: [--metrics-bind-address=:8443, --metrics-secure=false], ports: "
      "[{containerPort: 8443}]}\n")));
  // No flag, no authentication grants: plain metrics.
  CHECK_FALSE(secure_of(target_yaml(
      "        - {name: manager, args: [--metrics-bind-address=:8443], ports: [{containerPort: 8443}]}\n")));
}

TEST_CASE("secure metrics: newer scaffolds (no flag) are known by the TokenReview and SubjectAccessReview grants") {
  const std::string container =
      "        - {name: manager, args: [--metrics-bind-address=:8443], ports: [{containerPort: 8443}]}\n";
  const std::string rbac = R"(---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics-auth}
rules:
  - {apiGroups: [authentication.k8s.io], resources: [tokenreviews], verbs: [create]}
  - {apiGroups: [authorization.k8s.io], resources: [subjectaccessreviews], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: metrics-auth}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-auth}
subjects: [{kind: ServiceAccount, name: manager, namespace: apps}]
)";
  auto found = secure_of(target_yaml(container, rbac));
  REQUIRE(found);
  CHECK(contains(found->evidence, "may create tokenreviews and subjectaccessreviews"));
  // Over plain HTTP the filter is not in play (the scaffold serves it over TLS).
  CHECK_FALSE(secure_of(target_yaml(container, rbac), /*tls=*/false));
}

// ============================================ monitor-tls-reference-missing

TEST_CASE("monitor-tls-reference-missing: a missing ConfigMap is info in lint and deny in the audit") {
  const auto lint = fixture_findings("monitor-tls-reference-missing", "fail.configmap-missing.yaml");
  REQUIRE(lint.size() == 1);
  CHECK(lint[0].severity == Severity::kInfo);
  CHECK(lint[0].path == "spec.endpoints[0].tlsConfig.ca.configMap");
  CHECK(contains(lint[0].message, "ConfigMap apps/serving-ca is not in the input"));
  CHECK(lint[0].fix ==
        "create ConfigMap apps/serving-ca with key \"ca.crt\", or point spec.endpoints[0].tlsConfig.ca.configMap at "
        "one that exists");
  const core::ManifestSet set = testing::load_fixture("rules/monitor-tls-reference-missing/fail.configmap-missing.yaml");
  const auto audit = of_rule(testing::view_findings(set, 0, policy::Operation::kCreate, nullptr, true),
                             "monitor-tls-reference-missing");
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].severity == Severity::kDeny);
  CHECK(contains(audit[0].message, "ConfigMap apps/serving-ca does not exist"));
  CHECK(audit[0].cause == "ConfigMap apps/serving-ca does not exist");
}

TEST_CASE("monitor-tls-reference-missing: a Secret without the key -> fix names the key") {
  const auto f = fixture_findings("monitor-tls-reference-missing", "fail.key-missing.yaml");
  REQUIRE(f.size() == 1);
  CHECK(f[0].path == "spec.podMetricsEndpoints[0].authorization.credentials");
  CHECK(contains(f[0].message, "Secret apps/scrape-token has no key \"token\""));
  CHECK(f[0].fix == "add key \"token\" to Secret apps/scrape-token, or set "
                    "spec.podMetricsEndpoints[0].authorization.credentials.key to one of its keys");
}

TEST_CASE("monitor-tls-reference-missing: Secrets the view does not list say nothing") {
  const core::ManifestSet set = testing::load_yaml(R"(apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: app, namespace: apps}
spec:
  selector: {matchLabels: {app: app}}
  endpoints: [{port: metrics, bearerTokenSecret: {name: token, key: token}}]
)");
  policy::ObjectIndex audit(/*complete=*/true);
  audit.add_all(set.objects);
  audit.mark_unknown(Kind::kSecret);  // audit without --secret-names
  const policy::Engine engine(policy::Settings::defaults());
  const auto found = engine.evaluate(set.objects[0], nullptr, policy::Operation::kCreate, audit);
  CHECK(of_rule(found, "monitor-tls-reference-missing").empty());
}

}  // namespace
}  // namespace wirecheck
