// Service and workload wiring: a Service reaches pods only through the
// container ports its targetPort resolves to. A named targetPort resolves
// through the pod's `ports[].name` (with the same protocol); a pod that does
// not declare it gets no endpoint for that port. These rules look at both
// sides: the Service (service-target-port-missing, service-selects-nothing)
// and the workload whose change breaks a Service (workload-breaks-service).
#include <algorithm>
#include <array>
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

// The fix for a named targetPort nobody declares, from what the input shows:
// the same number under another name, or a container listening on the
// Service's port; otherwise what to check, without a value.
std::string named_port_fix(SelectedPods& pods, const ServicePort& sp, const std::string& name) {
  const std::string_view protocol = protocol_of(sp.protocol);
  if (Declared d = same_number_other_name(pods.templates(), sp, protocol); d.port != nullptr) {
    return "set targetPort to " + d.port->name + " (container " + d.container->name + " declares " +
           std::to_string(sp.port) + " under that name)";
  }
  for (std::size_t i = 0; i < pods.size(); ++i) {
    if (const Container* c = listener_on(pods.binds(i), sp.port)) {
      return "declare containerPort " + std::to_string(sp.port) + " named " + name + " in container " +
             c->name + " (it listens there)";
    }
  }
  return "check which container serves " + name + " (e.g. a proxy sidecar that was removed) and declare "
         "the port named " + name + " there";
}

std::vector<const Object*> selected_templates(const RuleInput& in, const Service& svc) {
  return policy::pod_templates_selected_by(in.context, in.object.ns(), svc.selector);
}

// ------------------------------------------------- service-target-port-missing

void check_named_target(const ServicePort& sp, const Target& target, SelectedPods& pods,
                        FindingSink& out) {
  const std::vector<const Object*>& selected = pods.templates();
  const std::string_view protocol = protocol_of(sp.protocol);
  const Container* init_declaring = nullptr;
  Declared other_protocol;
  for (const Object* o : selected) {
    const PodTemplate& t = *o->pod_template();
    if (find_serving(t, target.name, protocol).port != nullptr) return;
    if (Declared d = find_named(t.init_containers, target.name, protocol); d.port != nullptr) {
      init_declaring = d.container;
    }
    if (other_protocol.port == nullptr) {
      other_protocol = find_named_other_protocol(t.containers, target.name, protocol);
    }
  }
  const std::string path = port_path(sp);
  const std::string where = describe_all(selected);
  if (init_declaring != nullptr) {
    out.add(Severity::kDeny, path,
            "port " + describe_port(sp) + " targets \"" + target.name + "\", declared only by init container " +
                init_declaring->name + " of " + where +
                ", which runs to completion: its ports serve no Service, so there are no endpoints",
            "make " + init_declaring->name + " a native sidecar (restartPolicy: Always) or declare port " +
                target.name + " in a regular container");
    return;
  }
  if (other_protocol.port != nullptr) {
    out.add(Severity::kDeny, path,
            "port " + describe_port(sp) + " targets \"" + target.name + "\" over " +
                std::string(protocol) + ", but container " + other_protocol.container->name +
                " declares it for " + std::string(protocol_of(other_protocol.port->protocol)) +
                ": named ports resolve only with the same protocol, so the Service gets no endpoints",
            "set protocol: " + std::string(protocol_of(other_protocol.port->protocol)) +
                " on spec.ports[" + std::to_string(sp.index) + "], or declare " + target.name +
                " with protocol " + std::string(protocol) + " in container " +
                other_protocol.container->name);
    return;
  }
  out.add(Severity::kDeny, path,
          "port " + describe_port(sp) + " targets \"" + target.name + "\", which no container of " + where +
              " declares: the name cannot resolve, so the Service has no endpoints for it",
          named_port_fix(pods, sp, target.name));
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
  SelectedPods pods(selected_templates(in, *svc), in.settings);
  if (pods.size() == 0) return;  // service-selects-nothing reports that
  for (const ServicePort& sp : svc->ports) {
    const Target target = target_of(sp);
    if (target.named) {
      check_named_target(sp, target, pods, out);
    } else if (target.number > 0) {
      check_numbered_target(sp, target, pods, out);
    }
  }
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

void check_workload_breaks_service(const RuleInput& in, FindingSink& out) {
  const PodTemplate* t = in.object.pod_template();
  if (t == nullptr) return;
  const PodTemplate* old_t = in.old_object != nullptr ? in.old_object->pod_template() : nullptr;
  for (const Object* svc_obj : policy::services_selecting(in.context, in.object.ns(), t->labels)) {
    const Service& svc = *svc_obj->service();
    if (skipped_service(svc)) continue;
    for (const ServicePort& sp : svc.ports) {
      const Target target = target_of(sp);
      if (!target.named) continue;
      const std::string_view protocol = protocol_of(sp.protocol);
      if (find_serving(*t, target.name, protocol).port != nullptr) continue;

      Declared elsewhere;
      const Object* elsewhere_owner = nullptr;
      for (const Object* o : selected_templates(in, svc)) {
        if (same_object(*o, in.object)) continue;
        elsewhere = find_serving(*o->pod_template(), target.name, protocol);
        if (elsewhere.port != nullptr) {
          elsewhere_owner = o;
          break;
        }
      }
      const Declared before =
          old_t != nullptr ? find_serving(*old_t, target.name, protocol) : Declared{};

      // Severity: an UPDATE that drops the port breaks a working Service; a
      // port that was already missing is not this change's doing. On CREATE
      // with nobody declaring the name, the declaring workload may simply not
      // be applied (or given) yet, unless the view is the whole cluster.
      Severity severity = Severity::kDeny;
      if (in.operation == Operation::kUpdate) {
        if (before.port == nullptr) severity = Severity::kWarn;
      } else if (elsewhere.port == nullptr && !in.context.complete()) {
        severity = Severity::kWarn;
      }

      // The declaration to restore: the old one or another template's; with
      // neither, only a container seen listening on the Service port.
      std::string container_name;
      std::int64_t number = sp.port;
      if (before.port != nullptr) {
        container_name = before.container->name;
        number = before.port->container_port;
      } else if (elsewhere.port != nullptr) {
        container_name = elsewhere.container->name;
        number = elsewhere.port->container_port;
      } else if (const Container* c = listener_on(pod_binds(in, *t), sp.port)) {
        container_name = c->name;
      }
      const Container* container = nullptr;
      for (const Container& c : t->containers) {
        if (c.name == container_name) container = &c;
      }

      const std::string path =
          container != nullptr ? t->container_path(*container) + ".ports" : std::string(t->spec_path) + ".containers";
      const std::string svc_port = svc_obj->name() + ":" + std::to_string(sp.port);
      std::string message;
      if (before.port != nullptr) {
        message = "this change removes port \"" + target.name + "\" (" +
                  std::to_string(before.port->container_port) + ") from container " +
                  before.container->name + ", which Service " + svc_port +
                  " targets: these pods drop out of its endpoints";
      } else {
        message = "Service " + svc_obj->name() + " targets port name \"" + target.name +
                  "\", which this pod template does not declare: its pods get no endpoint for " +
                  svc_port;
      }
      if (elsewhere_owner != nullptr && before.port == nullptr) {
        message += " (" + describe(*elsewhere_owner) + " declares it)";
      }
      std::string fix;
      if (container != nullptr) {
        fix = "declare containerPort " + std::to_string(number) + " named " + target.name + " in container " +
              container_name;
      } else if (Declared d = same_number_other_name({&in.object}, sp, protocol); d.port != nullptr) {
        fix = "name port " + std::to_string(sp.port) + " of container " + d.container->name + " " +
              target.name + ", or set the Service's targetPort to " + d.port->name;
      } else {
        fix = "check which container serves " + target.name + " and declare the port named " + target.name +
              " there";
      }
      out.add(severity, path, std::move(message), std::move(fix));
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
    .failure = "A named targetPort that no selected container declares cannot resolve: the Service "
               "has no endpoints for that port and every connection to it fails (deny). A numeric "
               "targetPort bound only to loopback is unreachable (warn). A numeric targetPort no "
               "container declares works when a process listens there (info: containerPort is "
               "informational).",
    .fix = "Declare the container port with that name (and the Service port's protocol) in the "
           "container that serves it; declare numeric target ports too, so named ports, "
           "NetworkPolicies and readers see them.",
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
    .severities = "deny / warn",
    .kinds = core::workload_kinds(),
    .needs_context = true,
    .context_kinds = {Kind::kService},
    .failure = "Pods that do not declare the port name a Service targets get no endpoint for it: "
               "an update that removes or renames the port silently takes the pods out of the "
               "Service (deny); on CREATE with no other workload declaring it, it may be apply "
               "order (warn).",
    .fix = "Keep the containerPort name the Service targets (same protocol), or change the "
           "Service's targetPort in the same change.",
    .check = &check_workload_breaks_service})

}  // namespace wirecheck::rules
