// Service and workload wiring: a Service reaches pods only through the
// container ports its targetPort resolves to. A named targetPort resolves
// through the pod's `ports[].name` (with the same protocol); a pod that does
// not declare it gets no endpoint for that port. These rules look at both
// sides: the Service (service-target-port-missing, service-selects-nothing)
// and the workload whose change breaks a Service (workload-breaks-service).
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loopback.hpp"
#include "wirecheck/conventions.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::rules {

namespace {

using core::Container;
using core::ContainerPort;
using core::Kind;
using core::Object;
using core::PodTemplate;
using core::Service;
using core::ServicePort;
using policy::FindingSink;
using policy::Operation;
using policy::RuleInput;
using policy::Severity;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Kubernetes defaults an empty protocol to TCP; named ports only resolve when
// the protocols agree.
std::string_view protocol_of(std::string_view protocol) {
  return protocol.empty() ? std::string_view("TCP") : std::string_view(protocol);
}

// What a Service port sends traffic to.
struct Target {
  bool named = false;
  std::string name;
  std::int64_t number = 0;
};

Target target_of(const ServicePort& p) {
  Target t;
  if (!p.target_port.set) {
    t.number = p.port;
  } else if (p.target_port.is_int) {
    t.number = p.target_port.num;
  } else if (all_digits(p.target_port.str)) {
    t.number = std::stoll(p.target_port.str.substr(0, 6));
  } else {
    t.named = true;
    t.name = p.target_port.str;
  }
  return t;
}

std::string port_path(const ServicePort& p) {
  return "spec.ports[" + std::to_string(p.index) + "]." + (p.target_port.set ? "targetPort" : "port");
}

// "8443 (https)" or "8443".
std::string describe_port(const ServicePort& p) {
  std::string s = std::to_string(p.port);
  if (!p.name.empty()) s += " (" + p.name + ")";
  return s;
}

std::string describe(const Object& o) {
  return std::string(core::kind_name(o.kind)) + " " + o.name();
}

// "Deployment a", "Deployment a, StatefulSet b", "Deployment a and 3 more".
std::string describe_all(const std::vector<const Object*>& objects) {
  std::string s;
  for (std::size_t i = 0; i < objects.size() && i < 2; ++i) {
    if (i > 0) s += ", ";
    s += describe(*objects[i]);
  }
  if (objects.size() > 2) s += " and " + std::to_string(objects.size() - 2) + " more";
  return s;
}

bool same_object(const Object& a, const Object& b) {
  return a.kind == b.kind && a.ns() == b.ns() && a.name() == b.name();
}

bool skipped_service(const Service& svc) {
  // ExternalName Services have no endpoints; their selector is ignored.
  return !svc.has_selector || svc.selector.empty() || svc.type == "ExternalName";
}

// A container port of the regular containers named `name` with `protocol`.
struct Declared {
  const Container* container = nullptr;
  const ContainerPort* port = nullptr;
};

Declared find_named(const std::vector<Container>& containers, std::string_view name,
                    std::string_view protocol) {
  for (const Container& c : containers) {
    for (const ContainerPort& p : c.ports) {
      if (p.name == name && protocol_of(p.protocol) == protocol) return {&c, &p};
    }
  }
  return {};
}

// A named port the endpoints controller resolves: regular containers first,
// then native sidecars (init containers with restartPolicy: Always). Ports of
// init containers that run to completion never serve a Service.
Declared find_serving(const PodTemplate& t, std::string_view name, std::string_view protocol) {
  if (Declared d = find_named(t.containers, name, protocol); d.port != nullptr) return d;
  for (const Container& c : t.init_containers) {
    if (!c.sidecar) continue;
    for (const ContainerPort& p : c.ports) {
      if (p.name == name && protocol_of(p.protocol) == protocol) return {&c, &p};
    }
  }
  return {};
}

// Same name, another protocol: the most confusing way for a name to "exist".
Declared find_named_other_protocol(const std::vector<Container>& containers, std::string_view name,
                                   std::string_view protocol) {
  for (const Container& c : containers) {
    for (const ContainerPort& p : c.ports) {
      if (p.name == name && protocol_of(p.protocol) != protocol) return {&c, &p};
    }
  }
  return {};
}

// A container seen listening (by its flags) on `number` on a non-loopback
// address, or nullptr: the only container a fix may tell to declare it.
const Container* listener_on(const PodBinds& binds, std::int64_t number) {
  const ContainerBind* cb = binds.reachable(number);
  return cb != nullptr && !cb->container->init ? cb->container : nullptr;
}

// The pod templates a Service selects, with the indexes
// service-target-port-missing looks up in each (listeners from the flags,
// declared numbers), each built at most once per template per evaluation and
// only when asked for: a Service of many ports then costs a lookup per port
// and template, not a scan of the pod.
class SelectedPods {
 public:
  SelectedPods(std::vector<const Object*> templates, const policy::Settings& settings)
      : templates_(std::move(templates)),
        settings_(settings),
        binds_(templates_.size()),
        numbers_(templates_.size()) {}

  const std::vector<const Object*>& templates() const { return templates_; }
  std::size_t size() const { return templates_.size(); }
  const PodTemplate& pod(std::size_t i) const { return *templates_[i]->pod_template(); }

  const PodBinds& binds(std::size_t i) {
    if (!binds_[i]) binds_[i].emplace(pod(i), settings_);
    return *binds_[i];
  }

  // Whether any container (init ones included) declares `number` for `protocol`.
  bool declares_number(std::size_t i, std::int64_t number, std::string_view protocol) {
    if (!numbers_[i]) {
      numbers_[i].emplace();
      for (const auto* list : {&pod(i).containers, &pod(i).init_containers}) {
        for (const Container& c : *list) {
          for (const ContainerPort& p : c.ports) numbers_[i]->emplace(p.container_port, protocol_of(p.protocol));
        }
      }
    }
    return numbers_[i]->count({number, protocol}) > 0;
  }

 private:
  std::vector<const Object*> templates_;
  const policy::Settings& settings_;
  std::vector<std::optional<PodBinds>> binds_;
  std::vector<std::optional<std::set<std::pair<std::int64_t, std::string_view>>>> numbers_;
};

// A port with the Service port's number declared under another name: the
// name the targetPort probably means.
Declared same_number_other_name(const std::vector<const Object*>& templates, const ServicePort& sp,
                                std::string_view protocol) {
  for (const Object* o : templates) {
    for (const Container& c : o->pod_template()->containers) {
      for (const ContainerPort& p : c.ports) {
        if (p.container_port == sp.port && !p.name.empty() && protocol_of(p.protocol) == protocol) {
          return {&c, &p};
        }
      }
    }
  }
  return {};
}

// How a named targetPort resolves over the backends of a Service: served by
// one of them, or why the name resolves nowhere. Both rules ask this one
// question, so the Service's finding and a workload's say the same thing.
struct Resolution {
  enum class State : std::uint8_t {
    kServed,         // a regular container or native sidecar declares it
    kInitOnly,       // only init containers that run to completion declare it
    kOtherProtocol,  // declared, for another protocol only
    kUndeclared,
  };
  State state = State::kUndeclared;
  const Object* owner = nullptr;  // the backend `declared` belongs to
  Declared declared;              // the serving, init or other-protocol declaration
};

Resolution resolve_named_port(const std::vector<const Object*>& backends, std::string_view name,
                              std::string_view protocol) {
  Resolution r;
  for (const Object* o : backends) {
    const PodTemplate& t = *o->pod_template();
    if (Declared d = find_serving(t, name, protocol); d.port != nullptr) return {Resolution::State::kServed, o, d};
    if (r.state == Resolution::State::kInitOnly) continue;
    if (Declared d = find_named(t.init_containers, name, protocol); d.port != nullptr) {
      r = {Resolution::State::kInitOnly, o, d};
    } else if (r.state == Resolution::State::kUndeclared) {
      if (Declared d = find_named_other_protocol(t.containers, name, protocol); d.port != nullptr) {
        r = {Resolution::State::kOtherProtocol, o, d};
      }
    }
  }
  return r;
}

// Why a named targetPort that resolves nowhere does not: "declared only by
// init container x of StatefulSet a, which runs to completion". `where` names
// the templates looked at.
std::string unresolved_reason(const Resolution& r, const ServicePort& sp, std::string_view where) {
  const std::string_view protocol = protocol_of(sp.protocol);
  switch (r.state) {
    case Resolution::State::kInitOnly:
      return "declared only by init container " + std::string(r.declared.container->name) + " of " +
             describe(*r.owner) + ", which runs to completion (its ports serve no Service)";
    case Resolution::State::kOtherProtocol:
      return "over " + std::string(protocol) + ", but container " + std::string(r.declared.container->name) +
             " declares it for " + std::string(protocol_of(r.declared.port->protocol)) +
             " (named ports resolve only with the same protocol)";
    default:
      return "which no container of " + std::string(where) + " declares";
  }
}

// The fix for a named targetPort that resolves nowhere, from what the
// backends show. `service` is empty when the Service is the subject of the
// finding, else its name (a workload's finding then says whose targetPort).
std::string unresolved_fix(const Resolution& r, SelectedPods& pods, const Service& svc, const ServicePort& sp,
                           std::string_view name, std::string_view service) {
  const std::string_view protocol = protocol_of(sp.protocol);
  const std::string whose = service.empty() ? "" : "Service " + std::string(service) + "'s ";
  if (r.state == Resolution::State::kInitOnly) {
    return "make " + std::string(r.declared.container->name) + " a native sidecar (restartPolicy: Always) or "
           "declare port " + std::string(name) + " in a regular container";
  }
  if (r.state == Resolution::State::kOtherProtocol) {
    // Port names are unique in a container: the other protocol needs a new
    // name. Switching the Service port's protocol is an option only when
    // the Service has no port of that number and protocol already.
    const std::string_view declared = protocol_of(r.declared.port->protocol);
    const std::string number = std::to_string(r.declared.port->container_port);
    std::string fix = "declare containerPort " + number + " with protocol " + std::string(protocol) +
                      " under a new name in container " + std::string(r.declared.container->name) + " and set " +
                      whose + "targetPort to it";
    const bool taken = std::any_of(svc.ports.begin(), svc.ports.end(), [&](const ServicePort& other) {
      return other.index != sp.index && other.port == sp.port && protocol_of(other.protocol) == declared;
    });
    if (!taken) {
      fix = "set protocol: " + std::string(declared) + " on " + whose + "spec.ports[" + std::to_string(sp.index) +
            "], or " + fix;
    }
    return fix;
  }
  // The same number under another name: the name is what to fix, never a
  // second declaration of the number.
  if (Declared d = same_number_other_name(pods.templates(), sp, protocol); d.port != nullptr) {
    return "set " + whose + "targetPort to " + std::string(d.port->name) + " (container " +
           std::string(d.container->name) + " declares " + std::to_string(sp.port) + " under that name)";
  }
  for (std::size_t i = 0; i < pods.size(); ++i) {
    if (const Container* c = listener_on(pods.binds(i), sp.port)) {
      return "declare containerPort " + std::to_string(sp.port) + " named " + std::string(name) + " in container " +
             std::string(c->name) + " (it listens there)";
    }
  }
  return "check which container serves " + std::string(name) + " (e.g. a proxy sidecar that was removed) and "
         "declare the port named " + std::string(name) + " there";
}

// Every pod template that may carry the selector's labels, Jobs and hooks
// included: whether the Service selects anything at all.
std::vector<const Object*> selected_templates(const RuleInput& in, const Service& svc) {
  return policy::pod_templates_selected_by(in.context, in.object.ns(), svc.selector);
}

// The workloads whose pods are the Service's endpoints.
std::vector<const Object*> backends_of(const RuleInput& in, const Service& svc) {
  return policy::select_backends(in.context, in.object.ns(), svc.selector);
}

// ------------------------------------------------- service-target-port-missing

// "tls" or "9300": how a message names a Service port.
std::string port_label(const ServicePort& sp) {
  return sp.name.empty() ? std::to_string(sp.port) : std::string(sp.name);
}

// A named targetPort that resolves nowhere: a Service port without endpoints.
struct DeadPort {
  const ServicePort* port;
  std::string name;
  Resolution resolution;
};

// The severity of a dead port, from what depends on it: something in the
// view uses it, or the Service has no live port at all (deny); else the port
// is feature-gated (TLS-only, multi-replica-only): a cluster IP exposes a
// port that never answers (warn), a headless Service still publishes its
// pods' DNS records (info).
void report_dead_port(const RuleInput& in, const Service& svc, const DeadPort& dead, bool any_port_resolves,
                      SelectedPods& pods, FindingSink& out) {
  const ServicePort& sp = *dead.port;
  const std::string head = "port " + describe_port(sp) + " targets \"" + dead.name + "\", " +
                           unresolved_reason(dead.resolution, sp, describe_all(pods.templates()));
  const std::string fix = unresolved_fix(dead.resolution, pods, svc, sp, dead.name, "");
  if (const std::optional<policy::PortUser> user = policy::service_port_user(in.context, in.object, sp)) {
    out.add(Severity::kDeny, port_path(sp), head + ": the Service has no endpoints for it, and " + user->what, fix);
    return;
  }
  if (!any_port_resolves) {
    out.add(Severity::kDeny, port_path(sp), head + ": the name cannot resolve, so the Service has no endpoints", fix);
    return;
  }
  const std::string until = ": no endpoints for port " + port_label(sp) + " until a container declares it";
  if (svc.headless) {
    out.add(Severity::kInfo, port_path(sp),
            head + until + "; fine if feature-gated: the headless Service still gives its pods DNS names", fix);
  } else {
    out.add(Severity::kWarn, port_path(sp),
            head + until + " (other ports resolve; nothing in the view uses it)", fix);
  }
}

void check_numbered_target(const ServicePort& sp, const Target& target, SelectedPods& pods,
                           FindingSink& out) {
  const std::string_view protocol = protocol_of(sp.protocol);
  const std::string number = std::to_string(target.number);
  for (std::size_t i = 0; i < pods.size(); ++i) {
    if (pods.declares_number(i, target.number, protocol)) return;
    // containerPort is informational for numbers: a listener on a
    // non-loopback address serves the Service as well as a declaration.
    if (pods.binds(i).reachable(target.number) != nullptr) return;
  }
  for (std::size_t i = 0; i < pods.size(); ++i) {
    const Object* o = pods.templates()[i];
    const ContainerBind* cb = pods.binds(i).loopback(target.number);
    if (cb == nullptr) continue;
    out.add(Severity::kWarn, port_path(sp),
            "port " + describe_port(sp) + " targets " + number + ", which container " +
                cb->container->name + " of " + describe(*o) + " binds to " +
                format_host_port(cb->bind.host, cb->bind.port) +
                ": Service traffic cannot reach a loopback listener",
            "bind " + number + " on all interfaces (" + rebind_all_interfaces(cb->bind) +
                ") or target the port of the proxy in front of it");
    return;
  }
  // containerPort is informational: a process listening on an undeclared
  // port serves the Service. Nothing here says which container that is.
  out.add(Severity::kInfo, port_path(sp),
          "port " + describe_port(sp) + (sp.target_port.set ? " targets " : " (no targetPort) targets ") +
              number + ", which no container of " + describe_all(pods.templates()) +
              " declares: fine if a container listens there",
          "declare containerPort " + number +
              " in the container that listens on it, so named ports, NetworkPolicies and readers see it");
}

void check_target_port(const RuleInput& in, FindingSink& out) {
  const Service* svc = in.object.service();
  if (svc == nullptr || skipped_service(*svc)) return;
  // Pods of Jobs and test hooks are no backends; a Service selecting only
  // those has no endpoints to check (and may be meant that way).
  SelectedPods pods(backends_of(in, *svc), in.settings);
  if (pods.size() == 0) return;  // service-selects-nothing reports that
  std::vector<DeadPort> dead;
  bool any_port_resolves = false;
  for (const ServicePort& sp : svc->ports) {
    Target target = target_of(sp);
    if (target.named) {
      Resolution r = resolve_named_port(pods.templates(), target.name, protocol_of(sp.protocol));
      if (r.state == Resolution::State::kServed) {
        any_port_resolves = true;
      } else {
        dead.push_back({&sp, std::move(target.name), r});
      }
    } else if (target.number > 0) {
      // A number always gets endpoints: the Service has a live port.
      any_port_resolves = true;
      check_numbered_target(sp, target, pods, out);
    }
  }
  for (const DeadPort& d : dead) report_dead_port(in, *svc, d, any_port_resolves, pods, out);
}

// ----------------------------------------------------- service-selects-nothing

std::string format_labels(const core::StringMap& labels) {
  std::string s;
  for (const auto& [k, v] : labels) {
    if (!s.empty()) s += ",";
    s.append(k).append("=").append(v);
  }
  return s;
}

// A custom resource of the namespace whose operator creates pods carrying
// the selector: labels by the operator's convention (conventions.hpp: a
// Prometheus named N gets `prometheus: N`) or declared in its spec
// (podMetadata.labels and the like). Operators also label pods with their
// resource's name, so a selector value equal to that name counts as covered.
const Object* operator_resource_selected(const policy::Context& ctx, const Object& svc_obj,
                                         const core::StringMap& selector) {
  std::vector<const Object*> resources;
  for (Kind k : {Kind::kOther, Kind::kPrometheus, Kind::kPrometheusAgent}) {
    if (!ctx.knows(k)) continue;
    for (const Object* o : ctx.list(k, svc_obj.ns())) resources.push_back(o);
  }
  for (const Object* o : resources) {
    const core::StringMap labels = policy::operator_pod_labels(*o);
    if (labels.empty()) continue;
    const bool covered = std::all_of(selector.begin(), selector.end(), [&](const auto& kv) {
      return core::find_value(labels, kv.first) == kv.second || kv.second == o->name();
    });
    if (covered) return o;
  }
  return nullptr;
}

// A workload of the view that may create pods (or the workloads that make
// them) in `ns`: an operator whose pods the manifests never show.
std::optional<policy::Producer> pod_producer(const policy::Context& ctx, std::string_view ns) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kPodMakers = {{
      {"", "pods"},
      {"apps", "deployments"},
      {"apps", "statefulsets"},
      {"apps", "daemonsets"},
      {"batch", "jobs"},
  }};
  for (const auto& [group, resource] : kPodMakers) {
    if (auto p = ctx.producers().may(ctx, {{"create"}, group, resource, ns, ""})) return p;
  }
  return std::nullopt;
}

// Objects that say which components the input deploys: everything but the
// Services and monitors that point at them.
bool describes_components(core::Kind k) {
  return k != Kind::kService && k != Kind::kServiceMonitor && k != Kind::kPodMonitor;
}

bool carries(const Object& o, const std::string& key, const std::string& value) {
  auto has = [&](const core::StringMap& labels) { return core::find_value(labels, key) == value; };
  if (has(o.meta.labels)) return true;
  if (const PodTemplate* t = o.pod_template(); t != nullptr && has(t->labels)) return true;
  if (const core::CustomResource* cr = o.custom_resource(); cr != nullptr && has(cr->pod_labels)) return true;
  return false;
}

bool mentions(const Object& o, const std::string& value) {
  if (o.name() == value) return true;
  for (const auto& [k, v] : o.meta.labels) {
    if (v == value) return true;
  }
  return false;
}

// A selector pair that no object of the input (but Services and monitors)
// carries in its namespace, naming a value no such object mentions anywhere
// in the input: the component is not part of this input (an optional part
// switched off, or deployed by another install). Empty when none.
std::string absent_component(const policy::Context& ctx, const Object& svc_obj, const core::StringMap& selector) {
  std::vector<const Object*> in_ns, everywhere;
  for (std::size_t k = 1; k < core::kKindCount; ++k) {
    const auto kind = static_cast<Kind>(k);
    if (!describes_components(kind) || !ctx.knows(kind)) continue;
    for (const Object* o : ctx.list(kind, svc_obj.ns())) in_ns.push_back(o);
    for (const Object* o : ctx.list_all(kind)) everywhere.push_back(o);
  }
  if (ctx.knows(Kind::kOther)) {
    for (const Object* o : ctx.list(Kind::kOther, svc_obj.ns())) in_ns.push_back(o);
    for (const Object* o : ctx.list_all(Kind::kOther)) everywhere.push_back(o);
  }
  for (const auto& kv : selector) {
    // Named copies, not structured bindings: clang 14 (the fuzz build) cannot
    // capture those in a lambda.
    const std::string key(kv.first);
    const std::string value(kv.second);
    const bool carried = std::any_of(in_ns.begin(), in_ns.end(), [&](const Object* o) { return carries(*o, key, value); });
    if (carried) continue;
    const bool mentioned =
        std::any_of(everywhere.begin(), everywhere.end(), [&](const Object* o) { return mentions(*o, value); });
    if (!mentioned) return key + "=" + value;
  }
  return "";
}

void check_selects_nothing(const RuleInput& in, FindingSink& out) {
  const Service* svc = in.object.service();
  if (svc == nullptr || skipped_service(*svc)) return;
  if (!selected_templates(in, *svc).empty()) return;
  if (std::any_of(svc->selector.begin(), svc->selector.end(),
                  [](const auto& kv) { return policy::controller_added_label(kv.first); })) {
    return;
  }
  const auto in_namespace = policy::pod_templates_in(in.context, in.object.ns());
  // A partial view without any workload of the namespace shows nothing of
  // what runs there.
  if (in_namespace.empty() && !in.context.complete()) return;
  if (operator_resource_selected(in.context, in.object, svc->selector) != nullptr) return;
  // Only where the view is a whole manifest input (it knows every kind, as
  // lint's does): a cluster cache of a few kinds cannot say what "the
  // input" names, and scanning it per Service would not be cheap.
  if (!in.context.complete() && in.context.knows(Kind::kOther)) {
    if (const std::string absent = absent_component(in.context, in.object, svc->selector); !absent.empty()) {
      out.add(Severity::kInfo, "spec.selector",
              "no object of the input carries " + absent +
                  ": fine if that component is deployed separately, else the Service has no endpoints",
              "if it belongs to this input, make spec.selector a subset of its pod template labels");
      return;
    }
  }
  const std::string cause = "no pod carries " + format_labels(svc->selector) + " in namespace " + in.object.ns();
  const std::optional<policy::Producer> producer = pod_producer(in.context, in.object.ns());
  const Severity sev = policy::missing_counterpart_severity(in.context, producer, Severity::kWarn);
  if (producer && sev == Severity::kInfo) {
    out.add_caused(sev, "spec.selector",
                   "selector " + format_labels(svc->selector) + " matches no pod template of the input; the pods "
                   "may be created at run time by " + producer->describe(),
                   "", cause);
    return;
  }
  out.add_caused(Severity::kWarn, "spec.selector",
                 "selector " + format_labels(svc->selector) + " matches no pod template in namespace " +
                     in.object.ns() + ": the Service has no endpoints" +
                     (producer ? " (" + producer->who() + " may create pods there: check that it did)" : ""),
                 "make spec.selector a subset of the pod template labels of the workload that serves it", cause);
}

// ----------------------------------------------------- workload-breaks-service

// The Service's backends as they are once this object is applied: the view's
// copy of it (admission's view holds the stored one) replaced by it, first.
std::vector<const Object*> backends_with(const RuleInput& in, const Service& svc) {
  std::vector<const Object*> out = backends_of(in, svc);
  std::erase_if(out, [&](const Object* o) { return same_object(*o, in.object); });
  out.insert(out.begin(), &in.object);
  return out;
}

// A port of `t` with `number` and `protocol` under a name other than `name`:
// where a renamed port went.
Declared renamed_to(const PodTemplate& t, std::int64_t number, std::string_view protocol, std::string_view name) {
  for (const Container& c : t.containers) {
    for (const ContainerPort& p : c.ports) {
      if (p.container_port == number && protocol_of(p.protocol) == protocol && p.name != name) return {&c, &p};
    }
  }
  return {};
}

const Container* container_named(const PodTemplate& t, std::string_view name) {
  for (const Container& c : t.containers) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string ports_path(const PodTemplate& t, const Container* c) {
  return c != nullptr ? t.container_path(*c) + ".ports" : std::string(t.spec_path) + ".containers";
}

// An UPDATE took away the declaration the Service resolved on these pods.
void report_dropped(const PodTemplate& t, const Object& svc_obj, const ServicePort& sp,
                    const std::string& name, const Declared& before, const Resolution& elsewhere, FindingSink& out) {
  const std::string_view protocol = protocol_of(sp.protocol);
  const std::int64_t number = before.port->container_port;
  std::string message = "this change removes port \"" + name + "\" (" + std::to_string(number) +
                        ") from container " + std::string(before.container->name) + ", which Service " +
                        std::string(svc_obj.name()) + ":" + std::to_string(sp.port) +
                        " targets: these pods drop out of its endpoints";
  if (elsewhere.state == Resolution::State::kServed) message += " (" + describe(*elsewhere.owner) + " still serves it)";
  // A rename keeps the number: naming it back is the fix, not a second
  // declaration of the same number.
  if (Declared renamed = renamed_to(t, number, protocol, name); renamed.port != nullptr) {
    std::string fix = "rename port " + std::string(renamed.port->name) + " (" + std::to_string(number) +
                      ") of container " + std::string(renamed.container->name) + " back to " + name;
    if (elsewhere.state != Resolution::State::kServed) {
      fix += ", or set Service " + std::string(svc_obj.name()) + "'s targetPort to " +
             std::string(renamed.port->name) + " in the same change";
    }
    out.add(Severity::kDeny, ports_path(t, renamed.container), std::move(message), std::move(fix));
    return;
  }
  const Container* still = container_named(t, before.container->name);
  std::string fix = "declare containerPort " + std::to_string(number) + " named " + name + " in container " +
                    std::string(before.container->name);
  if (still == nullptr) fix += " (or the container that serves it now)";
  out.add(Severity::kDeny, ports_path(t, still), std::move(message), std::move(fix));
}

void check_workload_breaks_service(const RuleInput& in, FindingSink& out) {
  const PodTemplate* t = in.object.pod_template();
  // Pods of Jobs, CronJobs and Helm test hooks are never endpoints: lacking
  // the app's ports is what they should do.
  if (t == nullptr || !policy::backs_services(in.object)) return;
  const PodTemplate* old_t = in.old_object != nullptr ? in.old_object->pod_template() : nullptr;
  for (const Object* svc_obj : policy::services_selecting(in.context, in.object.ns(), t->labels)) {
    const Service& svc = *svc_obj->service();
    if (skipped_service(svc)) continue;
    std::optional<SelectedPods> pods;
    for (const ServicePort& sp : svc.ports) {
      const Target target = target_of(sp);
      if (!target.named) continue;
      const std::string_view protocol = protocol_of(sp.protocol);
      if (find_serving(*t, target.name, protocol).port != nullptr) continue;

      if (!pods) pods.emplace(backends_with(in, svc), in.settings);
      const std::vector<const Object*> others(pods->templates().begin() + 1, pods->templates().end());
      const Resolution elsewhere = resolve_named_port(others, target.name, protocol);
      const Declared before = old_t != nullptr ? find_serving(*old_t, target.name, protocol) : Declared{};
      if (before.port != nullptr) {
        report_dropped(*t, *svc_obj, sp, target.name, before, elsewhere, out);
        continue;
      }
      const std::string svc_port = std::string(svc_obj->name()) + ":" + std::to_string(sp.port);
      if (elsewhere.state == Resolution::State::kServed) {
        // The endpoints controller skips these pods for this port and keeps
        // the ones that declare it: the Service works.
        out.add(Severity::kInfo, std::string(t->spec_path) + ".containers",
                "Service " + std::string(svc_obj->name()) + " targets port name \"" + target.name +
                    "\", which this pod template does not declare: its pods get no endpoint for " + svc_port +
                    ", which " + describe(*elsewhere.owner) + " serves",
                "nothing to do if these pods do not serve " + target.name + "; if they do, declare the port "
                "named " + target.name + " in the container that serves it");
        continue;
      }
      // No selected workload serves the port. In lint and audit the Service
      // is judged too and reports it, once; at admission the Service is not
      // under review, and its other backends may not be applied yet.
      if (in.context.judges_whole_view()) continue;
      const Resolution here = resolve_named_port(pods->templates(), target.name, protocol);
      const std::string where = others.empty() ? "this pod template" : "this pod template or " + describe_all(others);
      // The container the finding is about: this template's init or
      // other-protocol declaration, else its listener on the Service port.
      const Container* container = nullptr;
      if (here.owner == &in.object) {
        container = here.declared.container;
      } else if (here.state == Resolution::State::kUndeclared) {
        container = listener_on(pod_binds(in, *t), sp.port);
      }
      out.add(Severity::kWarn, ports_path(*t, container),
              "Service " + std::string(svc_obj->name()) + " targets port name \"" + target.name + "\", " +
                  unresolved_reason(here, sp, where) + ": " + svc_port + " has no endpoints",
              unresolved_fix(here, *pods, svc, sp, target.name, svc_obj->name()));
    }
  }
}

}  // namespace

WIRECHECK_REGISTER_RULE(service_target_port_missing, {
    .id = "service-target-port-missing",
    .title = "Service targetPort is not declared by any selected container",
    .severity = Severity::kDeny,
    .severities = "deny / warn / info",
    .kinds = {Kind::kService},
    .needs_context = true,
    .context_kinds = core::workload_kinds(),
    .optional_context_kinds = {Kind::kServiceMonitor, Kind::kValidatingWebhookConfiguration,
                               Kind::kMutatingWebhookConfiguration, Kind::kCustomResourceDefinition,
                               Kind::kAPIService, Kind::kIngress, Kind::kHTTPRoute},
    .failure = "A named targetPort that no selected container declares cannot resolve: that Service "
               "port has no endpoints and every connection to it fails. Deny when something uses the "
               "port (a ServiceMonitor endpoint, a webhook / conversion / APIService client config, an "
               "Ingress or HTTPRoute backend) or when no port of the Service resolves; otherwise the "
               "port is likely feature-gated (TLS-only, multi-replica-only): warn on a Service with a "
               "cluster IP, info on a headless one (it still gives its pods DNS names). A numeric "
               "targetPort bound only to loopback is unreachable (warn). A numeric targetPort no "
               "container declares works when a process listens there (info: containerPort is "
               "informational). Backends are Pods, Deployments, StatefulSets, DaemonSets and "
               "ReplicaSets; Jobs, CronJobs and Helm test hooks are not.",
    .fix = "Declare the container port with that name (and the Service port's protocol) in the "
           "container that serves it, or point targetPort at the name it declares; declare numeric "
           "target ports too, so named ports, NetworkPolicies and readers see them.",
    .check = &check_target_port})

WIRECHECK_REGISTER_RULE(service_selects_nothing, {
    .id = "service-selects-nothing",
    .title = "Service selector matches no pod template",
    .severity = Severity::kWarn,
    .severities = "warn / info",
    .kinds = {Kind::kService},
    .needs_context = true,
    .context_kinds = core::workload_kinds(),
    .failure = "A Service whose selector matches no pod has no endpoints: connections to it are "
               "refused or time out. Not reported when the pods may come from elsewhere: selector "
               "labels controllers add at run time, a custom resource whose pod labels cover the "
               "selector (operator-managed pods), or (lint) no workload of the namespace in the input. "
               "Info in lint when nothing in the input but Services and monitors names the selected "
               "component (an optional part not deployed, or another install's).",
    .fix = "Make spec.selector a subset of the pod template labels of the workload that serves the "
           "Service (or add the missing labels to that template).",
    .check = &check_selects_nothing})

WIRECHECK_REGISTER_RULE(workload_breaks_service, {
    .id = "workload-breaks-service",
    .title = "Workload lacks a port name a Service selecting it targets",
    .severity = Severity::kDeny,
    .severities = "deny / warn / info",
    .kinds = {Kind::kPod, Kind::kDeployment, Kind::kStatefulSet, Kind::kDaemonSet, Kind::kReplicaSet},
    .needs_context = true,
    .context_kinds = {Kind::kService},
    .optional_context_kinds = {Kind::kPod, Kind::kDeployment, Kind::kStatefulSet, Kind::kDaemonSet,
                               Kind::kReplicaSet},
    .failure = "Pods that do not declare the port name a Service targets get no endpoint for it; the "
               "endpoints controller keeps the selected pods that do. An update that removes or "
               "renames the port takes these pods out of the Service (deny); at admission of a "
               "workload no other selected workload serves the port either (warn: it may be apply "
               "order); another selected workload serves it (info, naming it). In lint and audit a "
               "port no selected workload declares is reported once, on the Service "
               "(service-target-port-missing). Jobs, CronJobs and Helm test hooks are never backends.",
    .fix = "Keep the containerPort name the Service targets (same protocol), or change the "
           "Service's targetPort in the same change.",
    .check = &check_workload_breaks_service})

}  // namespace wirecheck::rules
