// ServiceMonitor and PodMonitor rules (RULES.md "ServiceMonitor and
// PodMonitor"). They share one file because they share most of their logic:
// how an endpoint's scheme and TLS intent are read, which Services or pod
// templates a monitor selects (selector + namespaceSelector), the DNS names
// of a Service, and which cert-manager Certificate serves the target.
//
// Four rules look only at the monitor itself and work without any context
// (servername missing, endpoint incomplete, scheme mismatch, insecure skip
// verify); when the context knows Services they use it to name exact values
// in messages and fixes. The other three need the context and are skipped by
// the engine when it does not know Services.
#include <algorithm>
#include <array>
#include <optional>
#include <cctype>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "rules/loopback.hpp"
#include "rules/names.hpp"
#include "rules/scrape_chain.hpp"
#include "wirecheck/context.hpp"
#include "wirecheck/conventions.hpp"
#include "wirecheck/object.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::rules {

namespace {

using core::Kind;
using core::Monitor;
using core::MonitorEndpoint;
using core::Object;
using policy::Context;
using policy::FindingSink;
using policy::RuleInput;
using policy::Severity;

// The placeholder used when the selected Service is not known.
constexpr std::string_view kServiceDnsForm = "<service>.<namespace>.svc";

constexpr std::string_view kIpSanError = "x509: ... doesn't contain any IP SANs";

// ------------------------------------------------------------ text helpers

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "a, b or c".
std::string join_or(const std::vector<std::string>& items) {
  if (items.size() <= 1) return join(items, "");
  std::vector<std::string> head(items.begin(), items.end() - 1);
  return join(head, ", ") + " or " + items.back();
}

// At most `max` items, then "N more": findings end up in kubectl warnings,
// which are cut at 256 characters.
std::vector<std::string> capped(std::vector<std::string> items, std::size_t max) {
  if (items.size() <= max) return items;
  const std::size_t rest = items.size() - max;
  items.resize(max);
  items.push_back(std::to_string(rest) + " more");
  return items;
}

void push_unique(std::vector<std::string>& list, std::string_view value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.emplace_back(value);
}

// ------------------------------------------------------- endpoint reading

std::string endpoint_path(const Monitor& mon, const MonitorEndpoint& ep) {
  return std::string(mon.endpoints_path()) + "[" + std::to_string(ep.index) + "]";
}

// "/spec/endpoints/0" (JSON pointer, for patch advice).
std::string endpoint_pointer(const Monitor& mon, const MonitorEndpoint& ep) {
  std::string path = "/" + std::string(mon.endpoints_path()) + "/" + std::to_string(ep.index);
  std::replace(path.begin(), path.end(), '.', '/');
  return path;
}

bool scheme_https(const MonitorEndpoint& ep) { return iequals(ep.scheme, "https"); }

// Prometheus' default scheme is http, so unset means plain HTTP.
bool scheme_plain(const MonitorEndpoint& ep) { return ep.scheme.empty() || iequals(ep.scheme, "http"); }

// Whether the endpoint means to use TLS. Scheme unset with CA/cert material
// is what a patch that replaced the whole endpoint leaves behind: the author
// clearly meant TLS.
bool means_tls(const MonitorEndpoint& ep) {
  if (scheme_https(ep)) return true;
  return ep.scheme.empty() && ep.tls.present && ep.tls.has_tls_material();
}

bool has_port(const Monitor& mon, const MonitorEndpoint& ep) {
  if (!ep.port.empty() || ep.target_port.set) return true;
  return mon.pod_monitor && ep.has_port_number;
}

// ------------------------------------------------------------- selection

std::vector<std::string> target_namespaces(const Object& obj, const Monitor& mon) {
  return monitor_namespaces(obj, mon);
}

bool by_ns_name(const Object* a, const Object* b) {
  return std::tie(a->ns(), a->name()) < std::tie(b->ns(), b->name());
}

// The selected Services that serve the endpoint: those with its `port` (a
// Service port name), or every selected one when the endpoint names none
// (`targetPort` names a pod port, not a Service port). A Service without the
// port is no target of this endpoint, so nothing is concluded from it.
std::vector<const Object*> services_with_port(const Context& ctx, const Object& obj, const Monitor& mon,
                                              const MonitorEndpoint& ep) {
  std::vector<const Object*> selected = selected_services(ctx, obj, mon);
  if (ep.port.empty()) return selected;
  std::vector<const Object*> with_port;
  for (const Object* o : selected) {
    if (o->service()->port_named(ep.port) != nullptr) with_port.push_back(o);
  }
  return with_port;
}

// The Services whose DNS name the scrape target is known by: for a
// ServiceMonitor the selected Services that have the endpoint's port; for a
// PodMonitor the Services that select the selected pods. Empty when the
// context cannot tell, or when the selection or the port is the broken link
// (another rule's finding: proposing a name from it would wire the monitor
// to something else).
std::vector<const Object*> target_services(const Context& ctx, const Object& obj,
                                           const Monitor& mon, const MonitorEndpoint& ep) {
  if (!ctx.knows(Kind::kService)) return {};
  if (!mon.pod_monitor) return services_with_port(ctx, obj, mon, ep);
  if (!policy::knows_pod_templates(ctx)) return {};
  std::vector<const Object*> out;
  for (const Object* workload : selected_pod_templates(ctx, obj, mon)) {
    for (const Object* svc :
         policy::services_selecting(ctx, workload->ns(), workload->pod_template()->labels)) {
      if (std::find(out.begin(), out.end(), svc) == out.end()) out.push_back(svc);
    }
  }
  std::sort(out.begin(), out.end(), by_ns_name);
  return out;
}

// "<svc>.<ns>.svc", the name a serving certificate for a Service carries.
std::string service_dns(const Object& svc) {
  return svc.name() + "." + (svc.ns().empty() ? std::string("<namespace>") : std::string(svc.ns())) + ".svc";
}

// Whether `name` is one of the names the Service answers to in cluster DNS:
// <svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.<cluster domain>. Any
// cluster domain is accepted (not every cluster uses cluster.local). A
// Service read from a file without namespace accepts any namespace.
bool is_service_dns_form(std::string_view name, const Object& svc) {
  const std::string n = lower(name);
  const std::string svc_name = lower(svc.name());
  if (n == svc_name) return true;
  if (!starts_with(n, svc_name + ".")) return false;
  std::string_view rest = std::string_view(n).substr(svc_name.size() + 1);
  std::string_view ns_part = rest.substr(0, rest.find('.'));
  if (ns_part.empty()) return false;
  if (!svc.ns().empty() && ns_part != lower(svc.ns())) return false;
  rest.remove_prefix(ns_part.size());
  if (rest.empty()) return true;
  if (rest == ".svc") return true;
  return starts_with(rest, ".svc.") && rest.size() > 5;
}

// ------------------------------------------------------- certificates

// Whether the Certificate lets a client verify `name`. The commonName counts
// too: older cert-manager releases copied it into the SANs, and a false deny
// costs more than a missed one.
bool certificate_covers(const core::Certificate& cert, std::string_view name) {
  for (const std::string& dns : cert.dns_names) {
    if (san_covers(dns, name)) return true;
  }
  return !cert.common_name.empty() && iequals(cert.common_name, name);
}

bool looks_like_ip(std::string_view name) {
  if (name.find(':') != std::string_view::npos) return true;  // IPv6
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return c == '.' || std::isdigit(static_cast<unsigned char>(c));
  });
}

// A cert-manager Certificate that evidently issues the scrape target's
// serving certificate: it writes the Secret the monitor takes its CA from
// (the usual "trust the serving Secret's ca.crt" pattern), or it writes the
// cert/keySecret Secret and names one of the target Services. A client
// certificate in its own Secret names neither and is left alone.
struct ServingCertificate {
  const Object* object;
  const core::Certificate* cert;
};

std::vector<ServingCertificate> serving_certificates(const Context& ctx, const Object& obj,
                                                     const MonitorEndpoint& ep,
                                                     const std::vector<const Object*>& services) {
  if (!ctx.knows(Kind::kCertificate)) return {};
  const core::TlsConfig& tls = ep.tls;
  std::vector<ServingCertificate> out;
  for (const Object* o : ctx.certificates_writing(
           obj.ns(), {tls.ca.secret_name, tls.cert.secret_name, tls.key_secret_name})) {
    const core::Certificate* cert = o->certificate();
    if (cert == nullptr || cert->secret_name.empty() || cert->dns_names.empty()) continue;
    const core::CompactString& secret = cert->secret_name;
    const bool ca_secret = tls.ca.secret_name == secret;
    const bool client_secret = tls.cert.secret_name == secret || tls.key_secret_name == secret;
    if (!ca_secret && !client_secret) continue;
    bool names_target = false;
    for (const Object* svc : services) {
      for (const std::string& dns : cert->dns_names) {
        if (is_service_dns_form(dns, *svc)) names_target = true;
      }
    }
    if (ca_secret || names_target) out.push_back({o, cert});
  }
  return out;
}

// ---------------------------------------------------------- proposals

// The serverName values to propose: `<svc>.<ns>.svc` of each target Service,
// preferring those a serving Certificate covers. Empty when unknown.
std::vector<std::string> proposed_server_names(const Context& ctx, const Object& obj,
                                               const Monitor& mon, const MonitorEndpoint& ep) {
  const std::vector<const Object*> services = target_services(ctx, obj, mon, ep);
  std::vector<std::string> all;
  for (const Object* svc : services) push_unique(all, service_dns(*svc));
  const std::vector<ServingCertificate> certs = serving_certificates(ctx, obj, ep, services);
  if (certs.empty()) return all;
  std::vector<std::string> covered;
  for (const std::string& name : all) {
    const bool ok = std::all_of(certs.begin(), certs.end(), [&](const ServingCertificate& c) {
      return certificate_covers(*c.cert, name);
    });
    if (ok) covered.push_back(name);
  }
  return covered.empty() ? all : covered;
}

// Port names the endpoint could use, from the selected Services (ServiceMonitor)
// or the selected pod templates' containers (PodMonitor).
std::vector<std::string> available_port_names(const Context& ctx, const Object& obj,
                                              const Monitor& mon) {
  std::vector<std::string> names;
  if (!mon.pod_monitor) {
    if (!ctx.knows(Kind::kService)) return names;
    for (const Object* svc : selected_services(ctx, obj, mon)) {
      for (const core::ServicePort& p : svc->service()->ports) {
        if (!p.name.empty()) push_unique(names, p.name);
      }
    }
    return names;
  }
  if (!policy::knows_pod_templates(ctx)) return names;
  for (const Object* workload : selected_pod_templates(ctx, obj, mon)) {
    const core::PodTemplate* t = workload->pod_template();
    for (const auto* list : {&t->containers, &t->init_containers}) {
      for (const core::Container& c : *list) {
        for (const core::ContainerPort& p : c.ports) {
          if (!p.name.empty()) push_unique(names, p.name);
        }
      }
    }
  }
  return names;
}

std::string describe_namespaces(const Object& obj, const Monitor& mon) {
  if (mon.namespace_any) return "any namespace";
  std::vector<std::string> names = target_namespaces(obj, mon);
  for (std::string& n : names) {
    if (n.empty()) n = "<no namespace>";
  }
  return (names.size() == 1 ? "namespace " : "namespaces ") + join(names, ", ");
}

std::string object_names(const std::vector<const Object*>& objects) {
  std::vector<std::string> names;
  for (const Object* o : objects) {
    names.push_back(o->ns().empty() ? std::string(o->name()) : o->ns() + "/" + o->name());
  }
  return join(capped(std::move(names), 3), ", ");
}

// The names the endpoint's port resolves to in the view, for conclusions
// about what the port serves: the Service port name and its named targetPort
// for each selected Service that has the port (ServiceMonitor `port`), the
// container port of the selected pod templates (PodMonitor `port`, and a
// ServiceMonitor's deprecated named `targetPort`). Empty when the view cannot
// resolve it: no view, a selection that matches nothing, or a port that is
// not there. Those are the broken link and another rule's finding; a name as
// written in the monitor proves nothing about the target.
std::vector<std::string> resolved_port_names(const Context& ctx, const Object& obj, const Monitor& mon,
                                             const MonitorEndpoint& ep) {
  std::vector<std::string> names;
  auto container_ports = [&](const std::vector<const Object*>& workloads, std::string_view name) {
    for (const Object* w : workloads) {
      const core::PodTemplate* t = w->pod_template();
      for (const auto* list : {&t->containers, &t->init_containers}) {
        for (const core::Container& c : *list) {
          if (c.port_named(name) != nullptr) push_unique(names, name);
        }
      }
    }
  };
  if (mon.pod_monitor) {
    if (ep.port.empty() || !policy::knows_pod_templates(ctx)) return names;
    container_ports(selected_pod_templates(ctx, obj, mon), ep.port);
    return names;
  }
  if (!ctx.knows(Kind::kService)) return names;
  if (!ep.port.empty()) {
    for (const Object* svc : services_with_port(ctx, obj, mon, ep)) {
      const core::ServicePort* p = svc->service()->port_named(ep.port);
      push_unique(names, p->name);
      if (p->target_port.set && !p->target_port.is_int) push_unique(names, p->target_port.str);
    }
    return names;
  }
  if (ep.target_port.set && !ep.target_port.is_int && policy::knows_pod_templates(ctx)) {
    for (const Object* svc : selected_services(ctx, obj, mon)) {
      container_ports(policy::select_backends(ctx, svc->ns(), svc->service()->selector),
                      ep.target_port.str);
    }
  }
  return names;
}

// The serverName to propose: the first proposed name, else the DNS form.
std::string server_name_or_form(const RuleInput& in, const Monitor& mon, const MonitorEndpoint& ep) {
  const std::vector<std::string> names = proposed_server_names(in.context, in.object, mon, ep);
  return names.empty() ? std::string(kServiceDnsForm) : names.front();
}

// ================================================ servicemonitor-tls-servername

void check_tls_servername(const RuleInput& in, FindingSink& out) {
  const Monitor* mon = in.object.monitor();
  if (mon == nullptr) return;
  for (const MonitorEndpoint& ep : mon->endpoints) {
    if (!means_tls(ep) || ep.tls.insecure_skip_verify || !ep.tls.server_name.empty()) continue;
    const std::string at = endpoint_path(*mon, ep);
    const std::vector<std::string> names = proposed_server_names(in.context, in.object, *mon, ep);

    // Kept short: kubectl shows warnings of up to 256 characters.
    std::string message = "no tlsConfig.serverName: Prometheus verifies the pod IP and fails (" +
                          std::string(kIpSanError) + "); ";
    std::string value;
    if (names.empty()) {
      value = std::string(kServiceDnsForm);
      message += "use the selected Service's name, " + value;
    } else if (names.size() == 1) {
      value = names.front();
      message += "use " + value + " (the selected Service)";
    } else {
      value = names.front();
      message += "use a selected Service's name: " + join_or(capped(names, 3));
    }

    std::string fix = ep.tls.present ? "add to " + at + ".tlsConfig: serverName: " + value
                                     : "add to " + at + ": tlsConfig: {serverName: " + value + "}";
    if (names.empty()) {
      fix += " (the DNS name of the Service the monitor selects; the serving certificate must list it)";
    } else if (names.size() > 1) {
      fix += " (or " + join_or(std::vector<std::string>(names.begin() + 1, names.end())) +
             "; the serving certificate must list the name, use one monitor per Service if their "
             "certificates differ)";
    }
    out.add(at + ".tlsConfig.serverName", std::move(message), std::move(fix));
  }
}

// =========================================== servicemonitor-endpoint-incomplete

void check_endpoint_incomplete(const RuleInput& in, FindingSink& out) {
  const Monitor* mon = in.object.monitor();
  if (mon == nullptr) return;
  for (const MonitorEndpoint& ep : mon->endpoints) {
    // A relabeling that writes __address__ picks the target port on purpose.
    if (has_port(*mon, ep) || ep.relabels_address) continue;
    const std::string at = endpoint_path(*mon, ep);
    // TLS or auth settings on a port-less endpoint are what a merge patch
    // leaves when it replaces the whole endpoints list: the original port,
    // path and scheme are gone, so the scrape cannot work as intended.
    const bool patched = ep.tls.present || ep.has_auth;
    const std::string fields =
        mon->pod_monitor ? "port/portNumber/targetPort" : "port/targetPort";
    const std::string scraped = mon->pod_monitor
                                    ? "every container port of the selected pods"
                                    : "every port of the selected Services";

    std::vector<std::string> ports = available_port_names(in.context, in.object, *mon);
    // Only a single candidate is derivable; with several, which one serves
    // metrics is the user's knowledge, not ours.
    std::string port_hint = "port: ";
    if (ports.size() == 1) {
      port_hint += ports.front();
    } else if (ports.empty()) {
      port_hint += mon->pod_monitor ? "<container port name>" : "<service port name>";
    } else {
      port_hint += "<the metrics port: one of " + join(ports, ", ") + ">";
    }

    if (patched) {
      std::string settings = ep.tls.present && ep.has_auth ? "tlsConfig and auth settings"
                             : ep.tls.present              ? "tlsConfig"
                                                           : "auth settings";
      out.add(Severity::kDeny, at,
              "endpoint has " + settings + " but no " + fields +
                  ": a patch replaced the endpoints list, losing port, path and scheme; "
                  "Prometheus scrapes every port" +
                  (scheme_plain(ep) ? std::string(" over plain HTTP") : std::string()),
              "restore " + port_hint + ", scheme and path in " + at + "; to change only TLS, patch " +
                  endpoint_pointer(*mon, ep) + "/tlsConfig instead of replacing the list");
    } else {
      out.add(Severity::kWarn, at,
              "endpoint has no " + fields + ": Prometheus scrapes " + scraped +
                  ", including ports without metrics",
              "add to " + at + ": " + port_hint);
    }
  }
}

// ========================================== servicemonitor-scheme-tls-mismatch

void check_scheme_tls_mismatch(const RuleInput& in, FindingSink& out) {
  const Monitor* mon = in.object.monitor();
  if (mon == nullptr) return;
  for (const MonitorEndpoint& ep : mon->endpoints) {
    if (!scheme_plain(ep)) continue;
    const std::string at = endpoint_path(*mon, ep);
    const std::string scheme_text =
        ep.scheme.empty() ? "scheme is unset (Prometheus defaults to http)"
                          : "scheme is " + ep.scheme;
    // The port's TLS is judged on what it resolves to, never on the name
    // alone: a monitor whose selection is broken names a port nobody has.
    std::string port;
    for (const std::string& name : resolved_port_names(in.context, in.object, *mon, ep)) {
      if (port.empty() && lower(name).find("https") != std::string::npos) port = name;
    }
    const bool https_port = !port.empty();

    if (ep.tls.present) {
      std::string message = "tlsConfig is set but " + scheme_text +
                            ": Prometheus scrapes over plain HTTP and silently ignores the TLS "
                            "settings";
      if (https_port) message += ", while port \"" + port + "\" serves HTTPS";
      out.add(at + ".scheme", std::move(message),
              "set " + at + ".scheme: https (or remove tlsConfig if the target serves plain HTTP)");
    } else if (https_port) {
      out.add(at + ".scheme",
              "port \"" + port + "\" says https but " + scheme_text +
                  ": Prometheus sends plain HTTP to a TLS port and the scrape fails",
              "set " + at + ".scheme: https and add tlsConfig: {serverName: " + server_name_or_form(in, *mon, ep) +
                  ", ca: ...} (or use the plain HTTP port)");
    }
  }
}

// ======================================== servicemonitor-insecure-skip-verify

// Node and control-plane components (kubelet and cAdvisor, kube-scheduler,
// kube-controller-manager, kube-proxy, the API server, etcd, CoreDNS) serve
// certificates from the node or self-signed by design: skipping verification
// is how they are scraped. The component a monitor aims at: a selector value
// naming one (conventions.hpp), or "kube-system" for a monitor of that
// namespace; "" for an application target.
std::string control_plane_target(const Object& obj, const Monitor& mon) {
  for (const auto& [key, value] : mon.selector.match_labels) {
    if (policy::control_plane_component(value)) return std::string(value);
  }
  for (const core::LabelSelectorRequirement& req : mon.selector.match_expressions) {
    if (req.op != "In") continue;
    for (const std::string& value : req.values) {
      if (policy::control_plane_component(value)) return value;
    }
  }
  for (const std::string& ns : target_namespaces(obj, mon)) {
    if (ns == "kube-system") return ns;
  }
  return "";
}

// Whether the command line sets `flag` (`--flag`, `--flag=v`, `-flag`...).
// The argument as written, or nullopt.
std::optional<std::string_view> flag_arg(const core::Container& c, std::string_view flag) {
  for (const auto* list : {&c.command, &c.args}) {
    for (std::string_view arg : *list) {
      std::string_view a = arg;
      if (starts_with(a, "--")) {
        a.remove_prefix(2);
      } else if (starts_with(a, "-")) {
        a.remove_prefix(1);
      } else {
        continue;
      }
      if (starts_with(a, flag) && (a.size() == flag.size() || a[flag.size()] == '=')) return arg;
    }
  }
  return std::nullopt;
}

// A TLS listener that makes its own certificate at start-up when given no
// certificate files: kube-rbac-proxy, and controller-runtime's secure
// metrics server (kubebuilder's --metrics-bind-address, unless
// --metrics-secure=false).
struct SelfSignedServer {
  std::string_view listen_flag;
  std::array<std::string_view, 3> cert_flags;  // any of these gives it a certificate ("" = none)
  std::string_view off_flag;                           // "--x=false" turns TLS off
};
const std::array<SelfSignedServer, 2> kSelfSigned = {{
    {"--secure-listen-address", {"tls-cert-file", "", ""}, ""},
    {"--metrics-bind-address", {"metrics-cert-path", "metrics-cert-dir", "cert-dir"}, "metrics-secure"},
}};

struct SelfSigned {
  const Object* workload = nullptr;
  std::string container;
  std::string listen;  // the flag it listens with
  std::string cert;    // the flag that would give it a certificate
};

// The container behind the endpoint's port that serves a certificate it
// made itself, when the view shows one: the port resolved through a
// selected Service's targetPort (or, for a PodMonitor, the container port)
// to a listen flag of kSelfSigned with none of its certificate flags.
std::optional<SelfSigned> self_signed_target(const RuleInput& in, const Monitor& mon, const MonitorEndpoint& ep) {
  const Context& ctx = in.context;
  if (!policy::knows_pod_templates(ctx)) return std::nullopt;
  // (workload, port: a name or a number) pairs to look at.
  std::vector<std::pair<const Object*, core::IntOrString>> targets;
  if (mon.pod_monitor) {
    core::IntOrString port;
    if (!ep.port.empty()) {
      port = {.set = true, .str = ep.port};
    } else if (ep.has_port_number) {
      port = {.set = true, .is_int = true, .num = ep.port_number};
    } else {
      return std::nullopt;
    }
    for (const Object* w : selected_pod_templates(ctx, in.object, mon)) targets.emplace_back(w, port);
  } else {
    if (!ctx.knows(Kind::kService) || ep.port.empty()) return std::nullopt;
    for (const Object* svc : services_with_port(ctx, in.object, mon, ep)) {
      const core::ServicePort* p = svc->service()->port_named(ep.port);
      core::IntOrString port = p->target_port;
      if (!port.set) port = {.set = true, .is_int = true, .num = p->port};
      for (const Object* w : policy::select_backends(ctx, svc->ns(), svc->service()->selector)) {
        targets.emplace_back(w, port);
      }
    }
  }
  for (const auto& [workload, port] : targets) {
    const core::PodTemplate* t = workload->pod_template();
    for (const auto* list : {&t->containers, &t->init_containers}) {
      for (const core::Container& c : *list) {
        std::int64_t number = port.num;
        if (!port.is_int) {
          const core::ContainerPort* cp = c.port_named(port.str);
          if (cp == nullptr) continue;
          number = cp->container_port;
        }
        for (const Bind& bind : find_binds(c, in.settings)) {
          if (bind.port != number) continue;
          for (const SelfSignedServer& server : kSelfSigned) {
            if (bind.flag != server.listen_flag) continue;
            const bool has_cert = std::any_of(server.cert_flags.begin(), server.cert_flags.end(),
                                              [&](std::string_view f) { return !f.empty() && flag_arg(c, f).has_value(); });
            if (has_cert) continue;
            if (!server.off_flag.empty()) {
              const std::optional<std::string_view> off = flag_arg(c, server.off_flag);
              if (off && off->find('=') != std::string_view::npos && iequals(off->substr(off->find('=') + 1), "false")) {
                continue;
              }
            }
            return SelfSigned{workload, std::string(c.name), bind.flag,
                              "--" + std::string(server.cert_flags.front())};
          }
        }
      }
    }
  }
  return std::nullopt;
}

void check_insecure_skip_verify(const RuleInput& in, FindingSink& out) {
  const Monitor* mon = in.object.monitor();
  if (mon == nullptr) return;
  const std::string component = control_plane_target(in.object, *mon);
  for (const MonitorEndpoint& ep : mon->endpoints) {
    if (!ep.tls.insecure_skip_verify) continue;
    const std::string at = endpoint_path(*mon, ep) + ".tlsConfig.insecureSkipVerify";
    if (!component.empty()) {
      out.add(Severity::kInfo, at,
              "insecureSkipVerify on a node or control-plane target (" + component +
                  "): these serve node or self-signed certificates by design, so this is the usual setup",
              "if the component's serving certificate is signed by the cluster CA, set "
              "insecureSkipVerify: false and caFile: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
      continue;
    }
    const std::string server_name = server_name_or_form(in, *mon, ep);
    if (const std::optional<SelfSigned> self = self_signed_target(in, *mon, ep)) {
      // Verification cannot succeed until the target has a certificate a CA
      // vouches for: turning it on first only breaks the scrape.
      out.add(Severity::kWarn, at,
              "insecureSkipVerify: " + std::string(core::kind_name(self->workload->kind)) + " " +
                  self->workload->name() + " makes a self-signed certificate at start-up (no " + self->cert +
                  "), so any impersonator is accepted" +
                  (ep.has_auth ? " and gets the scrape's credentials" : ""),
              "first give it a certificate from a CA given to Prometheus (" + self->cert +
                  "), then set insecureSkipVerify: false, ca: <that CA>, serverName: " + server_name);
      continue;
    }
    out.add(Severity::kWarn, at,
            "insecureSkipVerify: Prometheus accepts any certificate, so whoever answers on the target "
            "address can impersonate it" +
                std::string(ep.has_auth ? " and receive the scrape's credentials" : ""),
            "serve a certificate from a CA given to Prometheus (not a self-signed one), then set "
            "insecureSkipVerify: false, ca: <that CA>, serverName: " +
                server_name);
  }
}

// ============================================== servicemonitor-port-not-found

void check_port_not_found(const RuleInput& in, FindingSink& out) {
  const Monitor* mon = in.object.monitor();
  if (mon == nullptr) return;
  const Context& ctx = in.context;
  if (mon->pod_monitor ? !policy::knows_pod_templates(ctx) : !ctx.knows(Kind::kService)) return;

  // Selected targets are resolved once for all endpoints.
  const std::vector<const Object*> targets = mon->pod_monitor
                                                 ? selected_pod_templates(ctx, in.object, *mon)
                                                 : selected_services(ctx, in.object, *mon);
  // Nothing selected is servicemonitor-selects-nothing's finding.
  if (targets.empty()) return;
  const std::vector<std::string> ports = available_port_names(ctx, in.object, *mon);
  const std::string what = mon->pod_monitor ? "container port of the selected pod templates"
                                            : "port name of the selected Services";

  for (const MonitorEndpoint& ep : mon->endpoints) {
    if (ep.port.empty()) continue;
    if (std::find(ports.begin(), ports.end(), ep.port) != ports.end()) continue;
    const std::string at = endpoint_path(*mon, ep);
    std::string message = "port \"" + ep.port + "\" is not a " + what + " (" +
                          object_names(targets) + "; named ports: " +
                          (ports.empty() ? std::string("none") : join(capped(ports, 6), ", ")) +
                          "): Prometheus discovers no target for this endpoint";
    std::string fix = ports.empty()
                          ? "name the " + std::string(mon->pod_monitor ? "container" : "Service") +
                                " port \"" + ep.port + "\""
                          : "set " + at + ".port to " + join_or(ports) + ", or name the " +
                                (mon->pod_monitor ? "container" : "Service") + " port \"" +
                                ep.port + "\"";
    // Pod templates are not pods: a sidecar injector (service mesh) adds
    // container ports the manifests never show, so a PodMonitor port may
    // exist at runtime. Only the Service ports are the whole truth.
    if (mon->pod_monitor) {
      message += " (unless an injected sidecar declares it)";
      out.add(Severity::kWarn, at + ".port", std::move(message), std::move(fix));
    } else {
      out.add(Severity::kDeny, at + ".port", std::move(message), std::move(fix));
    }
  }
}

// ============================================ servicemonitor-selects-nothing

// In a partial view (lint), a monitor aimed at any namespace, at one the
// cluster provides, or at one the input holds nothing of may well select
// something that is simply not in the files given.
bool targets_outside_view(const Context& ctx, const Object& obj, const Monitor& mon) {
  if (ctx.complete()) return false;
  if (mon.namespace_any) return true;
  for (const std::string& ns : target_namespaces(obj, mon)) {
    if (policy::provided_by_cluster(ns) || !policy::namespace_in_view(ctx, ns)) return true;
  }
  return false;
}

// A workload of the view that may create what the monitor selects (Services,
// or pods and the workloads that make them) in one of its namespaces.
std::optional<policy::Producer> target_producer(const Context& ctx, const Object& obj, const Monitor& mon) {
  for (const std::string& ns : target_namespaces(obj, mon)) {
    if (!mon.pod_monitor) {
      if (auto p = ctx.producers().may(ctx, {{"create"}, "", "services", ns, ""})) return p;
      continue;
    }
    for (const auto& [group, resource] :
         {std::pair<std::string_view, std::string_view>{"", "pods"}, {"apps", "deployments"},
          {"apps", "statefulsets"}, {"apps", "daemonsets"}}) {
      if (auto p = ctx.producers().may(ctx, {{"create"}, group, resource, ns, ""})) return p;
    }
  }
  return std::nullopt;
}

// Reports a selector that matches no `what` in `where`: info when a
// producer of the view may create the targets at run time (an operator
// making the metrics Services from a custom resource), warn otherwise.
void report_selects_nothing(const RuleInput& in, const Monitor& mon, const std::string& what, std::string fix,
                            FindingSink& out) {
  const std::string head = "selector " + describe_selector(mon.selector) + " matches no " + what;
  const std::string where = describe_namespaces(in.object, mon);
  const std::optional<policy::Producer> producer = target_producer(in.context, in.object, mon);
  const Severity sev = policy::missing_counterpart_severity(in.context, producer, Severity::kWarn);
  if (producer && sev == Severity::kInfo) {
    out.add(sev, "spec.selector",
            head + " of the input in " + where + "; it may be created at run time by " + producer->describe(),
            "");
    return;
  }
  std::string message = head + " in " + where + ": Prometheus scrapes nothing for this " +
                        std::string(mon.pod_monitor ? "PodMonitor" : "ServiceMonitor");
  if (producer) message += " (" + producer->who() + " may create it: check that it did)";
  out.add(Severity::kWarn, "spec.selector", std::move(message), std::move(fix));
}

void check_selects_nothing(const RuleInput& in, FindingSink& out) {
  const Monitor* mon = in.object.monitor();
  if (mon == nullptr) return;
  const Context& ctx = in.context;
  if (targets_outside_view(ctx, in.object, *mon)) return;
  if (mon->pod_monitor) {
    if (!policy::knows_pod_templates(ctx)) return;
    if (!selected_pod_templates(ctx, in.object, *mon).empty()) return;
    report_selects_nothing(in, *mon, "pod template",
                           "make spec.selector match the metrics pods' template labels, or fix "
                           "spec.namespaceSelector",
                           out);
    return;
  }

  if (!ctx.knows(Kind::kService)) return;
  if (!selected_services(ctx, in.object, *mon).empty()) return;
  std::string fix =
      "match the metrics Service's own metadata.labels (not its pods' labels) in spec.selector, or fix "
      "spec.namespaceSelector";
  // Services in the searched namespaces that carry an endpoint's port name
  // are probably the intended ones: name them.
  std::vector<std::string> candidates;
  if (!mon->namespace_any) {
    for (const std::string& ns : target_namespaces(in.object, *mon)) {
      for (const Object* svc : ctx.list(Kind::kService, ns)) {
        for (const MonitorEndpoint& ep : mon->endpoints) {
          if (!ep.port.empty() && svc->service() != nullptr &&
              svc->service()->port_named(ep.port) != nullptr) {
            push_unique(candidates, svc->name());
          }
        }
      }
    }
  }
  if (!candidates.empty()) fix += "; Services with the endpoint's port: " + join(capped(candidates, 3), ", ");
  report_selects_nothing(in, *mon, "Service", std::move(fix), out);
}

// ======================================== servicemonitor-servername-mismatch

void check_servername_mismatch(const RuleInput& in, FindingSink& out) {
  const Monitor* mon = in.object.monitor();
  if (mon == nullptr) return;
  const Context& ctx = in.context;
  for (const MonitorEndpoint& ep : mon->endpoints) {
    const core::CompactString& server_name = ep.tls.server_name;
    // Without verification the name is only SNI: nothing fails.
    if (server_name.empty() || ep.tls.insecure_skip_verify) continue;
    const std::string at = endpoint_path(*mon, ep) + ".tlsConfig.serverName";
    const std::vector<const Object*> services = target_services(ctx, in.object, *mon, ep);

    // The Certificate is what verification actually checks: when it does
    // not list the name, the scrape fails for certain.
    bool cert_covers = false;
    bool cert_denied = false;
    if (!looks_like_ip(server_name)) {
      for (const ServingCertificate& sc : serving_certificates(ctx, in.object, ep, services)) {
        if (certificate_covers(*sc.cert, server_name)) {
          cert_covers = true;
          continue;
        }
        std::string proposal;
        for (const Object* svc : services) {
          if (proposal.empty() && certificate_covers(*sc.cert, service_dns(*svc))) {
            proposal = service_dns(*svc);
          }
        }
        if (proposal.empty()) proposal = sc.cert->dns_names.front();
        out.add(Severity::kDeny, at,
                "serverName \"" + server_name + "\" is not in the dnsNames of Certificate " +
                    sc.object->ns() + "/" + sc.object->name() + ", which issues Secret " +
                    sc.cert->secret_name + ": TLS verification will fail",
                "set serverName: " + proposal + ", or add \"" + server_name + "\" to spec.dnsNames of " +
                    "Certificate " + sc.object->name());
        cert_denied = true;
      }
    }
    // A serving Certificate that lists the name settles it; the Service
    // forms are only the usual convention.
    if (cert_denied || cert_covers || mon->pod_monitor || services.empty()) continue;
    const bool service_form = std::any_of(services.begin(), services.end(), [&](const Object* s) {
      return is_service_dns_form(server_name, *s);
    });
    if (service_form) continue;
    std::vector<std::string> names;
    for (const Object* svc : services) push_unique(names, service_dns(*svc));
    out.add(Severity::kWarn, at,
            "serverName \"" + server_name + "\" is not a DNS name of the selected Service (" +
                object_names(services) +
                "): unless the serving certificate lists exactly this name, verification fails",
            "set " + at + ": " + join_or(names) +
                " (and make sure the serving certificate lists it)");
  }
}

}  // namespace

WIRECHECK_REGISTER_RULE(servicemonitor_tls_servername,
                        {
                            .id = "servicemonitor-tls-servername",
                            .title = "TLS scrape endpoint without tlsConfig.serverName",
                            .severity = Severity::kDeny,
                            .severities = "deny",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor},
                            .needs_context = false,
                            .context_kinds = {},
                            .failure =
                                "Prometheus scrapes the pod IP, so certificate verification fails "
                                "and the target stays down. Prometheus 2.42 (Debian's) shows in its "
                                "lastError, as the e2e test observed it for a certificate with DNS "
                                "SANs only: `Get \"https://127.0.0.1:44415/metrics\": x509: cannot "
                                "validate certificate for 127.0.0.1 because it doesn't contain any "
                                "IP SANs`; with the proposed serverName the same target is up.",
                            .fix = "Set tlsConfig.serverName to the Service's DNS name "
                                   "<service>.<namespace>.svc (a name the serving certificate "
                                   "lists).",
                            .check = &check_tls_servername,
                        })

WIRECHECK_REGISTER_RULE(servicemonitor_endpoint_incomplete,
                        {
                            .id = "servicemonitor-endpoint-incomplete",
                            .title = "Scrape endpoint without port",
                            .severity = Severity::kDeny,
                            .severities = "deny / warn",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor},
                            .needs_context = false,
                            .context_kinds = {},
                            .failure =
                                "An endpoint without port/targetPort (PodMonitor: portNumber) "
                                "scrapes every port with default scheme and path. With tlsConfig "
                                "or auth settings it is the remains of a patch that replaced the "
                                "endpoints list (deny); otherwise it scrapes ports that serve no "
                                "metrics (warn).",
                            .fix = "Restore port, scheme and path; patch only "
                                   "/spec/endpoints/N/tlsConfig instead of replacing the list.",
                            .check = &check_endpoint_incomplete,
                        })

WIRECHECK_REGISTER_RULE(servicemonitor_scheme_tls_mismatch,
                        {
                            .id = "servicemonitor-scheme-tls-mismatch",
                            .title = "tlsConfig or https port with an http scheme",
                            .severity = Severity::kWarn,
                            .severities = "warn",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor},
                            .needs_context = false,
                            .context_kinds = {Kind::kService},
                            .failure = "With scheme http or unset, Prometheus scrapes over plain "
                                       "HTTP: tlsConfig is silently ignored, and an HTTPS port "
                                       "answers with an error. The port is judged by what it "
                                       "resolves to (the selected Service's port, or the "
                                       "selected pods' container port), never by the name "
                                       "written in the monitor alone.",
                            .fix = "Set scheme: https, or drop tlsConfig for a plain HTTP target.",
                            .check = &check_scheme_tls_mismatch,
                        })

WIRECHECK_REGISTER_RULE(servicemonitor_insecure_skip_verify,
                        {
                            .id = "servicemonitor-insecure-skip-verify",
                            .title = "Scrape endpoint with insecureSkipVerify",
                            .severity = Severity::kWarn,
                            .severities = "warn / info",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor},
                            .needs_context = false,
                            .context_kinds = {Kind::kService},
                            .failure = "Any certificate is accepted: no protection against "
                                       "impersonation of the metrics endpoint, which also "
                                       "receives the scrape's bearer token. Info on node and "
                                       "control-plane targets (kubelet, cAdvisor, scheduler, "
                                       "controller manager, kube-proxy, API server, etcd, "
                                       "CoreDNS; monitors of kube-system), which serve node or "
                                       "self-signed certificates by design.",
                            .fix = "Give the target a serving certificate from a CA that "
                                   "Prometheus is given (a target that makes a self-signed one "
                                   "at start-up, such as kube-rbac-proxy without --tls-cert-file "
                                   "or controller-runtime's secure metrics without "
                                   "--metrics-cert-path, needs one first), then set "
                                   "insecureSkipVerify: false with tlsConfig.ca and serverName "
                                   "<service>.<namespace>.svc.",
                            .check = &check_insecure_skip_verify,
                        })

// PodMonitors also need the workload kinds; the check asks for them itself so
// that ServiceMonitors are not skipped where only Services are cached. Deny
// for ServiceMonitors, warn for PodMonitors (injected sidecars add ports the
// templates do not show).
WIRECHECK_REGISTER_RULE(servicemonitor_port_not_found,
                        {
                            .id = "servicemonitor-port-not-found",
                            .title = "Scrape endpoint port not declared by the selected targets",
                            .severity = Severity::kDeny,
                            .severities = "deny / warn",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor},
                            .needs_context = true,
                            .context_kinds = {Kind::kService},
                            .failure = "The endpoint's port name matches no port of the selected "
                                       "Services (deny; PodMonitor: no container port of the "
                                       "selected templates, warn), so Prometheus discovers no "
                                       "target and nothing is scraped.",
                            .fix = "Use a port name the selected Service declares, or name the "
                                   "Service port.",
                            .check = &check_port_not_found,
                        })

WIRECHECK_REGISTER_RULE(servicemonitor_selects_nothing,
                        {
                            .id = "servicemonitor-selects-nothing",
                            .title = "Monitor selector matches no Service or pod template",
                            .severity = Severity::kWarn,
                            .severities = "warn",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor},
                            .needs_context = true,
                            .context_kinds = {Kind::kService},
                            .failure = "selector + namespaceSelector match no Service "
                                       "(PodMonitor: no pod template), so nothing is scraped.",
                            .fix = "Match the metrics Service's metadata.labels (PodMonitor: the "
                                   "pod template labels) and the right namespaces.",
                            .check = &check_selects_nothing,
                        })

WIRECHECK_REGISTER_RULE(servicemonitor_servername_mismatch,
                        {
                            .id = "servicemonitor-servername-mismatch",
                            .title = "tlsConfig.serverName not a name of the target",
                            .severity = Severity::kDeny,
                            .severities = "warn / deny",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor},
                            .needs_context = true,
                            .context_kinds = {Kind::kService},
                            .failure = "serverName is not a DNS name of the selected Service "
                                       "(warn), or the cert-manager Certificate issuing the "
                                       "tlsConfig Secret does not list it (deny): certificate "
                                       "verification fails and the target stays down.",
                            .fix = "Set serverName to <service>.<namespace>.svc and list it in "
                                   "the Certificate's dnsNames.",
                            .check = &check_servername_mismatch,
                        })

}  // namespace wirecheck::rules
