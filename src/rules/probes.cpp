// Probes and loopback binds. The kubelet runs httpGet / tcpSocket / grpc
// probes by dialing the pod IP (or the probe's explicit `host`) from the
// node, and resolves a named probe port only through the probed container's
// own `ports[].name`. A listener bound to loopback is invisible to both the
// kubelet and other pods; that is what an authenticating proxy in front of
// it relies on, and what a probe on it trips over. The bind detection is in
// loopback.hpp.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loopback.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::rules {

namespace {

using core::Container;
using core::Kind;
using core::PodTemplate;
using core::Probe;
using policy::FindingSink;
using policy::RuleInput;
using policy::Severity;

// One probe of one container, with what a finding needs to say about it.
struct ProbeRef {
  const Container* container;
  const Probe* probe;
  std::string_view field;  // "readinessProbe"
};

bool dials_a_port(const Probe& p) {
  return p.present && (p.handler == Probe::Handler::kHttpGet || p.handler == Probe::Handler::kTcpSocket ||
                       p.handler == Probe::Handler::kGrpc);
}

// Probes of regular containers and of init containers (native sidecars
// carry probes too; ordinary init containers have none).
std::vector<ProbeRef> port_probes(const PodTemplate& t) {
  std::vector<ProbeRef> out;
  for (const auto* list : {&t.containers, &t.init_containers}) {
    for (const Container& c : *list) {
      const std::pair<const Probe*, std::string_view> probes[] = {
          {&c.liveness, "livenessProbe"}, {&c.readiness, "readinessProbe"}, {&c.startup, "startupProbe"}};
      for (const auto& [probe, field] : probes) {
        if (dials_a_port(*probe)) out.push_back({&c, probe, field});
      }
    }
  }
  return out;
}

std::string probe_path(const PodTemplate& t, const ProbeRef& p) {
  return t.container_path(*p.container) + "." + std::string(p.field) + "." +
         std::string(p.probe->handler_name()) + ".port";
}

// What a failing probe of this kind does to the pod.
std::string_view consequence(std::string_view field) {
  if (field == "readinessProbe") return "the pod never becomes Ready";
  if (field == "livenessProbe") return "the container restarts in a loop";
  return "the container is killed before it starts, in a loop";
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A probe port as the kubelet resolves it: numbers as they are, names
// through the container's own ports (then as a number in a string).
std::optional<std::int64_t> resolve_port(const Container& c, const core::IntOrString& port) {
  if (!port.set) return std::nullopt;
  if (port.is_int) return port.num;
  if (const core::ContainerPort* p = c.port_named(port.str)) return p->container_port;
  if (all_digits(port.str) && port.str.size() <= 5) return std::stoll(std::string(port.str));
  return std::nullopt;
}

bool is_health_flag(std::string_view flag) {
  return flag.find("health") != std::string_view::npos || flag.find("probe") != std::string_view::npos;
}

// ------------------------------------------------- probe-targets-loopback-port

// What the fix texts of one pod can point at, gathered in one pass so that
// each finding costs a lookup, not a scan of the pod (a pod of many
// containers probing a loopback port would otherwise be quadratic).
struct Alternatives {
  // The first health/probe bind on all interfaces, and the first one on
  // another port than that.
  const ContainerBind* health = nullptr;
  const ContainerBind* health_other_port = nullptr;
  // Per loopback upstream port: the first proxy container fronting it and
  // that proxy's first bind reachable from outside the pod.
  std::unordered_map<std::int64_t, const ContainerBind*> proxy;

  explicit Alternatives(const PodBinds& binds) {
    std::unordered_map<const Container*, const ContainerBind*> reachable_of;
    for (const ContainerBind& cb : binds.all()) {
      if (cb.bind.kind != BindHost::kLoopback) reachable_of.try_emplace(cb.container, &cb);
      if (cb.bind.kind != BindHost::kAllInterfaces || !is_health_flag(cb.bind.flag)) continue;
      if (health == nullptr) {
        health = &cb;
      } else if (health_other_port == nullptr && cb.bind.port != health->bind.port) {
        health_other_port = &cb;
      }
    }
    for (const ContainerUpstream& cu : binds.upstreams()) {
      const auto open = reachable_of.find(cu.container);
      if (open == reachable_of.end()) continue;
      // Another container binding the proxy's port on all interfaces holds
      // it (or the proxy never starts): the proxy is not what answers there.
      if (binds.all_interfaces(open->second->bind.port, cu.container) != nullptr) continue;
      if (cu.upstream.kind == BindHost::kLoopback) proxy.try_emplace(cu.upstream.port, open->second);
    }
  }

  // A health bind on all interfaces other than `port`.
  const ContainerBind* health_besides(std::int64_t port) const {
    return health != nullptr && health->bind.port == port ? health_other_port : health;
  }
  const ContainerBind* proxy_for(std::int64_t port) const {
    const auto it = proxy.find(port);
    return it == proxy.end() ? nullptr : it->second;
  }
};

// A way to probe that works, for the fix text: a health port the pod serves
// on all interfaces, or the authenticating proxy in front of `port`.
std::string working_alternative(const Alternatives& alternatives, std::int64_t port,
                                const ProbeRef& probe) {
  if (const ContainerBind* cb = alternatives.health_besides(port)) {
    return "point it at " + std::to_string(cb->bind.port) + " (" + cb->bind.written + " in " +
           cb->container->name + ")";
  }
  if (probe.probe->handler == Probe::Handler::kHttpGet) {
    if (const ContainerBind* cb = alternatives.proxy_for(port)) {
      // The probe must speak the proxy's protocol, not the upstream's.
      const bool tls = cb->bind.flag.find("insecure") == std::string::npos &&
                       (cb->bind.flag.find("secure") != std::string::npos ||
                        cb->bind.flag.find("https") != std::string::npos);
      return "probe " + cb->container->name + " on " + std::to_string(cb->bind.port) + " (scheme: " +
             (tls ? "HTTPS" : "HTTP") + ", path allowed without auth)";
    }
  }
  return "serve health on a separate port bound on all interfaces and probe that";
}

void check_probe_loopback(const RuleInput& in, FindingSink& out) {
  const PodTemplate* t = in.object.pod_template();
  if (t == nullptr) return;
  const auto probes = port_probes(*t);
  if (probes.empty()) return;
  const PodBinds& binds = pod_binds(in, *t);
  if (binds.all().empty()) return;
  std::optional<Alternatives> alternatives;
  for (const ProbeRef& p : probes) {
    // An explicit loopback host reaches loopback listeners: on a hostNetwork
    // pod that is how static control-plane pods are probed. Any other host,
    // like the pod IP, cannot reach a listener bound to loopback.
    if (!p.probe->host.empty() && classify_host(p.probe->host) == BindHost::kLoopback) continue;
    const auto port = resolve_port(*p.container, p.probe->port);
    if (!port) continue;  // an unresolvable name is probe-port-not-declared's
    const ContainerBind* lb = binds.loopback(*port);
    if (lb == nullptr || binds.reachable(*port) != nullptr) continue;

    if (!alternatives) alternatives.emplace(binds);
    const std::string target = p.probe->host.empty() ? "the pod IP" : p.probe->host;
    const std::string port_text = std::to_string(*port);
    const std::string loopback_host =
        lb->bind.host.find(':') != std::string::npos ? "[" + lb->bind.host + "]" : lb->bind.host;
    out.add(Severity::kDeny, probe_path(*t, p),
            std::string(p.field) + " of " + p.container->name + " dials " + target + " on " + port_text +
                ", which " + lb->container->name + " binds to " + loopback_host + " only (" +
                lb->bind.written + "): the probe always fails, " + std::string(consequence(p.field)),
            "remove the " + std::string(p.field) + " or " +
                working_alternative(*alternatives, *port, p) + "; " + rebind_all_interfaces(lb->bind) +
                " in " + lb->container->name + " works too but exposes " + std::to_string(*port) +
                " unauthenticated");
  }
}

// ---------------------------------------------------- probe-port-not-declared

// Where each port name is declared and which port each container serves
// health on, gathered once per pod for the fix texts (see Alternatives).
struct Declarations {
  // Per port name: the first container declaring it (pod order) and its
  // first port of that name.
  std::unordered_map<std::string_view, std::pair<const Container*, const core::ContainerPort*>> by_name;
  std::unordered_map<const Container*, std::int64_t> health_port;

  Declarations(const PodTemplate& t, const PodBinds& binds) {
    for (const auto* list : {&t.containers, &t.init_containers}) {
      for (const Container& c : *list) {
        for (const core::ContainerPort& cp : c.ports) by_name.try_emplace(cp.name, &c, &cp);
      }
    }
    for (const ContainerBind& cb : binds.all()) {
      if (cb.bind.kind != BindHost::kLoopback && is_health_flag(cb.bind.flag)) {
        health_port.try_emplace(cb.container, cb.bind.port);
      }
    }
  }
};

// The fix for a probe naming a port only another container declares:
// probe the number, said with what the command lines show of who listens.
std::string probe_number_fix(const PodBinds& binds, std::int64_t number, const Container& declarer) {
  const std::string n = std::to_string(number);
  if (const ContainerBind* cb = binds.reachable(number)) {
    const std::string who = cb->container == &declarer ? "served by container " + std::string(declarer.name)
                                                       : "container " + std::string(cb->container->name) +
                                                             " listens there; " + std::string(declarer.name) +
                                                             " only declares the name";
    return "set the probe port to " + n + " (" + who + "; names resolve only within the probed container)";
  }
  if (const ContainerBind* cb = binds.loopback(number)) {
    return "probe a port served on all interfaces: " + n + " (declared by container " + std::string(declarer.name) +
           ") is bound to " + format_host_port(cb->bind.host, cb->bind.port) + " by " +
           std::string(cb->container->name) + ", which the kubelet cannot reach";
  }
  return "set the probe port to " + n + " (the number container " + std::string(declarer.name) +
         " declares under that name; names resolve only within the probed container)";
}

void check_probe_port_declared(const RuleInput& in, FindingSink& out) {
  const PodTemplate* t = in.object.pod_template();
  if (t == nullptr) return;
  std::optional<Declarations> declarations;
  for (const ProbeRef& p : port_probes(*t)) {
    const core::IntOrString& port = p.probe->port;
    if (!port.set || port.is_int || port.str.empty() || all_digits(port.str)) continue;
    if (p.container->port_named(port.str) != nullptr) continue;

    // Where the name is declared after all, or which port the container
    // serves health on, gives the number for the fix.
    if (!declarations) declarations.emplace(*t, pod_binds(in, *t));
    const Container* elsewhere = nullptr;
    std::optional<std::int64_t> number;
    // The probed container does not declare the name: a declarer is another.
    if (const auto it = declarations->by_name.find(port.str); it != declarations->by_name.end()) {
      elsewhere = it->second.first;
      number = it->second.second->container_port;
    }
    if (!number) {
      if (const auto it = declarations->health_port.find(p.container); it != declarations->health_port.end()) {
        number = it->second;
      }
    }

    // A declared name that looks like the intended one ("postgresql" for
    // "postgres") is the likely fix; the container's only other port is not
    // (it may serve metrics, not health).
    const core::ContainerPort* similar = nullptr;
    for (const core::ContainerPort& cp : p.container->ports) {
      if (cp.name.empty()) continue;
      const std::size_t common = std::min({cp.name.size(), port.str.size(), std::size_t{4}});
      if (similar == nullptr && cp.name.compare(0, common, port.str, 0, common) == 0) similar = &cp;
    }

    std::string message = std::string(p.field) + " of " + p.container->name + " uses port name \"" +
                          port.str + "\", which " + p.container->name + " does not declare";
    if (elsewhere != nullptr) {
      message += " (" + elsewhere->name + " does, but names resolve per container)";
    }
    message += ": the kubelet cannot resolve it, the probe fails and " + std::string(consequence(p.field));
    std::string fix;
    if (elsewhere != nullptr) {
      // The pod shares one network: the number reaches whichever container
      // listens there, which the declaration alone does not say. The flags
      // may: name the listener, and never offer a number only loopback hears.
      fix = probe_number_fix(pod_binds(in, *t), *number, *elsewhere);
    } else if (number) {
      fix = "declare containerPort " + std::to_string(*number) + " named " + port.str +
            " in container " + p.container->name + " (it serves health there), or set the probe port to " +
            std::to_string(*number);
    } else if (similar != nullptr) {
      fix = "set the probe port to " + similar->name + " (" + std::to_string(similar->container_port) +
            "), or declare a containerPort named " + port.str + " in container " + p.container->name;
    } else {
      fix = "declare a containerPort named " + port.str + " in container " + p.container->name +
            ", or set the probe port to the number it serves";
    }
    out.add(Severity::kDeny, probe_path(*t, p), std::move(message), std::move(fix));
  }
}

// ---------------------------------------------------------- rbac-proxy-bypass

void check_rbac_proxy_bypass(const RuleInput& in, FindingSink& out) {
  const PodTemplate* t = in.object.pod_template();
  if (t == nullptr) return;
  const PodBinds& binds = pod_binds(in, *t);
  for (const ContainerUpstream& cu : binds.upstreams()) {
    const Container& proxy = *cu.container;
    const Upstream& u = cu.upstream;
    if (u.kind != BindHost::kLoopback) continue;
    const ContainerBind* open = binds.all_interfaces(u.port, &proxy);
    if (open == nullptr) continue;
    const std::string port = std::to_string(u.port);
    const std::string how = open->bind.kind == BindHost::kDefault
                                ? open->bind.written + ", no " + open->bind.flag
                                : open->bind.written;
    out.add(Severity::kWarn, t->container_path(*open->container) + "." + open->bind.path,
            proxy.name + " fronts " + port + " (" + u.written + "), but " + open->container->name + " binds " +
                port + " on all interfaces (" + how + "): the pod IP serves it without authentication",
            "bind " + open->container->name + " to loopback: " +
                (open->bind.kind == BindHost::kDefault ? "add " : "set ") + rebind_loopback(open->bind));
  }
}

}  // namespace

WIRECHECK_REGISTER_RULE(probe_targets_loopback_port, {
    .id = "probe-targets-loopback-port",
    .title = "Probe targets a port the pod binds to loopback only",
    .severity = Severity::kDeny,
    .severities = "deny",
    .kinds = core::workload_kinds(),
    .failure = "The kubelet dials the pod IP (or the probe's host), which a listener bound to "
               "127.0.0.1 / localhost / [::1] never answers: the probe always fails, so the pod is "
               "never Ready, or the container restarts in a loop.",
    .fix = "Do not probe the loopback port: probe a dedicated health port bound on all interfaces, "
           "probe through the authenticating proxy, or drop the probe.",
    .check = &check_probe_loopback})

WIRECHECK_REGISTER_RULE(probe_port_not_declared, {
    .id = "probe-port-not-declared",
    .title = "Probe uses a port name its container does not declare",
    .severity = Severity::kDeny,
    .severities = "deny",
    .kinds = core::workload_kinds(),
    .failure = "The kubelet resolves a named probe port only through the probed container's "
               "ports[].name; an undeclared name fails every probe (never Ready, or restart loop).",
    .fix = "Declare the containerPort with that name in the probed container, or use the port "
           "number.",
    .check = &check_probe_port_declared})

WIRECHECK_REGISTER_RULE(rbac_proxy_bypass, {
    .id = "rbac-proxy-bypass",
    .title = "Port behind an authenticating proxy is also bound on all interfaces",
    .severity = Severity::kWarn,
    .severities = "warn",
    .kinds = core::workload_kinds(),
    .failure = "A kube-rbac-proxy (or any --upstream=http://127.0.0.1:P proxy) only protects port P "
               "if nothing else serves P on the pod IP; bound on all interfaces, the metrics are "
               "readable without authentication.",
    .fix = "Bind the upstream process to loopback (e.g. --host=127.0.0.1 or "
           "--metrics-bind-address=127.0.0.1:P) so that only the proxy reaches it.",
    .check = &check_rbac_proxy_bypass})

}  // namespace wirecheck::rules
