#include "wirecheck/context.hpp"

#include <algorithm>

#include "wirecheck/client_configs.hpp"

namespace wirecheck::policy {

namespace {

std::vector<const core::Object*> keep_matching(std::vector<const core::Object*> objects,
                                               const core::LabelSelector& selector) {
  std::erase_if(objects, [&](const core::Object* o) { return !selector.matches(selectable_labels(*o)); });
  return objects;
}

}  // namespace

// ---- Context defaults: scans, for implementations without indexes. ----

std::vector<const core::Object*> Context::list_matching(core::Kind kind, std::string_view ns,
                                                        const core::LabelSelector& selector) const {
  return keep_matching(list(kind, ns), selector);
}

std::vector<const core::Object*> Context::list_all_matching(core::Kind kind,
                                                            const core::LabelSelector& selector) const {
  return keep_matching(list_all(kind), selector);
}

std::vector<const core::Object*> Context::list_all_annotated(core::Kind kind, std::string_view key,
                                                             std::string_view value) const {
  std::vector<const core::Object*> out = list_all(kind);
  std::erase_if(out, [&](const core::Object* o) { return o->annotation(key) != value; });
  return out;
}

std::vector<const core::Object*> Context::services_selecting(std::string_view ns,
                                                             const core::StringMap& labels) const {
  std::vector<const core::Object*> out = list(core::Kind::kService, ns);
  std::erase_if(out, [&](const core::Object* o) {
    const core::Service* s = o->service();
    return s == nullptr || !s->has_selector || !selector_contains(s->selector, labels);
  });
  return out;
}

std::vector<const core::Object*> Context::certificates_writing(
    std::string_view ns, std::initializer_list<std::string_view> secret_names) const {
  std::vector<const core::Object*> out = list(core::Kind::kCertificate, ns);
  std::erase_if(out, [&](const core::Object* o) {
    const core::Certificate* c = o->certificate();
    return c == nullptr || std::find(secret_names.begin(), secret_names.end(), c->secret_name) ==
                               secret_names.end();
  });
  return out;
}

std::vector<const core::Object*> Context::list_all_calling(core::Kind kind, std::string_view ns,
                                                           std::string_view name) const {
  std::vector<const core::Object*> out = list_all(kind);
  std::erase_if(out, [&](const core::Object* o) {
    const std::vector<core::ClientConfigView> views = core::client_configs(*o);
    return std::none_of(views.begin(), views.end(), [&](const core::ClientConfigView& v) {
      return v.service != nullptr && v.service->ns == ns && v.service->name == name;
    });
  });
  return out;
}

std::vector<const core::Object*> Context::list_all_monitoring(core::Kind kind, std::string_view ns) const {
  std::vector<const core::Object*> out = list_all(kind);
  std::erase_if(out, [&](const core::Object* o) {
    const core::Monitor* mon = o->monitor();
    if (mon == nullptr) return true;
    if (mon->namespace_any) return false;
    const std::vector<std::string> namespaces = mon->target_namespaces(o->ns());
    return std::find(namespaces.begin(), namespaces.end(), ns) == namespaces.end();
  });
  return out;
}

std::vector<const core::Object*> Context::list_all_routing_to(core::Kind kind, std::string_view ns,
                                                              std::string_view name) const {
  std::vector<const core::Object*> out = list_all(kind);
  std::erase_if(out, [&](const core::Object* o) {
    const core::Routes* routes = o->routes();
    if (routes == nullptr) return true;
    return std::none_of(routes->backends.begin(), routes->backends.end(), [&](const core::BackendRef& b) {
      return b.service == name && (b.ns.empty() ? std::string_view(o->ns()) : std::string_view(b.ns)) == ns;
    });
  });
  return out;
}

const Producers& Context::producers() const {
  const std::lock_guard lock(producers_mutex_);
  if (!producers_) producers_ = std::make_unique<const Producers>(Producers::build(*this));
  return *producers_;
}

// ---- Shared queries. ----

Severity missing_counterpart_severity(const Context& ctx, const std::optional<Producer>& producer,
                                      Severity absent) {
  return producer && !ctx.complete() ? Severity::kInfo : absent;
}

NamespaceLabels namespace_labels(const Context& ctx, std::string_view ns) {
  NamespaceLabels out;
  constexpr std::string_view kNameLabel = "kubernetes.io/metadata.name";
  if (ctx.knows(core::Kind::kNamespace)) {
    if (const core::Object* o = ctx.find(core::Kind::kNamespace, "", ns)) {
      out.in_view = true;
      for (const auto& kv : o->meta.labels) {
        if (kv.first != kNameLabel) out.labels.push_back(kv);
      }
    }
  }
  out.labels.emplace_back(kNameLabel, ns);
  return out;
}

Tri namespace_matches(const Context& ctx, const core::LabelSelector& selector, std::string_view ns) {
  const NamespaceLabels ns_labels = namespace_labels(ctx, ns);
  if (ns_labels.in_view) return selector.matches(ns_labels.labels) ? Tri::kYes : Tri::kNo;
  // Only the name label is known: a requirement on any other key may go
  // either way, unless one on the name already fails.
  constexpr std::string_view kNameLabel = "kubernetes.io/metadata.name";
  bool unknown = false;
  for (const auto& [key, value] : selector.match_labels) {
    if (key != kNameLabel) {
      unknown = true;
    } else if (value != ns) {
      return Tri::kNo;
    }
  }
  for (const core::LabelSelectorRequirement& req : selector.match_expressions) {
    if (req.key != kNameLabel) {
      unknown = true;
      continue;
    }
    const core::LabelSelector one{.present = true, .match_expressions = {req}};
    if (!one.matches(ns_labels.labels)) return Tri::kNo;
  }
  return unknown ? Tri::kUnknown : Tri::kYes;
}

const core::StringMap& selectable_labels(const core::Object& object) {
  const core::PodTemplate* t = object.pod_template();
  return t != nullptr ? t->labels : object.meta.labels;
}

bool knows_pod_templates(const Context& ctx) {
  for (core::Kind k : core::workload_kinds()) {
    if (!ctx.knows(k)) return false;
  }
  return true;
}

std::vector<const core::Object*> pod_templates_in(const Context& ctx, std::string_view ns) {
  std::vector<const core::Object*> out;
  for (core::Kind k : core::workload_kinds()) {
    auto objects = ctx.list(k, ns);
    out.insert(out.end(), objects.begin(), objects.end());
  }
  return out;
}

bool namespace_in_view(const Context& ctx, std::string_view ns) {
  for (std::size_t k = 1; k < core::kKindCount; ++k) {
    const auto kind = static_cast<core::Kind>(k);
    if (ctx.knows(kind) && !ctx.list(kind, ns).empty()) return true;
  }
  if (!ctx.knows(core::Kind::kOther)) return false;
  for (const core::Object* o : ctx.list(core::Kind::kOther, "")) {
    if (o->ref.kind == "Namespace" && o->name() == ns) return true;
  }
  return false;
}

bool selector_contains(const core::StringMap& selector, const core::StringMap& labels) {
  if (selector.empty()) return false;
  for (const auto& [key, value] : selector) {
    if (core::find_value(labels, key) != value) return false;
  }
  return true;
}

std::vector<const core::Object*> pod_templates_selected_by(const Context& ctx, std::string_view ns,
                                                           const core::StringMap& selector) {
  std::vector<const core::Object*> out;
  if (selector.empty()) return out;  // a Service without selector selects nothing
  const core::LabelSelector equality{.present = true, .match_labels = selector};
  for (core::Kind k : core::workload_kinds()) {
    for (const core::Object* o : ctx.list_matching(k, ns, equality)) {
      if (o->pod_template() != nullptr) out.push_back(o);
    }
  }
  return out;
}

std::vector<const core::Object*> services_selecting(const Context& ctx, std::string_view ns,
                                                    const core::StringMap& labels) {
  return ctx.services_selecting(ns, labels);
}

bool backs_services(const core::Object& object) {
  switch (object.kind) {
    case core::Kind::kPod:
    case core::Kind::kDeployment:
    case core::Kind::kStatefulSet:
    case core::Kind::kDaemonSet:
    case core::Kind::kReplicaSet:
      return !object.helm_test_hook && object.pod_template() != nullptr;
    default:
      return false;
  }
}

std::vector<const core::Object*> select_backends(const Context& ctx, std::string_view ns,
                                                 const core::StringMap& selector) {
  std::vector<const core::Object*> out;
  if (selector.empty()) return out;  // a Service without selector selects nothing
  const core::LabelSelector equality{.present = true, .match_labels = selector};
  for (core::Kind k : {core::Kind::kPod, core::Kind::kDeployment, core::Kind::kStatefulSet, core::Kind::kDaemonSet,
                       core::Kind::kReplicaSet}) {
    for (const core::Object* o : ctx.list_matching(k, ns, equality)) {
      if (backs_services(*o)) out.push_back(o);
    }
  }
  return out;
}

namespace {

std::string object_id(const core::Object& o) {
  std::string s(core::kind_name(o.kind));
  s += " ";
  if (!o.ns().empty()) s.append(o.ns()).append("/");
  s.append(o.name());
  return s;
}

// A ServiceMonitor endpoint that scrapes `port` of `service`: the monitor
// selects the Service (labels and namespace) and the endpoint names the
// Service port, or (deprecated targetPort) the same container port.
std::optional<PortUser> monitor_user(const Context& ctx, const core::Object& service, const core::ServicePort& port) {
  if (!ctx.knows(core::Kind::kServiceMonitor)) return std::nullopt;
  const std::string target = port.target_port.set ? port.target_port.to_string() : std::to_string(port.port);
  for (const core::Object* o : ctx.list_all_monitoring(core::Kind::kServiceMonitor, service.ns())) {
    const core::Monitor* mon = o->monitor();
    if (mon == nullptr || mon->pod_monitor || !mon->selector.matches(service.meta.labels)) continue;
    if (!mon->namespace_any) {
      const std::vector<std::string> namespaces = mon->target_namespaces(o->ns());
      if (std::find(namespaces.begin(), namespaces.end(), service.ns()) == namespaces.end()) continue;
    }
    for (const core::MonitorEndpoint& ep : mon->endpoints) {
      const bool by_name = !ep.port.empty() && !port.name.empty() && ep.port == port.name;
      const bool by_target = ep.port.empty() && ep.target_port.set && ep.target_port.to_string() == target;
      if (by_name || by_target) return PortUser{o, object_id(*o) + " scrapes it"};
    }
  }
  return std::nullopt;
}

// A client config the API server calls `port` of `service` through.
std::optional<PortUser> client_config_user(const Context& ctx, const core::Object& service,
                                           const core::ServicePort& port) {
  for (core::Kind k : {core::Kind::kValidatingWebhookConfiguration, core::Kind::kMutatingWebhookConfiguration,
                       core::Kind::kCustomResourceDefinition, core::Kind::kAPIService}) {
    if (!ctx.knows(k)) continue;
    for (const core::Object* o : ctx.list_all_calling(k, service.ns(), service.name())) {
      for (const core::ClientConfigView& v : core::client_configs(*o)) {
        if (v.service == nullptr || v.never_called) continue;
        if (v.service->ns != service.ns() || v.service->name != service.name() || v.service->port != port.port) {
          continue;
        }
        std::string what = object_id(*o) + " calls it";
        if (k != core::Kind::kAPIService) what += " (" + v.label + ")";
        return PortUser{o, std::move(what)};
      }
    }
  }
  return std::nullopt;
}

// An Ingress or HTTPRoute backend naming `service` with this port's number
// or (Ingress) name.
std::optional<PortUser> route_user(const Context& ctx, const core::Object& service, const core::ServicePort& port) {
  for (core::Kind k : {core::Kind::kIngress, core::Kind::kHTTPRoute}) {
    if (!ctx.knows(k)) continue;
    for (const core::Object* o : ctx.list_all_routing_to(k, service.ns(), service.name())) {
      const core::Routes* routes = o->routes();
      if (routes == nullptr) continue;
      for (const core::BackendRef& b : routes->backends) {
        const std::string_view ns = b.ns.empty() ? std::string_view(o->ns()) : std::string_view(b.ns);
        if (b.service != service.name() || ns != service.ns()) continue;
        const bool by_number = b.port_number != 0 && b.port_number == port.port;
        const bool by_name = !b.port_name.empty() && b.port_name == port.name;
        if (by_number || by_name) return PortUser{o, object_id(*o) + " routes to it"};
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<PortUser> service_port_user(const Context& ctx, const core::Object& service,
                                          const core::ServicePort& port) {
  if (auto u = monitor_user(ctx, service, port)) return u;
  if (auto u = client_config_user(ctx, service, port)) return u;
  return route_user(ctx, service, port);
}

}  // namespace wirecheck::policy
