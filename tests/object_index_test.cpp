// ObjectIndex answers the indexed Context queries from hash indexes; the
// Context defaults (what a context without indexes, such as the cluster
// cache, inherits) answer them by scanning list(). Both must give the same
// objects in the same order, so every rule reports the same findings.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/object_index.hpp"

namespace {

using wirecheck::core::Kind;
using wirecheck::core::Object;
using wirecheck::policy::Context;
using wirecheck::policy::ObjectIndex;

// Only the required interface: every indexed query takes its default.
class ScanContext final : public Context {
 public:
  explicit ScanContext(const ObjectIndex& index) : index_(index) {}
  bool knows(Kind k) const override { return index_.knows(k); }
  bool complete() const override { return index_.complete(); }
  // Part of what the view is, not an indexed query: rules report a link once
  // (on its owner) only in a view whose every object is judged.
  bool judges_whole_view() const override { return index_.judges_whole_view(); }
  const Object* find(Kind k, std::string_view ns, std::string_view name) const override {
    return index_.find(k, ns, name);
  }
  std::vector<const Object*> list(Kind k, std::string_view ns) const override { return index_.list(k, ns); }
  std::vector<const Object*> list_all(Kind k) const override { return index_.list_all(k); }

 private:
  const ObjectIndex& index_;
};

std::string findings_text(const std::vector<wirecheck::policy::Finding>& findings) {
  std::string s;
  for (const auto& f : findings) {
    s += f.rule + " " + std::string(wirecheck::policy::severity_name(f.severity)) + " " + f.path +
         ": " + f.message + " | " + f.fix + "\n";
  }
  return s;
}

void same_findings(const wirecheck::core::ManifestSet& set, const std::string& name) {
  INFO(name);
  ObjectIndex index;
  index.add_all(set.objects);
  const ScanContext scan(index);
  const wirecheck::policy::Engine engine;
  for (const Object& o : set.objects) {
    INFO(o.ref.kind + " " + o.ref.ns + "/" + o.ref.name);
    CHECK(findings_text(engine.evaluate(o, nullptr, wirecheck::policy::Operation::kCreate, index)) ==
          findings_text(engine.evaluate(o, nullptr, wirecheck::policy::Operation::kCreate, scan)));
  }
}

// Selection shapes the fixtures have few of: multi-pair and overlapping
// selectors, matchExpressions, namespaceSelector any and matchNames, labels
// shared by many objects, cluster-scoped objects, duplicate names.
const char* const kSelections = R"(
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a, labels: {app: web, team: x}}
spec:
  selector: {app: web, tier: front}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-all, namespace: a, labels: {team: x}}
spec:
  selector: {tier: front}
  ports: [{name: http, port: 80, targetPort: web}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: b, labels: {app: web, team: y}}
spec:
  selector: {app: web}
  ports: [{name: metrics, port: 9090, targetPort: metrics}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      containers:
      - name: c
        ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: a}
spec:
  template:
    metadata: {labels: {app: db, tier: front}}
    spec:
      containers: [{name: c, ports: [{name: web, containerPort: 80}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: b}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, ports: [{name: metrics, containerPort: 9090}]}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: any, namespace: mon}
spec:
  namespaceSelector: {any: true}
  selector:
    matchLabels: {app: web}
    matchExpressions: [{key: team, operator: In, values: [x, y]}]
  endpoints: [{port: http, scheme: https, tlsConfig: {ca: {secret: {name: web-cert, key: ca.crt}}}}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: named, namespace: mon}
spec:
  namespaceSelector: {matchNames: [a, b, a]}
  selector:
    matchExpressions: [{key: team, operator: Exists}]
  endpoints: [{port: nope}, {port: metrics, scheme: https, tlsConfig: {serverName: web.b.svc}}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: everything, namespace: a}
spec:
  selector: {}
  endpoints: [{port: http, scheme: https, tlsConfig: {ca: {secret: {name: web-cert, key: ca.crt}}}}]
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: pods, namespace: a}
spec:
  selector: {matchLabels: {tier: front}}
  podMetricsEndpoints: [{port: metrics}, {port: absent}]
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: none, namespace: a}
spec:
  selector: {matchLabels: {tier: back}}
  podMetricsEndpoints: [{port: metrics}]
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web-cert, namespace: a}
spec: {secretName: web-cert, dnsNames: [web.a.svc, other.a.svc]}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web-cert-2, namespace: a}
spec: {secretName: web-cert, dnsNames: [web-all.a.svc]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: hook
  annotations: {cert-manager.io/inject-ca-from: a/web-cert}
webhooks:
- name: hook.example.dev
  clientConfig: {service: {name: web, namespace: a, port: 80}}
- name: hook2.example.dev
  clientConfig: {service: {name: web-all, namespace: a}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: hook, annotations: {cert-manager.io/inject-ca-from: a/web-cert}}
webhooks: [{name: m.example.dev, clientConfig: {service: {name: gone, namespace: a}}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: a}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
      - {path: /all, pathType: Prefix, backend: {service: {name: web-all, port: {number: 80}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: b}
spec:
  rules:
  - backendRefs: [{name: web, port: 9090}, {name: web, namespace: a, port: 80}]
)";

}  // namespace

TEST_CASE("object index: indexed queries find what the scanning defaults find, in the same order") {
  const auto set = wirecheck::testing::load_yaml(kSelections);
  ObjectIndex index;
  index.add_all(set.objects);
  const ScanContext scan(index);
  wirecheck::core::LabelSelector web{.present = true, .match_labels = {{"app", "web"}}};
  wirecheck::core::LabelSelector front_exists{
      .present = true, .match_labels = {{"tier", "front"}}, .match_expressions = {{"app", "Exists", {}}}};
  wirecheck::core::LabelSelector everything{};
  wirecheck::core::LabelSelector unknown{.present = true, .match_labels = {{"app", "none"}}};
  for (const auto* sel : {&web, &front_exists, &everything, &unknown}) {
    for (Kind k : {Kind::kService, Kind::kDeployment, Kind::kStatefulSet}) {
      CHECK(index.list_all_matching(k, *sel) == scan.list_all_matching(k, *sel));
      for (std::string_view ns : {"a", "b", "", "mon"}) {
        CHECK(index.list_matching(k, ns, *sel) == scan.list_matching(k, ns, *sel));
      }
    }
  }
  const wirecheck::core::StringMap labels = {{"tier", "front"}, {"app", "web"}};
  for (std::string_view ns : {"a", "b"}) {
    CHECK(index.services_selecting(ns, labels) == scan.services_selecting(ns, labels));
    CHECK(index.certificates_writing(ns, {"web-cert", "", "web-cert"}) ==
          scan.certificates_writing(ns, {"web-cert", "", "web-cert"}));
  }
  CHECK(index.services_selecting("a", labels).size() == 2);
  for (Kind k : {Kind::kValidatingWebhookConfiguration, Kind::kMutatingWebhookConfiguration}) {
    CHECK(index.list_all_annotated(k, "cert-manager.io/inject-ca-from", "a/web-cert") ==
          scan.list_all_annotated(k, "cert-manager.io/inject-ca-from", "a/web-cert"));
  }
  for (std::string_view ns : {"a", "b", "", "mon", "elsewhere"}) {
    for (Kind k : {Kind::kServiceMonitor, Kind::kPodMonitor}) {
      CHECK(index.list_all_monitoring(k, ns) == scan.list_all_monitoring(k, ns));
    }
    for (std::string_view name : {"web", "web-all", "gone", "none"}) {
      for (Kind k : {Kind::kValidatingWebhookConfiguration, Kind::kMutatingWebhookConfiguration,
                     Kind::kCustomResourceDefinition, Kind::kAPIService}) {
        CHECK(index.list_all_calling(k, ns, name) == scan.list_all_calling(k, ns, name));
      }
      for (Kind k : {Kind::kIngress, Kind::kHTTPRoute}) {
        CHECK(index.list_all_routing_to(k, ns, name) == scan.list_all_routing_to(k, ns, name));
      }
    }
  }
  // Each query finds something here, so the comparisons above are not all
  // between empty lists.
  CHECK(index.list_all_monitoring(Kind::kServiceMonitor, "a").size() == 3);  // any, matchNames, own
  CHECK(index.list_all_monitoring(Kind::kServiceMonitor, "b").size() == 2);
  CHECK(index.list_all_calling(Kind::kValidatingWebhookConfiguration, "a", "web").size() == 1);
  CHECK(index.list_all_routing_to(Kind::kIngress, "a", "web").size() == 1);
  CHECK(index.list_all_routing_to(Kind::kHTTPRoute, "a", "web").size() == 1);
  CHECK(index.list_all_routing_to(Kind::kHTTPRoute, "b", "web").size() == 1);
  same_findings(set, "selections");
}

TEST_CASE("object index: every rule reports the same findings through indexes as through scans") {
  namespace fs = std::filesystem;
  for (const auto& entry : fs::recursive_directory_iterator(wirecheck::testing::fixtures_dir())) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
    wirecheck::core::ManifestSet set;
    wirecheck::core::load_path(entry.path().string(), set);
    same_findings(set, entry.path().string());
  }
}
