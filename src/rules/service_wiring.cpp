// Service and workload wiring: a Service reaches pods only through the
// container ports its targetPort resolves to. A named targetPort resolves
// through the pod's `ports[].name` (with the same protocol); a pod that does
// not declare it gets no endpoint for that port. These rules look at both
// sides: the Service (service-target-port-missing, service-selects-nothing)
// and the workload whose change breaks a Service (workload-breaks-service).
#include <algorithm>
#include <string>
#include <vector>

#include "loopback.hpp"
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
std::string_view protocol_of(const std::string& protocol) {
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

bool declares_number(const PodTemplate& t, std::int64_t number, std::string_view protocol) {
  for (const auto* list : {&t.containers, &t.init_containers}) {
    for (const Container& c : *list) {
      for (const ContainerPort& p : c.ports) {
        if (p.container_port == number && protocol_of(p.protocol) == protocol) return true;
      }
    }
  }
  return false;
}

// Where to declare a missing named port: the container that listens on the
// Service's port (or on a port it does not declare yet), with that number.
struct Suggestion {
  const Container* container = nullptr;
  std::int64_t number = 0;
};

Suggestion suggest_declaration(const PodTemplate& t, std::int64_t service_port,
                               const policy::Settings& settings) {
  if (t.containers.empty()) return {};
  const PodBinds binds(t, settings);
  for (const ContainerBind& cb : binds.all()) {
    if (!cb.container->init && cb.bind.port == service_port && cb.bind.kind != BindHost::kLoopback) {
      return {cb.container, service_port};
    }
  }
  for (const ContainerBind& cb : binds.all()) {
    if (cb.container->init || cb.bind.kind == BindHost::kLoopback) continue;
    if (cb.container->port_numbered(cb.bind.port) == nullptr) return {cb.container, cb.bind.port};
  }
  return {&t.containers.front(), service_port};
}

// "or set targetPort to webhook-server" from the names the templates do declare.
std::string alternative_target(const std::vector<const Object*>& templates, const ServicePort& sp,
                               std::string_view protocol) {
  std::vector<std::string> names;
  std::string same_number;
  for (const Object* o : templates) {
    for (const Container& c : o->pod_template()->containers) {
      for (const ContainerPort& p : c.ports) {
        if (p.name.empty() || protocol_of(p.protocol) != protocol) continue;
        if (std::find(names.begin(), names.end(), p.name) == names.end()) names.push_back(p.name);
        if (p.container_port == sp.port && same_number.empty()) same_number = p.name;
      }
    }
  }
  if (!same_number.empty()) return ", or set targetPort to " + same_number;
  if (names.size() == 1) return ", or set targetPort to " + names.front();
  if (names.empty()) return "";
  std::string s = ", or set targetPort to one of ";
  for (std::size_t i = 0; i < names.size() && i < 4; ++i) {
    if (i > 0) s += ", ";
    s += names[i];
  }
  return s;
}

std::vector<const Object*> selected_templates(const RuleInput& in, const Service& svc) {
  return policy::pod_templates_selected_by(in.context, in.object.ns(), svc.selector);
}

// ------------------------------------------------- service-target-port-missing

void check_named_target(const RuleInput& in, const ServicePort& sp, const Target& target,
                        const std::vector<const Object*>& selected, FindingSink& out) {
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
  const Suggestion s = suggest_declaration(*selected.front()->pod_template(), sp.port, in.settings);
  std::string fix = "declare containerPort " + std::to_string(s.number) + " named " + target.name;
  if (s.container != nullptr) fix += " in container " + s.container->name;
  if (selected.size() > 1) fix += " of " + describe(*selected.front());
  fix += alternative_target(selected, sp, protocol);
  out.add(Severity::kDeny, path,
          "port " + describe_port(sp) + " targets container port \"" + target.name +
              "\", which no container of " + where +
              " declares: the Service gets no endpoints for it and connections fail",
          std::move(fix));
}

void check_numbered_target(const RuleInput& in, const ServicePort& sp, const Target& target,
                           const std::vector<const Object*>& selected, FindingSink& out) {
  const std::string_view protocol = protocol_of(sp.protocol);
  const std::string number = std::to_string(target.number);
  for (const Object* o : selected) {
    const PodTemplate& t = *o->pod_template();
    if (declares_number(t, target.number, protocol)) return;
    // containerPort is informational for numbers: a listener on a
    // non-loopback address serves the Service as well as a declaration.
    if (PodBinds(t, in.settings).reachable(target.number) != nullptr) return;
  }
  for (const Object* o : selected) {
    const PodBinds binds(*o->pod_template(), in.settings);
    const ContainerBind* cb = binds.loopback(target.number);
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
  const PodTemplate& first = *selected.front()->pod_template();
  std::string fix = "declare containerPort " + number;
  if (!first.containers.empty()) fix += " in container " + first.containers.front().name;
  fix += " if it listens there, or set targetPort to the port the pods serve";
  std::vector<const ContainerPort*> declared;
  for (const Object* o : selected) {
    for (const Container& c : o->pod_template()->containers) {
      for (const ContainerPort& p : c.ports) {
        if (protocol_of(p.protocol) == protocol) declared.push_back(&p);
      }
    }
  }
  if (declared.size() == 1) {
    fix += " (" + std::to_string(declared.front()->container_port) +
           (declared.front()->name.empty() ? "" : " named " + declared.front()->name) + ")";
  }
  out.add(Severity::kWarn, port_path(sp),
          "port " + describe_port(sp) + (sp.target_port.set ? " targets " : " (no targetPort) targets ") +
              number + ", which no container of " +
              describe_all(selected) + " declares or is seen listening on: connections may be refused",
          std::move(fix));
}

void check_target_port(const RuleInput& in, FindingSink& out) {
  const Service* svc = in.object.service();
  if (svc == nullptr || skipped_service(*svc)) return;
  const auto selected = selected_templates(in, *svc);
  if (selected.empty()) return;  // service-selects-nothing reports that
  for (const ServicePort& sp : svc->ports) {
    const Target target = target_of(sp);
    if (target.named) {
      check_named_target(in, sp, target, selected, out);
    } else if (target.number > 0) {
      check_numbered_target(in, sp, target, selected, out);
    }
  }
}

// ----------------------------------------------------- service-selects-nothing

std::string format_labels(const core::StringMap& labels) {
  std::string s;
  for (const auto& [k, v] : labels) {
    if (!s.empty()) s += ",";
    s += k + "=" + v;
  }
  return s;
}

void check_selects_nothing(const RuleInput& in, FindingSink& out) {
  const Service* svc = in.object.service();
  if (svc == nullptr || skipped_service(*svc)) return;
  if (!selected_templates(in, *svc).empty()) return;

  // The template that matches most of the selector is the likely intended one.
  const Object* closest = nullptr;
  std::size_t best = 0;
  for (const Object* o : policy::pod_templates_in(in.context, in.object.ns())) {
    std::size_t matching = 0;
    for (const auto& [k, v] : svc->selector) {
      const std::string* have = core::find_value(o->pod_template()->labels, k);
      if (have != nullptr && *have == v) ++matching;
    }
    if (matching > best) {
      best = matching;
      closest = o;
    }
  }
  const std::string ns = in.object.ns().empty() ? "the default namespace" : "namespace " + in.object.ns();
  std::string fix;
  if (closest != nullptr) {
    std::string differs;
    for (const auto& [k, v] : svc->selector) {
      const std::string* have = core::find_value(closest->pod_template()->labels, k);
      if (have != nullptr && *have == v) continue;
      if (!differs.empty()) differs += ", ";
      differs += have != nullptr ? k + "=" + *have + " where the selector wants " + v : "no " + k + "=" + v;
    }
    fix = "the closest template, " + describe(*closest) + ", has " + differs +
          ": correct spec.selector or the template labels";
  } else {
    fix = "create the workload whose pod template carries " + format_labels(svc->selector) +
          " in " + ns + ", or correct spec.selector";
  }
  out.add(Severity::kWarn, "spec.selector",
          "selector " + format_labels(svc->selector) + " matches no pod template in " + ns +
              ": the Service has no endpoints, so connections to it fail",
          std::move(fix));
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

      // The declaration to restore: the old one, another template's, or a guess.
      const Container* container = nullptr;
      std::int64_t number = sp.port;
      std::string container_name;
      if (before.port != nullptr) {
        container_name = before.container->name;
        number = before.port->container_port;
      } else if (elsewhere.port != nullptr) {
        container_name = elsewhere.container->name;
        number = elsewhere.port->container_port;
      }
      if (!container_name.empty()) {
        for (const Container& c : t->containers) {
          if (c.name == container_name) container = &c;
        }
      }
      if (container == nullptr && container_name.empty()) {
        const Suggestion s = suggest_declaration(*t, sp.port, in.settings);
        container = s.container;
        number = s.number;
      }
      if (container != nullptr) container_name = container->name;

      const std::string path =
          container != nullptr ? t->container_path(*container) + ".ports" : t->spec_path + ".containers";
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
      std::string fix = "declare containerPort " + std::to_string(number) + " named " + target.name;
      if (!container_name.empty()) fix += " in container " + container_name;
      fix += ", or change targetPort of Service " + svc_obj->name() + " port " + describe_port(sp);
      out.add(severity, path, std::move(message), std::move(fix));
    }
  }
}

}  // namespace

WIRECHECK_REGISTER_RULE(service_target_port_missing, {
    .id = "service-target-port-missing",
    .title = "Service targetPort is not declared by any selected container",
    .severity = Severity::kDeny,
    .severities = "deny / warn",
    .kinds = {Kind::kService},
    .needs_context = true,
    .context_kinds = core::workload_kinds(),
    .failure = "A named targetPort that no selected container declares gives the Service no "
               "endpoints for that port: every connection to it fails (deny). A numeric targetPort "
               "no container declares or listens on is likely refused (warn).",
    .fix = "Declare the container port with that name (and the Service port's protocol) in the "
           "container that serves it, or point targetPort at a port name the pods declare.",
    .check = &check_target_port})

WIRECHECK_REGISTER_RULE(service_selects_nothing, {
    .id = "service-selects-nothing",
    .title = "Service selector matches no pod template",
    .severity = Severity::kWarn,
    .severities = "warn",
    .kinds = {Kind::kService},
    .needs_context = true,
    .context_kinds = core::workload_kinds(),
    .failure = "A Service whose selector matches no pod has no endpoints: connections to it are "
               "refused or time out.",
    .fix = "Make spec.selector a subset of the intended pod template's labels (or add the missing "
           "labels to the template).",
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
