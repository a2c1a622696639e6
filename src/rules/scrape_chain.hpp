// The scrape chain: what has to hold for Prometheus (prometheus-operator) to
// scrape a ServiceMonitor / PodMonitor / Probe target. A Prometheus (or
// PrometheusAgent) selects the monitor (label and namespace selectors), may
// discover its targets (RBAC list/watch in the target namespaces), the
// monitor selects Services (or pod templates), an endpoint's port resolves
// to a container port, TLS verifies, and the target lets the scrape in
// (kube-rbac-proxy or controller-runtime's authenticated metrics answer
// 401/403 without a token the cluster accepts).
//
// These are the questions both the scrape-chain rules and `wirecheck trace`
// ask; they live here once so that trace shows what the rules decide, never
// a second opinion. Pure functions over a read-only context; safe from any
// thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wirecheck/context.hpp"
#include "wirecheck/object.hpp"
#include "wirecheck/settings.hpp"

namespace wirecheck::rules {

// ------------------------------------------------------------- selection

// The selectors a Prometheus applies to monitors of one kind, and their
// field names for messages ("serviceMonitorSelector").
struct MonitorSelectors {
  const core::LabelSelector* labels = nullptr;
  const core::LabelSelector* namespaces = nullptr;
  std::string_view label_field;
  std::string_view namespace_field;
};
// nullopt for kinds a Prometheus does not select.
std::optional<MonitorSelectors> monitor_selectors(const core::PrometheusSpec& spec, core::Kind monitor_kind);

// Whether one Prometheus selects one monitor, and when not, the smallest
// change that would make it: labels to set or remove on the monitor or its
// namespace, or (`blocker`) a change only the Prometheus can make.
struct Selection {
  const core::Object* prometheus = nullptr;
  policy::Tri selects = policy::Tri::kNo;
  bool label_ok = false;
  bool namespace_ok = false;
  std::vector<std::pair<std::string, std::string>> add_labels;  // value "" = any value (Exists)
  std::vector<std::string> remove_labels;
  std::vector<std::pair<std::string, std::string>> add_namespace_labels;
  std::vector<std::string> remove_namespace_labels;
  std::string blocker;      // "has no serviceMonitorSelector (nil selects no ServiceMonitor)"
  std::string blocker_fix;  // "set spec.serviceMonitorSelector ({} selects every ServiceMonitor)"
  std::string how;      // ok: "serviceMonitorSelector release=prom, namespace monitoring (its own)"

  // How far from selecting: label edits count one each, a blocker more than any.
  std::size_t distance() const;
};
Selection prometheus_selects(const policy::Context& ctx, const core::Object& prometheus,
                             const core::Object& monitor);
// Every Prometheus and PrometheusAgent of the view, judged against `monitor`,
// sorted by namespace/name. Empty when the view holds none (or does not know
// the kinds).
std::vector<Selection> prometheus_selections(const policy::Context& ctx, const core::Object& monitor);
// The Prometheus closest to selecting (smallest distance, then name).
const Selection* closest(const std::vector<Selection>& selections);

// "add to metadata.labels: release: prom; label namespace apps: monitoring=on"
// (the edits of a Selection, for fixes).
std::string describe_edits(const Selection& s, const core::Object& monitor);

// "release=prom, tier In (a, b), !legacy" ("{} (everything)" when empty).
std::string describe_selector(const core::LabelSelector& selector);

// ------------------------------------------------------------- discovery

// The account Prometheus pods run as: spec.serviceAccountName, else the
// namespace's `default` (the operator leaves the pod's account unset).
std::string prometheus_account(const core::Object& prometheus);

// What a Prometheus cannot list/watch in a namespace it must discover the
// monitor's targets in ("" ns: cluster-wide, a monitor with `any: true`).
struct DiscoveryGap {
  std::string ns;
  std::string resource;  // "endpoints or endpointslices", "services", "pods"
  std::string verb;      // "list" or "watch"
};
// nullopt when every needed grant is there, or when the view cannot tell
// (no RBAC kinds; a partial view with no binding of the account at all).
std::optional<DiscoveryGap> discovery_gap(const policy::Context& ctx, const core::Object& prometheus,
                                          const core::Object& monitor);
// The resources a monitor of this kind makes Prometheus list and watch.
std::string_view discovery_resources(core::Kind monitor_kind);

// -------------------------------------------------------------- targets

// The namespaces a monitor looks in (deduplicated; empty with `any`).
std::vector<std::string> monitor_namespaces(const core::Object& obj, const core::Monitor& mon);
// Services a ServiceMonitor selects (its selector on their metadata labels,
// in its namespaces), sorted. The caller checks ctx.knows(kService).
std::vector<const core::Object*> selected_services(const policy::Context& ctx, const core::Object& obj,
                                                   const core::Monitor& mon);
// Workloads whose pod template a PodMonitor selects, sorted.
std::vector<const core::Object*> selected_pod_templates(const policy::Context& ctx, const core::Object& obj,
                                                        const core::Monitor& mon);

// One place an endpoint's scrape lands: the Service port (ServiceMonitor),
// the workload and container that declare the port, and its number.
struct ScrapeTarget {
  const core::Object* service = nullptr;            // ServiceMonitor only
  const core::ServicePort* service_port = nullptr;  // ServiceMonitor only
  const core::Object* workload = nullptr;
  const core::Container* container = nullptr;
  std::int64_t port = 0;  // container port number
};
// Every (Service port,) workload, container that the endpoint reaches, in
// the order of the selected objects. Empty when nothing resolves.
std::vector<ScrapeTarget> scrape_targets(const policy::Context& ctx, const core::Object& obj,
                                         const core::Monitor& mon, const core::MonitorEndpoint& ep);

// A target that authenticates every scrape: kube-rbac-proxy in front of the
// port, or controller-runtime's authn/authz metrics filter (`--metrics-secure`;
// without the flag, a TLS metrics bind whose account may create TokenReviews
// and SubjectAccessReviews, the newer scaffolds' default). `scrape_tls`: the
// endpoint scrapes over https.
struct SecureMetrics {
  const core::Object* workload = nullptr;
  const core::Container* container = nullptr;
  std::string what;      // "kube-rbac-proxy" / "controller-runtime's authenticated metrics"
  std::string evidence;  // "--upstream=http://127.0.0.1:8080/" / "--metrics-secure"
};
std::optional<SecureMetrics> secure_metrics(const policy::Context& ctx, const policy::Settings& settings,
                                            const ScrapeTarget& target, bool scrape_tls);

// The first reason a scrape of `ep` by `prometheus` is refused (401 or 403)
// when the target authenticates: no token sent, or the account lacks `get`
// on the path. nullopt when it passes or the view cannot tell.
struct Refusal {
  SecureMetrics target;
  int status = 401;       // 401 no token, 403 not authorised
  std::string account;    // "monitoring/prometheus-k8s" (403)
  std::string path;       // the scrape path, "/metrics" by default
};
std::optional<Refusal> scrape_refusal(const policy::Context& ctx, const policy::Settings& settings,
                                      const core::Object& monitor, const core::Monitor& mon,
                                      const core::MonitorEndpoint& ep,
                                      const std::vector<const core::Object*>& selecting);

// The Prometheus objects that select `monitor` for certain.
std::vector<const core::Object*> selecting_prometheuses(const policy::Context& ctx, const core::Object& monitor);

// ------------------------------------------------------------ references

// A ConfigMap or Secret key a monitor's TLS or credentials read that the
// view does not hold.
struct MissingReference {
  std::string path;       // "spec.endpoints[0].tlsConfig.ca.configMap"
  bool config_map = false;
  std::string name;
  std::string key;
  bool object_missing = true;  // false: the object exists, the key does not
  const core::Object* certificate = nullptr;  // a cert-manager Certificate that writes the Secret
};
// Only kinds the view knows are judged (the server never caches Secrets; the
// audit lists them only when asked to).
std::vector<MissingReference> missing_references(const policy::Context& ctx, const core::Object& monitor);

// The scrape endpoints of a ServiceMonitor / PodMonitor / Probe, each with
// its JSON path ("spec.endpoints[0]", "spec" for a Probe).
std::vector<std::pair<const core::MonitorEndpoint*, std::string>> scrape_endpoints(const core::Object& obj);

}  // namespace wirecheck::rules
