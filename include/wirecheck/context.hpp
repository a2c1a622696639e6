// Context: the other objects a rule may look at. In `lint` it is every
// manifest given; in the server, the in-cluster cache. Lookups are indexed
// (by kind and namespace, name, label, annotation, selector), never a scan
// of everything for every object: rules use the queries below rather than
// filtering list() themselves. The indexed queries have scanning defaults,
// so an implementation can start with the five required functions.
//
// A rule that needs context asks `knows(kind)` first: when the view of that
// kind does not exist (no cache yet, CRD not installed) it reports nothing
// rather than guessing. `complete()` is true only for a whole-cluster view
// (audit): findings that may be caused by apply order or partial input are
// `warn` unless the view is complete.
//
// Implementations are read-only while rules run and must be safe for
// concurrent readers.
#pragma once

#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wirecheck/object.hpp"
#include "wirecheck/producers.hpp"
#include "wirecheck/severity.hpp"

namespace wirecheck::policy {

class Context {
 public:
  Context() = default;
  // A copy (the cache's copy-on-write snapshots) builds its own producers.
  Context(const Context&) {}
  Context& operator=(const Context&) {
    const std::lock_guard lock(producers_mutex_);
    producers_.reset();
    return *this;
  }
  virtual ~Context() = default;

  // Who in this view may create or change objects at run time (RBAC of its
  // workloads, producers.hpp). Built on first use, then shared by every
  // evaluation against this view; safe for concurrent readers.
  const Producers& producers() const;

  // Whether objects of this kind can be looked up at all.
  virtual bool knows(core::Kind kind) const = 0;
  // Whether the view is the whole cluster.
  virtual bool complete() const = 0;
  // Whether every object of the view is evaluated too (lint, audit), not
  // only the one under review (admission): a link between two objects is
  // then reported once, by the object that owns it (a Service's port that
  // no workload declares, on the Service, not again on each workload).
  virtual bool judges_whole_view() const { return false; }
  // Why `knows(kind)` is false, as a short metric label ("no_cluster_view",
  // "api_not_served", "not_synced"). Only asked when knows(kind) is false.
  virtual std::string_view unknown_reason(core::Kind) const { return "no_cluster_view"; }
  // The object of `kind` named `name` in `ns` ("" for cluster-scoped); nullptr when absent.
  virtual const core::Object* find(core::Kind kind, std::string_view ns,
                                   std::string_view name) const = 0;
  // Objects of `kind` in namespace `ns` (cluster-scoped kinds: ns "").
  virtual std::vector<const core::Object*> list(core::Kind kind, std::string_view ns) const = 0;
  // Objects of `kind` in every namespace.
  virtual std::vector<const core::Object*> list_all(core::Kind kind) const = 0;

  // Indexed queries. Each has a default built on list()/list_all() (a scan of
  // the namespace); an implementation that keeps indexes overrides them so
  // that a lookup costs what it finds, not the size of the namespace.
  // Results come in list() order.

  // Objects of `kind` in `ns` whose selectable labels (selectable_labels())
  // `selector` matches; an empty selector matches every one.
  virtual std::vector<const core::Object*> list_matching(core::Kind kind, std::string_view ns,
                                                         const core::LabelSelector& selector) const;
  // The same in every namespace.
  virtual std::vector<const core::Object*> list_all_matching(core::Kind kind,
                                                             const core::LabelSelector& selector) const;
  // Objects of `kind` in every namespace with annotation key=value.
  virtual std::vector<const core::Object*> list_all_annotated(core::Kind kind, std::string_view key,
                                                              std::string_view value) const;
  // Services in `ns` with a selector that selects a pod template with
  // `labels` (selector_contains).
  virtual std::vector<const core::Object*> services_selecting(std::string_view ns,
                                                              const core::StringMap& labels) const;
  // Certificates in `ns` whose spec.secretName is one of `secret_names`.
  virtual std::vector<const core::Object*> certificates_writing(
      std::string_view ns, std::initializer_list<std::string_view> secret_names) const;
  // Objects of `kind` with a client config (client_configs()) whose service
  // is `name` in `ns`, whatever its port and whether it is ever called.
  virtual std::vector<const core::Object*> list_all_calling(core::Kind kind, std::string_view ns,
                                                            std::string_view name) const;
  // Monitors of `kind` (ServiceMonitor, PodMonitor) that look in namespace
  // `ns`: it is one of their target namespaces, or they look in any.
  virtual std::vector<const core::Object*> list_all_monitoring(core::Kind kind, std::string_view ns) const;
  // Routes of `kind` (Ingress, HTTPRoute) with a backend naming Service
  // `name` in `ns`, whatever its port.
  virtual std::vector<const core::Object*> list_all_routing_to(core::Kind kind, std::string_view ns,
                                                               std::string_view name) const;

 private:
  mutable std::mutex producers_mutex_;
  mutable std::unique_ptr<const Producers> producers_;
};

// A context that knows nothing (server without cache).
class EmptyContext final : public Context {
 public:
  bool knows(core::Kind) const override { return false; }
  bool complete() const override { return false; }
  const core::Object* find(core::Kind, std::string_view, std::string_view) const override {
    return nullptr;
  }
  std::vector<const core::Object*> list(core::Kind, std::string_view) const override { return {}; }
  std::vector<const core::Object*> list_all(core::Kind) const override { return {}; }
};

// ---- Queries shared by rules, built on the interface above. ----

// The labels a selector is matched against: a workload's pod template labels
// (what Services and PodMonitors select), any other object's metadata labels.
const core::StringMap& selectable_labels(const core::Object& object);

// Whether every workload kind is known (pod-template lookups are meaningful).
bool knows_pod_templates(const Context& ctx);
// Workload objects (any kind carrying a pod template) in `ns`.
std::vector<const core::Object*> pod_templates_in(const Context& ctx, std::string_view ns);
// Workloads in `ns` whose template labels contain every pair of `selector`,
// of every kind: whether any pod may carry the labels at all.
std::vector<const core::Object*> pod_templates_selected_by(const Context& ctx, std::string_view ns,
                                                           const core::StringMap& selector);
// Whether pods of `object` can be endpoints of a Service: Pods, Deployments,
// StatefulSets, DaemonSets and ReplicaSets. Jobs and CronJobs run to
// completion and Helm test hooks run only under `helm test`; their pods may
// carry the app's labels, but nothing the Service serves depends on them.
bool backs_services(const core::Object& object);
// The workloads in `ns` whose pods back a Service with `selector`
// (backs_services and pod_templates_selected_by); what every question about
// a Service's endpoints asks.
std::vector<const core::Object*> select_backends(const Context& ctx, std::string_view ns,
                                                 const core::StringMap& selector);

// Something in the view that sends traffic to one port of a Service, so a
// port without endpoints is a failure someone sees, not an unused port: a
// ServiceMonitor endpoint scraping it, a webhook / CRD conversion / APIService
// client config the API server calls it through, an Ingress or HTTPRoute
// backend.
struct PortUser {
  const core::Object* object = nullptr;
  std::string what;  // "ServiceMonitor demo/x scrapes it"
};
// The first user of port `port` of `service` in the view (kinds the view
// does not know are not looked at); nullopt when none.
std::optional<PortUser> service_port_user(const Context& ctx, const core::Object& service,
                                          const core::ServicePort& port);
// Services in `ns` (with a selector) that select a template with `labels`.
std::vector<const core::Object*> services_selecting(const Context& ctx, std::string_view ns,
                                                    const core::StringMap& labels);
// Whether the view holds anything of namespace `ns`: an object of a known
// kind in it, or its Namespace object. A partial view (lint) that holds
// nothing of a namespace says nothing about what the cluster has there.
bool namespace_in_view(const Context& ctx, std::string_view ns);
// A namespace's labels as the API server holds them: those of its Namespace
// object in the view plus `kubernetes.io/metadata.name`, which the API server
// sets on every namespace. `in_view` is false when the view has no Namespace
// object of that name: then only the name label is known.
struct NamespaceLabels {
  core::StringMap labels;
  bool in_view = false;
};
NamespaceLabels namespace_labels(const Context& ctx, std::string_view ns);

// Three-valued: whether a namespaceSelector selects `ns`, or that the view
// cannot tell (a requirement on a label of a namespace the view does not hold).
enum class Tri : std::uint8_t { kNo, kYes, kUnknown };
// An absent selector is the caller's business (its meaning differs per
// field); a present empty one selects every namespace.
Tri namespace_matches(const Context& ctx, const core::LabelSelector& selector, std::string_view ns);

// The severity of a missing counterpart (a Service, selected pods, a CA
// bundle) given who may produce it at run time: info when a producer may make
// it and the view is not the running cluster; otherwise `absent` (what the
// rule reports without producers; a complete view reports what a producer
// should have made and did not, naming it in the message).
Severity missing_counterpart_severity(const Context& ctx, const std::optional<Producer>& producer,
                                      Severity absent);

// Whether every pair of `selector` is in `labels` (Service selector semantics;
// an empty selector selects nothing here, as a Service without selector).
bool selector_contains(const core::StringMap& selector, const core::StringMap& labels);

}  // namespace wirecheck::policy
