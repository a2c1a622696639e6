#include "rules/scrape_chain.hpp"

#include <algorithm>
#include <array>
#include <tuple>
#include <unordered_set>

#include "rules/loopback.hpp"
#include "rules/names.hpp"

namespace wirecheck::rules {

namespace {

using core::Kind;
using core::LabelSelector;
using core::Object;
using policy::Context;
using policy::Tri;

constexpr std::string_view kServiceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token";

bool by_ns_name(const Object* a, const Object* b) {
  return std::tie(a->ns(), a->name()) < std::tie(b->ns(), b->name());
}

std::string ns_name(const Object& o) { return o.ns().empty() ? std::string(o.name()) : o.ns() + "/" + o.name(); }

// The label edits that make `labels` satisfy `selector`; false when no set
// of labels can (conflicting terms, an unknown operator, `In ()`).
bool label_edits(const LabelSelector& selector, const core::StringMap& labels,
                 std::vector<std::pair<std::string, std::string>>& add, std::vector<std::string>& remove) {
  auto adding = [&](std::string_view key, std::string_view value) {
    for (auto& [k, v] : add) {
      if (k == key) {
        if (v.empty()) v = std::string(value);
        return;
      }
    }
    add.emplace_back(key, value);
  };
  auto removing = [&](std::string_view key) {
    if (std::find(remove.begin(), remove.end(), key) == remove.end()) remove.emplace_back(key);
  };
  for (const auto& [key, value] : selector.match_labels) {
    if (core::find_value(labels, key) != value) adding(key, value);
  }
  for (const core::LabelSelectorRequirement& req : selector.match_expressions) {
    const core::FoundValue have = core::find_value(labels, req.key);
    const bool listed = have && std::find(req.values.begin(), req.values.end(), *have) != req.values.end();
    if (req.op == "In") {
      if (req.values.empty()) return false;
      if (!listed) adding(req.key, req.values.front());
    } else if (req.op == "NotIn") {
      if (listed) removing(req.key);
    } else if (req.op == "Exists") {
      if (!have) adding(req.key, "");
    } else if (req.op == "DoesNotExist") {
      if (have) removing(req.key);
    } else {
      return false;
    }
  }
  // The edits must satisfy the selector together (a key both required and
  // forbidden cannot be).
  std::vector<core::StringMap::value_type> after;
  for (const auto& kv : labels) {
    const bool edited = std::find(remove.begin(), remove.end(), kv.first) != remove.end() ||
                        std::any_of(add.begin(), add.end(), [&](const auto& a) { return a.first == kv.first; });
    if (!edited) after.push_back(kv);
  }
  for (const auto& [k, v] : add) after.emplace_back(k, v.empty() ? std::string_view("x") : std::string_view(v));
  return selector.matches(core::StringMap(after));
}

std::string kind_text(const Object& monitor) { return std::string(core::kind_name(monitor.kind)); }

}  // namespace

// ------------------------------------------------------------- selection

std::optional<MonitorSelectors> monitor_selectors(const core::PrometheusSpec& spec, Kind monitor_kind) {
  switch (monitor_kind) {
    case Kind::kServiceMonitor:
      return MonitorSelectors{&spec.service_monitor_selector, &spec.service_monitor_namespace_selector,
                              "serviceMonitorSelector", "serviceMonitorNamespaceSelector"};
    case Kind::kPodMonitor:
      return MonitorSelectors{&spec.pod_monitor_selector, &spec.pod_monitor_namespace_selector,
                              "podMonitorSelector", "podMonitorNamespaceSelector"};
    case Kind::kProbe:
      return MonitorSelectors{&spec.probe_selector, &spec.probe_namespace_selector, "probeSelector",
                              "probeNamespaceSelector"};
    default:
      return std::nullopt;
  }
}

std::string describe_selector(const LabelSelector& selector) {
  if (selector.empty()) return "{} (everything)";
  std::vector<std::string> parts;
  for (const auto& [key, value] : selector.match_labels) parts.push_back(std::string(key) + "=" + std::string(value));
  for (const core::LabelSelectorRequirement& req : selector.match_expressions) {
    if (req.op == "Exists") {
      parts.emplace_back(req.key);
    } else if (req.op == "DoesNotExist") {
      parts.push_back("!" + req.key);
    } else {
      parts.push_back(req.key + " " + req.op + " (" + join(req.values, ", ") + ")");
    }
  }
  return join(parts, ", ");
}

std::size_t Selection::distance() const {
  std::size_t d = add_labels.size() + remove_labels.size() + add_namespace_labels.size() +
                  remove_namespace_labels.size();
  return blocker.empty() ? d : d + 1000;
}

Selection prometheus_selects(const Context& ctx, const Object& prometheus, const Object& monitor) {
  Selection s;
  s.prometheus = &prometheus;
  const core::PrometheusSpec* spec = prometheus.prometheus();
  const std::optional<MonitorSelectors> sel =
      spec != nullptr ? monitor_selectors(*spec, monitor.kind) : std::nullopt;
  if (!sel) {
    s.blocker = "selects no " + kind_text(monitor);
    return s;
  }
  const std::string kind = kind_text(monitor);
  std::vector<std::string> blockers;
  std::vector<std::string> fixes;
  std::vector<std::string> how;

  // A nil label selector selects nothing; `{}` everything.
  const std::string label_field(sel->label_field);
  const std::string namespace_field(sel->namespace_field);
  if (!sel->labels->present) {
    blockers.push_back("has no " + label_field + " (nil selects no " + kind + ")");
    fixes.push_back("set spec." + label_field + " ({} selects every " + kind + ")");
  } else {
    s.label_ok = sel->labels->matches(monitor.meta.labels);
    if (!s.label_ok && !label_edits(*sel->labels, monitor.meta.labels, s.add_labels, s.remove_labels)) {
      blockers.push_back("has a " + label_field + " no labels satisfy");
      fixes.push_back("fix spec." + label_field);
    }
    how.push_back(label_field + " " + describe_selector(*sel->labels));
  }

  // A nil namespace selector means the Prometheus's own namespace only.
  Tri ns = Tri::kNo;
  const std::string pick_ns = "spec." + namespace_field + ": {matchLabels: {kubernetes.io/metadata.name: " +
                              std::string(monitor.ns()) + "}}";
  if (!sel->namespaces->present) {
    ns = monitor.ns() == prometheus.ns() ? Tri::kYes : Tri::kNo;
    if (ns == Tri::kNo) {
      blockers.push_back("selects " + kind + "s only in its own namespace " + prometheus.ns() + " (no " +
                         namespace_field + ")");
      fixes.push_back("set " + pick_ns + " (or move the " + kind + " to " + prometheus.ns() + ")");
    }
    how.push_back("own namespace " + prometheus.ns());
  } else {
    ns = policy::namespace_matches(ctx, *sel->namespaces, monitor.ns());
    if (ns != Tri::kYes) {
      const policy::NamespaceLabels nl = policy::namespace_labels(ctx, monitor.ns());
      bool by_name = false;
      if (label_edits(*sel->namespaces, nl.labels, s.add_namespace_labels, s.remove_namespace_labels)) {
        // The name label cannot be changed: that selector picks other namespaces.
        for (const auto& [k, v] : s.add_namespace_labels) by_name = by_name || k == "kubernetes.io/metadata.name";
      }
      if (by_name || (s.add_namespace_labels.empty() && s.remove_namespace_labels.empty())) {
        s.add_namespace_labels.clear();
        s.remove_namespace_labels.clear();
        blockers.push_back("does not select namespace " + monitor.ns() + " (" + namespace_field + " " +
                           describe_selector(*sel->namespaces) + ")");
        fixes.push_back("widen spec." + namespace_field);
      }
    }
    how.push_back(namespace_field + " " + describe_selector(*sel->namespaces));
  }
  s.namespace_ok = ns == Tri::kYes;
  s.blocker = join(blockers, "; ");
  s.blocker_fix = join(fixes, "; ");
  s.how = join(how, ", ");
  if (!s.blocker.empty() || !s.label_ok) {
    s.selects = Tri::kNo;
  } else {
    s.selects = ns;
  }
  return s;
}

std::vector<Selection> prometheus_selections(const Context& ctx, const Object& monitor) {
  std::vector<const Object*> all;
  for (Kind k : {Kind::kPrometheus, Kind::kPrometheusAgent}) {
    if (!ctx.knows(k)) continue;
    for (const Object* o : ctx.list_all(k)) {
      if (o->prometheus() != nullptr) all.push_back(o);
    }
  }
  std::sort(all.begin(), all.end(), [](const Object* a, const Object* b) {
    return std::tie(a->ns(), a->name(), a->kind) < std::tie(b->ns(), b->name(), b->kind);
  });
  std::vector<Selection> out;
  out.reserve(all.size());
  for (const Object* p : all) out.push_back(prometheus_selects(ctx, *p, monitor));
  return out;
}

const Selection* closest(const std::vector<Selection>& selections) {
  const Selection* best = nullptr;
  for (const Selection& s : selections) {
    if (best == nullptr || s.distance() < best->distance()) best = &s;
  }
  return best;
}

std::string describe_edits(const Selection& s, const Object& monitor) {
  std::vector<std::string> parts;
  if (!s.add_labels.empty()) {
    std::vector<std::string> labels;
    for (const auto& [k, v] : s.add_labels) labels.push_back(k + ": " + (v.empty() ? "<any value>" : v));
    parts.push_back("add to the " + kind_text(monitor) + "'s metadata.labels: " + join(labels, ", "));
  }
  if (!s.remove_labels.empty()) {
    parts.push_back("remove from the " + kind_text(monitor) + "'s metadata.labels: " + join(s.remove_labels, ", "));
  }
  if (!s.add_namespace_labels.empty() || !s.remove_namespace_labels.empty()) {
    std::vector<std::string> args;
    for (const auto& [k, v] : s.add_namespace_labels) {
      if (k != "kubernetes.io/metadata.name") args.push_back(k + "=" + (v.empty() ? "<any value>" : v));
    }
    for (const std::string& k : s.remove_namespace_labels) args.push_back(k + "-");
    if (!args.empty()) parts.push_back("kubectl label namespace " + monitor.ns() + " " + join(args, " "));
  }
  if (!s.blocker.empty()) {
    parts.push_back(s.blocker_fix + " on " + std::string(core::kind_name(s.prometheus->kind)) + " " +
                    ns_name(*s.prometheus));
  }
  return join(parts, "; ");
}

std::vector<const Object*> selecting_prometheuses(const Context& ctx, const Object& monitor) {
  std::vector<const Object*> out;
  for (const Selection& s : prometheus_selections(ctx, monitor)) {
    if (s.selects == Tri::kYes) out.push_back(s.prometheus);
  }
  return out;
}

// ------------------------------------------------------------- discovery

std::string prometheus_account(const Object& prometheus) {
  const core::PrometheusSpec* spec = prometheus.prometheus();
  if (spec == nullptr || spec->service_account_name.empty()) return "default";
  return std::string(spec->service_account_name);
}

std::string_view discovery_resources(Kind monitor_kind) {
  switch (monitor_kind) {
    case Kind::kServiceMonitor:
      return "services, endpoints (or endpointslices) and pods";
    case Kind::kPodMonitor:
      return "pods";
    default:
      return "";
  }
}

std::optional<DiscoveryGap> discovery_gap(const Context& ctx, const Object& prometheus, const Object& monitor) {
  const core::Monitor* mon = monitor.monitor();
  if (mon == nullptr) return std::nullopt;  // a Probe's static targets need no discovery
  const policy::Producers& producers = ctx.producers();
  if (!producers.known()) return std::nullopt;
  const std::string account = prometheus_account(prometheus);
  const std::string_view account_ns = prometheus.ns();
  // A partial view that binds the account nowhere holds none of its RBAC.
  if (!ctx.complete() && !producers.account_bound(account_ns, account)) return std::nullopt;

  struct Need {
    std::string_view group;
    std::string_view resource;
    std::string_view alt_group;     // an alternative that serves as well
    std::string_view alt_resource;
  };
  std::vector<Need> needs;
  if (mon->pod_monitor) {
    needs = {{"", "pods", "", ""}};
  } else {
    needs = {{"", "services", "", ""}, {"", "endpoints", "discovery.k8s.io", "endpointslices"}, {"", "pods", "", ""}};
  }
  std::vector<std::string> namespaces =
      mon->namespace_any ? std::vector<std::string>{""} : monitor_namespaces(monitor, *mon);
  auto may = [&](std::string_view verb, std::string_view group, std::string_view resource, std::string_view ns) {
    return producers.account_may(account_ns, account, {{verb}, group, resource, ns, ""});
  };
  for (const std::string& ns : namespaces) {
    for (const Need& n : needs) {
      for (std::string_view verb : {"list", "watch"}) {
        if (may(verb, n.group, n.resource, ns)) continue;
        if (!n.alt_resource.empty() && may("list", n.alt_group, n.alt_resource, ns) &&
            may("watch", n.alt_group, n.alt_resource, ns)) {
          continue;
        }
        std::string what(n.resource);
        if (!n.alt_resource.empty()) what += " or " + std::string(n.alt_resource);
        return DiscoveryGap{ns, what, std::string(verb)};
      }
    }
  }
  return std::nullopt;
}

// -------------------------------------------------------------- targets

std::vector<std::string> monitor_namespaces(const Object& obj, const core::Monitor& mon) {
  std::vector<std::string> out;
  std::unordered_set<std::string_view> seen;
  const std::vector<std::string> all = mon.target_namespaces(obj.ns());
  for (const std::string& ns : all) {
    if (seen.insert(ns).second) out.push_back(ns);
  }
  return out;
}

std::vector<const Object*> selected_services(const Context& ctx, const Object& obj, const core::Monitor& mon) {
  std::vector<const Object*> candidates;
  if (mon.namespace_any) {
    candidates = ctx.list_all_matching(Kind::kService, mon.selector);
  } else {
    for (const std::string& ns : monitor_namespaces(obj, mon)) {
      auto in_ns = ctx.list_matching(Kind::kService, ns, mon.selector);
      candidates.insert(candidates.end(), in_ns.begin(), in_ns.end());
    }
  }
  std::vector<const Object*> out;
  for (const Object* o : candidates) {
    if (o->service() != nullptr) out.push_back(o);
  }
  std::sort(out.begin(), out.end(), by_ns_name);
  return out;
}

std::vector<const Object*> selected_pod_templates(const Context& ctx, const Object& obj, const core::Monitor& mon) {
  std::vector<const Object*> candidates;
  if (mon.namespace_any) {
    for (Kind k : core::workload_kinds()) {
      auto of_kind = ctx.list_all_matching(k, mon.selector);
      candidates.insert(candidates.end(), of_kind.begin(), of_kind.end());
    }
  } else {
    for (const std::string& ns : monitor_namespaces(obj, mon)) {
      for (Kind k : core::workload_kinds()) {
        auto in_ns = ctx.list_matching(k, ns, mon.selector);
        candidates.insert(candidates.end(), in_ns.begin(), in_ns.end());
      }
    }
  }
  std::vector<const Object*> out;
  for (const Object* o : candidates) {
    if (o->pod_template() != nullptr) out.push_back(o);
  }
  std::sort(out.begin(), out.end(), by_ns_name);
  return out;
}

namespace {

// The containers of a template that serve Services (regular ones and
// native sidecars).
std::vector<const core::Container*> serving_containers(const core::PodTemplate& t) {
  std::vector<const core::Container*> out;
  for (const core::Container& c : t.containers) out.push_back(&c);
  for (const core::Container& c : t.init_containers) {
    if (c.sidecar) out.push_back(&c);
  }
  return out;
}

// The container of `workload` declaring the port `port` (a name, or a number).
void add_container_targets(const Object& workload, const core::IntOrString& port, ScrapeTarget base,
                           std::vector<ScrapeTarget>& out) {
  const core::PodTemplate* t = workload.pod_template();
  if (t == nullptr || !port.set) return;
  for (const core::Container* c : serving_containers(*t)) {
    const core::ContainerPort* p = port.is_int ? c->port_numbered(port.num) : c->port_named(port.str);
    if (p == nullptr) continue;
    ScrapeTarget target = base;
    target.workload = &workload;
    target.container = c;
    target.port = p->container_port;
    out.push_back(target);
    return;
  }
}

core::IntOrString named(std::string_view name) {
  core::IntOrString v;
  v.set = true;
  v.str = core::CompactString(name);
  return v;
}

core::IntOrString numbered(std::int64_t n) {
  core::IntOrString v;
  v.set = true;
  v.is_int = true;
  v.num = n;
  return v;
}

}  // namespace

std::vector<ScrapeTarget> scrape_targets(const Context& ctx, const Object& obj, const core::Monitor& mon,
                                         const core::MonitorEndpoint& ep) {
  std::vector<ScrapeTarget> out;
  if (!policy::knows_pod_templates(ctx)) return out;
  if (mon.pod_monitor) {
    core::IntOrString port;
    if (!ep.port.empty()) {
      port = named(ep.port);
    } else if (ep.has_port_number) {
      port = numbered(ep.port_number);
    } else {
      port = ep.target_port;
    }
    for (const Object* w : selected_pod_templates(ctx, obj, mon)) add_container_targets(*w, port, {}, out);
    return out;
  }
  if (!ctx.knows(Kind::kService)) return out;
  for (const Object* svc : selected_services(ctx, obj, mon)) {
    const core::Service* s = svc->service();
    for (const core::ServicePort& sp : s->ports) {
      core::IntOrString container_port;
      if (!ep.port.empty()) {
        if (sp.name != ep.port) continue;
        container_port = sp.target_port.set ? sp.target_port : numbered(sp.port);
      } else if (ep.target_port.set) {
        // The deprecated targetPort names the pods' port directly.
        const bool same = sp.target_port.set ? sp.target_port.to_string() == ep.target_port.to_string()
                                             : ep.target_port.is_int && ep.target_port.num == sp.port;
        if (!same) continue;
        container_port = ep.target_port;
      } else {
        continue;
      }
      ScrapeTarget base;
      base.service = svc;
      base.service_port = &sp;
      const std::size_t before = out.size();
      for (const Object* w : policy::select_backends(ctx, svc->ns(), s->selector)) {
        add_container_targets(*w, container_port, base, out);
      }
      // A Service port whose pods are not in the view still names where
      // the scrape goes.
      if (out.size() == before) out.push_back(base);
    }
  }
  return out;
}

namespace {

// The last `--flag` / `--flag=value` of a command line: "" when absent,
// "true" for the bare flag.
std::string last_flag(const core::Container& c, std::string_view flag) {
  std::string value;
  for (const core::StringList* list : {&c.command, &c.args}) {
    for (std::string_view arg : *list) {
      if (arg.starts_with("--")) arg.remove_prefix(1);
      if (!arg.starts_with("-")) continue;
      arg.remove_prefix(1);
      const std::string_view name = flag.substr(flag.find_first_not_of('-'));
      if (arg == name) {
        value = "true";
      } else if (arg.starts_with(name) && arg.size() > name.size() && arg[name.size()] == '=') {
        value = std::string(arg.substr(name.size() + 1));
      }
    }
  }
  return value;
}

bool has_arg_prefix(const core::Container& c, std::string_view prefix) {
  for (const core::StringList* list : {&c.command, &c.args}) {
    for (std::string_view arg : *list) {
      if (arg.starts_with(prefix)) return true;
    }
  }
  return false;
}

std::string account_of(const core::PodTemplate& t) {
  return t.service_account_name.empty() ? std::string("default") : std::string(t.service_account_name);
}

}  // namespace

std::optional<SecureMetrics> secure_metrics(const Context& ctx, const policy::Settings& settings,
                                            const ScrapeTarget& target, bool scrape_tls) {
  if (target.workload == nullptr || target.container == nullptr) return std::nullopt;
  const core::Container& c = *target.container;
  const core::PodTemplate& t = *target.workload->pod_template();

  // kube-rbac-proxy: an --upstream proxy that is evidently kube-rbac-proxy
  // (other reverse proxies authenticate differently, or not at all).
  const std::vector<Upstream> upstreams = find_upstreams(c);
  if (!upstreams.empty() && (c.name.find("rbac-proxy") != std::string::npos ||
                             has_arg_prefix(c, "--secure-listen-address"))) {
    // Paths it lets through without authentication.
    const std::string ignored = last_flag(c, "--ignore-paths");
    if (!ignored.empty() && ignored.find("/metrics") != std::string::npos) return std::nullopt;
    return SecureMetrics{target.workload, &c, "kube-rbac-proxy", upstreams.front().written};
  }

  // controller-runtime's metrics server with filters.WithAuthenticationAndAuthorization:
  // the scaffold's --metrics-secure flag (true unless set false).
  const std::string secure = last_flag(c, "--metrics-secure");
  if (secure == "false") return std::nullopt;
  const std::vector<Bind> binds = find_binds(c, settings);
  const Bind* metrics_bind = nullptr;
  for (const Bind& b : binds) {
    if (b.flag == "--metrics-bind-address" && b.port == target.port) metrics_bind = &b;
  }
  if (secure == "true" && (metrics_bind != nullptr || !has_arg_prefix(c, "--metrics-bind-address"))) {
    return SecureMetrics{target.workload, &c, "controller-runtime's secure metrics", "--metrics-secure"};
  }
  // Newer scaffolds default --metrics-secure to true and leave it out: their
  // manager may create TokenReviews and SubjectAccessReviews (the filter's
  // delegated authentication) and serves its metrics bind over TLS.
  if (secure.empty() && scrape_tls && metrics_bind != nullptr && metrics_bind->kind != BindHost::kLoopback) {
    const policy::Producers& producers = ctx.producers();
    const std::string account = account_of(t);
    const std::string_view ns = target.workload->ns();
    if (producers.known() &&
        producers.account_may(ns, account, {{"create"}, "authentication.k8s.io", "tokenreviews", "", ""}) &&
        producers.account_may(ns, account, {{"create"}, "authorization.k8s.io", "subjectaccessreviews", "", ""})) {
      return SecureMetrics{target.workload, &c, "controller-runtime's secure metrics",
                           metrics_bind->written + " and a ServiceAccount that may create tokenreviews and "
                                                   "subjectaccessreviews"};
    }
  }
  return std::nullopt;
}

std::optional<Refusal> scrape_refusal(const Context& ctx, const policy::Settings& settings, const Object& monitor,
                                      const core::Monitor& mon, const core::MonitorEndpoint& ep,
                                      const std::vector<const Object*>& selecting) {
  const bool tls = iequals(ep.scheme, "https");
  std::optional<SecureMetrics> secure;
  for (const ScrapeTarget& t : scrape_targets(ctx, monitor, mon, ep)) {
    secure = secure_metrics(ctx, settings, t, tls);
    if (secure) break;
  }
  if (!secure) return std::nullopt;
  Refusal r;
  r.target = *secure;
  r.path = ep.path.empty() ? std::string("/metrics") : std::string(ep.path);
  if (!ep.sends_token) {
    r.status = 401;
    return r;
  }
  // Only the Prometheus's own token is known to be its account's.
  if (ep.bearer_token_file != kServiceAccountToken) return std::nullopt;
  const policy::Producers& producers = ctx.producers();
  if (!producers.known()) return std::nullopt;
  for (const Object* p : selecting) {
    const std::string account = prometheus_account(*p);
    if (!ctx.complete() && !producers.account_bound(p->ns(), account)) continue;
    if (producers.account_may_url(p->ns(), account, "get", r.path)) continue;
    r.status = 403;
    r.account = p->ns() + "/" + account;
    return r;
  }
  return std::nullopt;
}

// ------------------------------------------------------------ references

std::vector<std::pair<const core::MonitorEndpoint*, std::string>> scrape_endpoints(const Object& obj) {
  std::vector<std::pair<const core::MonitorEndpoint*, std::string>> out;
  if (const core::Monitor* mon = obj.monitor()) {
    for (const core::MonitorEndpoint& ep : mon->endpoints) {
      out.emplace_back(&ep, std::string(mon->endpoints_path()) + "[" + std::to_string(ep.index) + "]");
    }
  } else if (const core::ProbeSpec* probe = obj.probe()) {
    out.emplace_back(&probe->endpoint, "spec");
  }
  return out;
}

std::vector<MissingReference> missing_references(const Context& ctx, const Object& monitor) {
  std::vector<MissingReference> out;
  // Keys a cert-manager Certificate writes into its Secret.
  static constexpr std::array<std::string_view, 3> kIssuedKeys = {"tls.crt", "tls.key", "ca.crt"};
  auto check = [&](bool config_map, std::string_view name, std::string_view key, std::string path) {
    if (name.empty()) return;
    const Kind kind = config_map ? Kind::kConfigMap : Kind::kSecret;
    if (!ctx.knows(kind)) return;
    MissingReference m{std::move(path), config_map, std::string(name), std::string(key), true, nullptr};
    if (const Object* found = ctx.find(kind, monitor.ns(), name)) {
      const core::DataKeys* keys = found->data_keys();
      if (key.empty() || keys == nullptr ||
          std::find(keys->keys.begin(), keys->keys.end(), key) != keys->keys.end()) {
        return;
      }
      m.object_missing = false;
      out.push_back(std::move(m));
      return;
    }
    if (!config_map && ctx.knows(Kind::kCertificate)) {
      for (const Object* cert : ctx.certificates_writing(monitor.ns(), {name})) {
        if (key.empty() || std::find(kIssuedKeys.begin(), kIssuedKeys.end(), key) != kIssuedKeys.end()) {
          m.certificate = cert;
          break;
        }
      }
    }
    out.push_back(std::move(m));
  };
  for (const auto& [ep, at] : scrape_endpoints(monitor)) {
    const core::TlsConfig& tls = ep->tls;
    check(false, tls.ca.secret_name, tls.ca.secret_key, at + ".tlsConfig.ca.secret");
    check(true, tls.ca.configmap_name, tls.ca.configmap_key, at + ".tlsConfig.ca.configMap");
    check(false, tls.cert.secret_name, tls.cert.secret_key, at + ".tlsConfig.cert.secret");
    check(true, tls.cert.configmap_name, tls.cert.configmap_key, at + ".tlsConfig.cert.configMap");
    check(false, tls.key_secret_name, tls.key_secret_key, at + ".tlsConfig.keySecret");
    for (const core::KeyReference& ref : ep->credential_refs) {
      check(ref.config_map, ref.name, ref.key, at + "." + std::string(ref.field));
    }
  }
  return out;
}

}  // namespace wirecheck::rules
