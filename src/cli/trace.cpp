// `wirecheck trace KIND NS/NAME`: the chain of links that must hold for one
// object to work, printed link by link, each `ok` with what it resolved to
// or `BROKEN` with the finding that breaks it. For a ServiceMonitor or
// PodMonitor: Prometheus selection -> namespace (discovery RBAC) -> Service
// selection -> port -> endpoints -> container port and bind address -> TLS
// -> live TLS (with --probe) -> authorization. For a Service, a webhook
// configuration or an APIService: the Service, its endpoints, port and bind,
// and TLS.
//
// Trace decides nothing itself: every BROKEN link is a finding of a rule,
// produced by the engine on the objects of the chain (the monitor, its
// Services, their workloads), exactly as lint and audit produce it; the
// `ok` texts come from the same resolution helpers the rules use
// (rules/scrape_chain.hpp). The live TLS link is a pluggable step
// (LiveTlsStep): with --probe, the audit's scrape probe
// (cluster/scrape_probe.hpp) on this monitor's targets; "not probed"
// otherwise.
//
// Exit codes: 0 every link holds, 1 a link is broken, 2 usage error or the
// object is not found (with the closest names).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.hpp"
#include "cli/report.hpp"
#include "cluster/api_source.hpp"
#include "cluster/audit.hpp"
#include "cluster/kube_config.hpp"
#include "cluster/scrape_probe.hpp"
#include "rules/loopback.hpp"
#include "rules/names.hpp"
#include "rules/scrape_chain.hpp"
#include "wirecheck/lint.hpp"
#include "wirecheck/manifest.hpp"
#include "wirecheck/object_index.hpp"

namespace wirecheck::cli {

namespace {

using core::Kind;
using core::Object;
using policy::Finding;

constexpr const char* kTraceUsage =
    "usage: wirecheck trace KIND [NAMESPACE/]NAME (-f PATH ... | --kubeconfig FILE [--context NAME])\n"
    "                       [-n NS] [--format text|json] [--probe] [--probe-read-secrets]\n"
    "                       [--secret-names] [--config FILE] [--no-color]\n"
    "\n"
    "  KIND                 servicemonitor, podmonitor, service, webhook (a Validating- or\n"
    "                       MutatingWebhookConfiguration) or apiservice\n"
    "  -f, --filename PATH  judge the chain in these manifests (as lint places them)\n"
    "  --kubeconfig FILE    judge the chain in the cluster (default when no -f: $KUBECONFIG,\n"
    "                       in-cluster, ~/.kube/config)\n"
    "  --context NAME       kubeconfig context\n"
    "  -n, --namespace NS   namespace of NAME when it has none (and lint's apply namespace with -f)\n"
    "  --format FORMAT      text (default) or json\n"
    "  --probe              also check the live TLS link of a ServiceMonitor (cluster only): a few\n"
    "                       ready addresses, the handshake Prometheus makes, nothing sent after it\n"
    "  --probe-read-secrets the live TLS check may read tlsConfig.ca from a Secret (never logged)\n"
    "  --secret-names       cluster: list Secrets (names and key names, never values) so that\n"
    "                       references to missing Secrets are reported\n"
    "  --config FILE        wirecheck configuration (severity overrides, flag tables)\n"
    "  --no-color           no ANSI colours\n"
    "\n"
    "exit codes: 0 every link holds, 1 a link is broken, 2 usage error or object not found\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "wirecheck trace: %s\n\n%s", message.c_str(), kTraceUsage);
  return 2;
}

// ------------------------------------------------------------------ links

enum class Status { kOk, kBroken, kUnknown, kNotProbed };

std::string_view status_text(Status s) {
  switch (s) {
    case Status::kOk:
      return "ok";
    case Status::kBroken:
      return "BROKEN";
    case Status::kUnknown:
      return "unknown";
    case Status::kNotProbed:
      return "not probed";
  }
  return "";
}

struct Link {
  std::string name;      // "prometheus", "port", ...
  std::string scope;     // "spec.endpoints[0]" for per-endpoint links, "" otherwise
  Status status = Status::kOk;
  std::string resolved;  // what it resolved to (ok / unknown / not probed)
  std::vector<Finding> findings;  // what breaks it (deny / warn) or notes (info)
};

// The findings of the chain's objects, by rule id.
class Findings {
 public:
  Findings(const policy::Engine& engine, const policy::Context& ctx) : engine_(engine), ctx_(ctx) {}

  // The findings of `rules` on `object` whose path starts with `path_prefix`
  // (every path when empty).
  std::vector<Finding> of(const Object& object, std::initializer_list<std::string_view> rules,
                          std::string_view path_prefix = "") {
    auto it = cache_.find(&object);
    if (it == cache_.end()) {
      it = cache_.emplace(&object, engine_.evaluate(object, nullptr, policy::Operation::kCreate, ctx_)).first;
    }
    std::vector<Finding> out;
    for (const Finding& f : it->second) {
      if (f.exempted) continue;
      if (std::find(rules.begin(), rules.end(), f.rule) == rules.end()) continue;
      if (!path_prefix.empty()) {
        const bool on_path = std::any_of(f.paths.begin(), f.paths.end(), [&](const std::string& p) {
          return p.rfind(path_prefix, 0) == 0;
        }) || f.path.rfind(path_prefix, 0) == 0;
        if (!on_path) continue;
      }
      out.push_back(f);
    }
    return out;
  }

 private:
  const policy::Engine& engine_;
  const policy::Context& ctx_;
  std::map<const Object*, std::vector<Finding>> cache_;
};

// Adds `found` to the link: deny/warn break it, info stays a note.
void attach(Link& link, std::vector<Finding> found) {
  for (Finding& f : found) {
    if (f.severity != policy::Severity::kInfo) link.status = Status::kBroken;
    link.findings.push_back(std::move(f));
  }
}

std::string ns_name(const Object& o) { return o.ns().empty() ? std::string(o.name()) : o.ns() + "/" + o.name(); }
std::string kind_and_name(const Object& o) { return std::string(core::kind_name(o.kind)) + " " + ns_name(o); }

std::string names_of(const std::vector<const Object*>& objects, std::size_t max = 4) {
  std::string out;
  for (std::size_t i = 0; i < objects.size() && i < max; ++i) out += (i ? ", " : "") + ns_name(*objects[i]);
  if (objects.size() > max) out += " and " + std::to_string(objects.size() - max) + " more";
  return out;
}

// ------------------------------------------------------- the live TLS step

// What the live TLS link reports for one endpoint of a monitor. The audit's
// prober (cluster/live_probe) plugs in here; without it, or without
// --probe, the link is not probed.
struct LiveTlsInput {
  const Object* monitor = nullptr;
  const core::MonitorEndpoint* endpoint = nullptr;
  std::vector<rules::ScrapeTarget> targets;
};
using LiveTlsStep = std::function<Link(const LiveTlsInput&)>;

Link not_probed(const LiveTlsInput&, bool asked) {
  Link l;
  l.name = "tls (live)";
  l.status = Status::kNotProbed;
  l.resolved = asked ? "not probed (the live check covers ServiceMonitors)" : "not probed (use --probe)";
  return l;
}

// The live TLS step from the audit's scrape probe (cluster/scrape_probe):
// the outcomes and findings of one monitor's endpoint.
LiveTlsStep scrape_probe_step(std::shared_ptr<const cluster::ScrapeReport> report) {
  return [report](const LiveTlsInput& in) {
    Link l;
    l.name = "tls (live)";
    const std::string at = std::string(in.monitor->monitor()->endpoints_path()) + "[" +
                           std::to_string(in.endpoint->index) + "]";
    for (const Finding& f : report->findings) {
      const bool here = std::any_of(f.paths.begin(), f.paths.end(), [&](const std::string& p) {
        return p.rfind(at, 0) == 0;
      }) || f.path.rfind(at, 0) == 0;
      if (here) attach(l, {f});
    }
    std::vector<std::string> seen;
    bool probed = false;
    for (const cluster::ScrapeOutcome& o : report->outcomes) {
      if (o.path != at) continue;
      using S = cluster::ScrapeOutcome::Status;
      if (o.status == S::kOk) {
        probed = true;
        seen.push_back(o.address + " covers " + o.verified_name + (o.trust.empty() ? "" : " (" + o.trust + ")"));
      } else if (o.status == S::kUnreachable || o.status == S::kNotProbed) {
        seen.push_back((o.address.empty() ? o.service : o.address) + ": " + o.detail);
      } else {
        probed = true;
      }
    }
    if (l.findings.empty()) {
      l.status = probed ? Status::kOk : Status::kNotProbed;
      l.resolved = seen.empty() ? "nothing to probe" : seen.front();
      if (seen.size() > 1) l.resolved += " (and " + std::to_string(seen.size() - 1) + " more)";
    }
    return l;
  };
}

// ------------------------------------------------------- monitor chains

struct TraceOptions {
  bool probe = false;
  LiveTlsStep live_tls;  // empty: not probed
};

std::string describe_bind(const rules::PodBinds& binds, std::int64_t port) {
  if (const rules::ContainerBind* cb = binds.loopback(port)) {
    return "bound to loopback (" + cb->bind.written + " in " + cb->container->name + ")";
  }
  if (const rules::ContainerBind* cb = binds.reachable(port)) {
    return "listening (" + cb->bind.written + " in " + cb->container->name + ")";
  }
  return "no listen flag for it on the command line (the program's default address)";
}

std::vector<Link> trace_monitor(const Object& mon_obj, const policy::Context& ctx, const policy::Engine& engine,
                                Findings& findings, const TraceOptions& options) {
  const core::Monitor& mon = *mon_obj.monitor();
  const std::string kind(core::kind_name(mon_obj.kind));
  std::vector<Link> links;

  // 1. Prometheus selection.
  Link sel{"prometheus"};
  const std::vector<rules::Selection> selections = rules::prometheus_selections(ctx, mon_obj);
  std::vector<const Object*> selecting;
  for (const rules::Selection& s : selections) {
    if (s.selects == policy::Tri::kYes) selecting.push_back(s.prometheus);
  }
  if (selections.empty()) {
    sel.status = Status::kUnknown;
    sel.resolved = "no Prometheus or PrometheusAgent in the view: which one scrapes this " + kind + " is unknown";
  } else if (!selecting.empty()) {
    const rules::Selection* first = nullptr;
    for (const rules::Selection& s : selections) {
      if (s.prometheus == selecting.front()) first = &s;
    }
    sel.resolved = "selected by " + kind_and_name(*selecting.front()) + " (" + first->how + ")";
    if (selecting.size() > 1) sel.resolved += " and " + std::to_string(selecting.size() - 1) + " more";
  } else {
    sel.status = Status::kUnknown;
    for (const rules::Selection& s : selections) {
      if (s.selects == policy::Tri::kUnknown) {
        sel.resolved = kind_and_name(*s.prometheus) + " selects it if namespace " + mon_obj.ns() +
                       " carries the labels of " + s.how + " (the view does not hold that Namespace)";
        break;
      }
    }
  }
  attach(sel, findings.of(mon_obj, {"monitor-not-selected"}));
  links.push_back(std::move(sel));

  // 2. Namespaces and discovery.
  Link nsl{"namespace"};
  const std::vector<std::string> namespaces = rules::monitor_namespaces(mon_obj, mon);
  std::string where = mon.namespace_any ? std::string("every namespace (namespaceSelector.any)") : "";
  for (std::size_t i = 0; i < namespaces.size(); ++i) where += (i ? ", " : "namespace ") + namespaces[i];
  nsl.resolved = where;
  if (!selecting.empty()) {
    const policy::Producers& producers = ctx.producers();
    const std::string account = selecting.front()->ns() + "/" + rules::prometheus_account(*selecting.front());
    if (!producers.known() ||
        (!ctx.complete() && !producers.account_bound(selecting.front()->ns(), rules::prometheus_account(*selecting.front())))) {
      nsl.resolved += "; the RBAC of ServiceAccount " + account + " is not in the view";
    } else {
      nsl.resolved += "; ServiceAccount " + account + " may list and watch " +
                      std::string(rules::discovery_resources(mon_obj.kind)) + " there";
    }
  }
  attach(nsl, findings.of(mon_obj, {"prometheus-cannot-discover"}));
  links.push_back(std::move(nsl));

  // 3. Service (or pod template) selection.
  Link svcl{mon.pod_monitor ? "pod selection" : "service selection"};
  std::vector<const Object*> selected;
  if (mon.pod_monitor) {
    if (policy::knows_pod_templates(ctx)) selected = rules::selected_pod_templates(ctx, mon_obj, mon);
  } else if (ctx.knows(Kind::kService)) {
    selected = rules::selected_services(ctx, mon_obj, mon);
  }
  const std::string selector = rules::describe_selector(mon.selector);
  if (!selected.empty()) {
    svcl.resolved = "selector " + selector + " selects " + (mon.pod_monitor ? "" : "Service ") + names_of(selected);
  } else {
    svcl.status = Status::kUnknown;
    svcl.resolved = "selector " + selector + " selects nothing in the view";
  }
  attach(svcl, findings.of(mon_obj, {"servicemonitor-selects-nothing"}));
  if (svcl.status == Status::kUnknown && !svcl.findings.empty()) svcl.status = Status::kBroken;
  links.push_back(std::move(svcl));

  // Per endpoint: port -> endpoints -> bind -> TLS -> live TLS -> authorization.
  for (const core::MonitorEndpoint& ep : mon.endpoints) {
    const std::string at = std::string(mon.endpoints_path()) + "[" + std::to_string(ep.index) + "]";
    const std::vector<rules::ScrapeTarget> targets = rules::scrape_targets(ctx, mon_obj, mon, ep);

    Link port{"port", at};
    const std::string port_text = !ep.port.empty()           ? "port " + std::string(ep.port)
                                  : ep.has_port_number        ? "portNumber " + std::to_string(ep.port_number)
                                  : ep.target_port.set        ? "targetPort " + ep.target_port.to_string()
                                                              : "no port";
    std::vector<std::string> resolved;
    std::set<const core::ServicePort*> service_ports;
    for (const rules::ScrapeTarget& t : targets) {
      if (t.service_port != nullptr && service_ports.insert(t.service_port).second) {
        resolved.push_back("Service " + ns_name(*t.service) + " port " + std::to_string(t.service_port->port) +
                           " -> targetPort " +
                           (t.service_port->target_port.set ? t.service_port->target_port.to_string()
                                                            : std::to_string(t.service_port->port)));
      }
    }
    if (mon.pod_monitor && !targets.empty()) resolved.push_back("container port " + std::to_string(targets.front().port));
    port.resolved = port_text + (resolved.empty() ? std::string(": resolves to nothing in the view") : " -> ");
    for (std::size_t i = 0; i < resolved.size(); ++i) port.resolved += (i ? "; " : "") + resolved[i];
    if (resolved.empty()) port.status = Status::kUnknown;
    attach(port, findings.of(mon_obj, {"servicemonitor-port-not-found", "servicemonitor-endpoint-incomplete"}, at));
    links.push_back(std::move(port));

    // Endpoints: the Service's selection and named targetPort, judged on
    // the Service (only findings of the port the endpoint uses).
    Link eps{"endpoints", at};
    Link bind{"container port/bind", at};
    std::vector<std::string> backends;
    std::vector<std::string> binds_text;
    for (const rules::ScrapeTarget& t : targets) {
      if (t.workload != nullptr) {
        backends.push_back(kind_and_name(*t.workload) + " container " + t.container->name + " port " +
                           std::to_string(t.port));
        const rules::PodBinds binds(*t.workload->pod_template(), engine.settings());
        binds_text.push_back(std::to_string(t.port) + " " + describe_bind(binds, t.port));
      }
    }
    for (const core::ServicePort* sp : service_ports) {
      const Object* svc = nullptr;
      for (const rules::ScrapeTarget& t : targets) {
        if (t.service_port == sp) svc = t.service;
      }
      if (svc == nullptr) continue;
      const std::string port_path = "spec.ports[" + std::to_string(sp->index) + "]";
      for (Finding& f : findings.of(*svc, {"service-target-port-missing"}, port_path)) {
        attach(f.message.find("loopback") != std::string::npos ? bind : eps, {f});
      }
      attach(eps, findings.of(*svc, {"service-selects-nothing"}));
    }
    if (!backends.empty()) {
      eps.resolved = backends.front() + (backends.size() > 1 ? " and " + std::to_string(backends.size() - 1) + " more" : "");
      bind.resolved = binds_text.front();
    } else {
      eps.status = eps.status == Status::kBroken ? Status::kBroken : Status::kUnknown;
      eps.resolved = "no workload of the view declares the port";
      bind.status = bind.status == Status::kBroken ? Status::kBroken : Status::kUnknown;
      bind.resolved = "no container to look at";
    }
    links.push_back(std::move(eps));
    links.push_back(std::move(bind));

    Link tls{"tls", at};
    const bool https = ep.scheme == "https" || ep.scheme == "HTTPS";
    if (!https) {
      tls.resolved = "plain HTTP (scheme " + (ep.scheme.empty() ? std::string("unset") : std::string(ep.scheme)) + ")";
    } else {
      tls.resolved = "https";
      if (ep.tls.insecure_skip_verify) tls.resolved += ", insecureSkipVerify";
      if (!ep.tls.server_name.empty()) tls.resolved += ", serverName " + std::string(ep.tls.server_name);
      if (!ep.tls.ca.secret_name.empty()) tls.resolved += ", CA from Secret " + std::string(ep.tls.ca.secret_name);
      if (!ep.tls.ca.configmap_name.empty()) {
        tls.resolved += ", CA from ConfigMap " + std::string(ep.tls.ca.configmap_name);
      }
      if (!ep.tls.ca_file.empty()) tls.resolved += ", caFile " + std::string(ep.tls.ca_file);
    }
    attach(tls, findings.of(mon_obj,
                            {"servicemonitor-tls-servername", "servicemonitor-servername-mismatch",
                             "servicemonitor-scheme-tls-mismatch", "servicemonitor-insecure-skip-verify",
                             "monitor-tls-reference-missing"},
                            at));
    links.push_back(std::move(tls));

    if (https) {
      const LiveTlsInput input{&mon_obj, &ep, targets};
      Link live = options.probe && options.live_tls ? options.live_tls(input) : not_probed(input, options.probe);
      live.scope = at;
      links.push_back(std::move(live));
    }

    Link auth{"authorization", at};
    std::optional<rules::SecureMetrics> secure;
    for (const rules::ScrapeTarget& t : targets) {
      secure = rules::secure_metrics(ctx, engine.settings(), t, https);
      if (secure) break;
    }
    if (!secure) {
      auth.resolved = targets.empty() ? "unknown target" : "no authenticating proxy or metrics filter seen";
      if (targets.empty()) auth.status = Status::kUnknown;
    } else {
      auth.resolved = secure->what + " (" + secure->container->name + "); " +
                      (ep.sends_token ? "the scrape sends a bearer token" : "no token sent");
    }
    attach(auth, findings.of(mon_obj, {"scrape-unauthorized"}, at));
    links.push_back(std::move(auth));
  }
  return links;
}

// ------------------------------------------------------- Service chains

// The links of one Service port: endpoints (selected workloads declaring
// the targetPort) and bind.
void trace_service_port(const Object& svc_obj, const core::ServicePort& sp, const policy::Context& ctx,
                        const policy::Engine& engine, Findings& findings, std::vector<Link>& links) {
  const core::Service& svc = *svc_obj.service();
  const std::string at = "spec.ports[" + std::to_string(sp.index) + "]";
  Link eps{"endpoints", at};
  Link bind{"container port/bind", at};
  const core::IntOrString target = sp.target_port.set ? sp.target_port : [&] {
    core::IntOrString v;
    v.set = true;
    v.is_int = true;
    v.num = sp.port;
    return v;
  }();
  std::vector<std::string> backends, binds_text;
  if (svc.has_selector && policy::knows_pod_templates(ctx)) {
    for (const Object* w : policy::select_backends(ctx, svc_obj.ns(), svc.selector)) {
      const core::PodTemplate* t = w->pod_template();
      for (const auto* list : {&t->containers, &t->init_containers}) {
        for (const core::Container& c : *list) {
          const core::ContainerPort* p = target.is_int ? c.port_numbered(target.num) : c.port_named(target.str);
          if (p == nullptr) continue;
          backends.push_back(kind_and_name(*w) + " container " + c.name + " port " + std::to_string(p->container_port));
          const rules::PodBinds binds(*t, engine.settings());
          binds_text.push_back(std::to_string(p->container_port) + " " + describe_bind(binds, p->container_port));
        }
      }
    }
  }
  for (Finding& f : findings.of(svc_obj, {"service-target-port-missing"}, at)) {
    attach(f.message.find("loopback") != std::string::npos ? bind : eps, {f});
  }
  const std::string port_text = "port " + std::to_string(sp.port) + " -> targetPort " + target.to_string();
  if (!svc.has_selector) {
    eps.status = Status::kUnknown;
    eps.resolved = port_text + ": the Service has no selector (its endpoints are managed by hand)";
    bind.status = Status::kUnknown;
    bind.resolved = "no container to look at";
  } else if (!backends.empty()) {
    eps.resolved = port_text + ": " + backends.front() +
                   (backends.size() > 1 ? " and " + std::to_string(backends.size() - 1) + " more" : "");
    bind.resolved = binds_text.front();
  } else {
    if (eps.status != Status::kBroken) eps.status = Status::kUnknown;
    eps.resolved = port_text + ": no workload of the view declares it";
    if (bind.status != Status::kBroken) bind.status = Status::kUnknown;
    bind.resolved = "no container to look at";
  }
  links.push_back(std::move(eps));
  links.push_back(std::move(bind));
}

std::vector<Link> trace_service(const Object& svc_obj, const policy::Context& ctx, const policy::Engine& engine,
                                Findings& findings, std::optional<std::int64_t> only_port = std::nullopt) {
  std::vector<Link> links;
  Link sel{"pod selection"};
  const core::Service& svc = *svc_obj.service();
  std::vector<const Object*> pods;
  if (svc.has_selector && policy::knows_pod_templates(ctx)) {
    pods = policy::select_backends(ctx, svc_obj.ns(), svc.selector);
  }
  if (!svc.has_selector) {
    sel.status = Status::kUnknown;
    sel.resolved = "no selector";
  } else if (!pods.empty()) {
    sel.resolved = "selects " + names_of(pods);
  } else {
    sel.status = Status::kUnknown;
    sel.resolved = "selects no workload of the view";
  }
  attach(sel, findings.of(svc_obj, {"service-selects-nothing"}));
  links.push_back(std::move(sel));
  for (const core::ServicePort& sp : svc.ports) {
    if (only_port && sp.port != *only_port) continue;
    trace_service_port(svc_obj, sp, ctx, engine, findings, links);
  }
  return links;
}

// A webhook / conversion / APIService client config's Service and TLS.
void trace_client_config(const Object& owner, const std::string& at, const core::ServiceReference& ref,
                         const policy::Context& ctx, const policy::Engine& engine, Findings& findings,
                         std::vector<Link>& links) {
  Link svcl{"service", at};
  const Object* svc = ctx.knows(Kind::kService) ? ctx.find(Kind::kService, ref.ns, ref.name) : nullptr;
  svcl.resolved = "Service " + ref.ns + "/" + ref.name + " port " + std::to_string(ref.port) +
                  (svc != nullptr ? "" : ": not in the view");
  if (svc == nullptr) svcl.status = Status::kUnknown;
  attach(svcl, findings.of(owner, {"webhook-service-missing"}, at));
  links.push_back(std::move(svcl));
  if (svc != nullptr) {
    std::vector<Link> rest = trace_service(*svc, ctx, engine, findings, ref.port);
    for (Link& l : rest) {
      l.scope = at;
      links.push_back(std::move(l));
    }
  }
  Link tls{"tls", at};
  tls.resolved = "verified against the caBundle with name " + ref.name + "." + ref.ns + ".svc";
  attach(tls, findings.of(owner, {"webhook-missing-ca-bundle", "webhook-ca-bundle-invalid",
                                  "apiservice-insecure-skip-tls"}, at));
  links.push_back(std::move(tls));
  Link live{"tls (live)", at};
  live.status = Status::kNotProbed;
  live.resolved = "not probed (run wirecheck audit --probe)";
  links.push_back(std::move(live));
}

std::vector<Link> trace_webhooks(const Object& obj, const policy::Context& ctx, const policy::Engine& engine,
                                 Findings& findings) {
  std::vector<Link> links;
  if (const core::WebhookConfiguration* wc = obj.webhook_configuration()) {
    for (const core::Webhook& w : wc->webhooks) {
      const std::string at = "webhooks[" + std::to_string(w.index) + "].clientConfig";
      if (!w.client_config.service.present) {
        Link l{"service", at, Status::kUnknown, "URL " + w.client_config.url + " (not a Service)"};
        links.push_back(std::move(l));
        continue;
      }
      trace_client_config(obj, at, w.client_config.service, ctx, engine, findings, links);
    }
  } else if (const core::APIService* api = obj.api_service()) {
    if (!api->service.present) {
      links.push_back({"service", "spec", Status::kOk, "local APIService (served by the API server)"});
    } else {
      trace_client_config(obj, "spec.service", api->service, ctx, engine, findings, links);
    }
  }
  return links;
}

// --------------------------------------------------------------- output

std::string format_links_text(const Object& obj, const std::vector<Link>& links, bool color) {
  const char* reset = color ? "\033[0m" : "";
  const char* bold = color ? "\033[1m" : "";
  const char* dim = color ? "\033[2m" : "";
  auto status = [&](Status s) -> std::string {
    std::string text(status_text(s));
    text.resize(11, ' ');
    if (!color) return text;
    switch (s) {
      case Status::kOk:
        return "\033[32m" + text + "\033[0m";
      case Status::kBroken:
        return "\033[1;31m" + text + "\033[0m";
      default:
        return "\033[33m" + text + "\033[0m";
    }
  };
  std::string out = std::string(bold) + kind_and_name(obj) + reset + "\n";
  std::string scope;
  for (const Link& l : links) {
    if (l.scope != scope) {
      scope = l.scope;
      if (!scope.empty()) out += std::string("  ") + dim + scope + reset + "\n";
    }
    // Columns line up whether or not the link sits under an endpoint.
    const std::string indent = scope.empty() ? "  " : "    ";
    std::string name = l.name;
    name.resize(std::max<std::size_t>(name.size() + 1, 26 - indent.size()), ' ');
    out += indent + status(l.status) + name;
    const bool broken_by_finding = l.status == Status::kBroken && !l.findings.empty();
    out += broken_by_finding ? "" : l.resolved;
    out += "\n";
    const std::string pad(indent.size() + 11 + name.size(), ' ');
    bool first = true;
    for (const Finding& f : l.findings) {
      const bool note = f.severity == policy::Severity::kInfo;
      // Findings on another object of the chain (the Service) name it.
      const bool other = f.object.kind != obj.ref.kind || f.object.ns != obj.ns() || f.object.name != obj.name();
      std::string head = std::string(note ? "note " : "") + f.rule + " (" +
                         std::string(policy::severity_name(f.severity)) + "): " +
                         (other ? std::string(f.object.kind) + " " +
                                      (f.object.ns.empty() ? std::string(f.object.name)
                                                           : f.object.ns + "/" + f.object.name) + ": "
                                : std::string()) +
                         f.message;
      if (broken_by_finding && first && !note) {
        // The first breaking finding takes the link's line.
        out.pop_back();
        out += head + "\n";
      } else {
        out += pad + head + "\n";
      }
      first = false;
      if (!f.fix.empty()) out += pad + "fix: " + f.fix + "\n";
    }
  }
  std::size_t broken = 0;
  for (const Link& l : links) broken += l.status == Status::kBroken ? 1 : 0;
  out += broken == 0 ? "every link holds\n"
                     : std::to_string(broken) + (broken == 1 ? " link is" : " links are") + " broken\n";
  return out;
}

nlohmann::json format_links_json(const Object& obj, const std::vector<Link>& links) {
  nlohmann::json j;
  j["object"] = {{"kind", std::string(obj.ref.kind)}, {"namespace", std::string(obj.ns())}, {"name", std::string(obj.name())}};
  nlohmann::json arr = nlohmann::json::array();
  bool broken = false;
  for (const Link& l : links) {
    nlohmann::json lj{{"link", l.name}, {"status", std::string(status_text(l.status))}, {"resolved", l.resolved}};
    if (!l.scope.empty()) lj["scope"] = l.scope;
    nlohmann::json fs = nlohmann::json::array();
    for (const Finding& f : l.findings) {
      fs.push_back({{"rule", f.rule},
                    {"severity", std::string(policy::severity_name(f.severity))},
                    {"object", {{"kind", std::string(f.object.kind)}, {"namespace", std::string(f.object.ns)},
                                {"name", std::string(f.object.name)}}},
                    {"path", f.path},
                    {"message", f.message},
                    {"fix", f.fix}});
    }
    lj["findings"] = fs;
    broken = broken || l.status == Status::kBroken;
    arr.push_back(std::move(lj));
  }
  j["links"] = std::move(arr);
  j["result"] = broken ? "broken" : "ok";
  return j;
}

// ------------------------------------------------------------ lookup


struct KindArg {
  std::string_view arg;
  std::vector<Kind> kinds;
};

const std::vector<KindArg>& kind_args() {
  static const std::vector<KindArg> args = {
      {"servicemonitor", {Kind::kServiceMonitor}},
      {"podmonitor", {Kind::kPodMonitor}},
      {"service", {Kind::kService}},
      {"webhook", {Kind::kValidatingWebhookConfiguration, Kind::kMutatingWebhookConfiguration}},
      {"apiservice", {Kind::kAPIService}},
  };
  return args;
}

const KindArg* kind_arg(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  if (text.size() > 1 && text.back() == 's') text.pop_back();  // plurals as kubectl accepts them
  if (text == "svc") text = "service";
  if (text == "validatingwebhookconfiguration" || text == "mutatingwebhookconfiguration") text = "webhook";
  for (const KindArg& k : kind_args()) {
    if (k.arg == text) return &k;
  }
  return nullptr;
}

}  // namespace

int run_trace(const Args& args) {
  std::vector<std::string> paths;
  std::vector<std::string> positional;
  std::string kubeconfig, context, ns, config;
  std::string format = "text";
  bool probe = false;
  bool secret_names = false;
  bool probe_read_secrets = false;
  bool color = isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr;

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::string value;
    bool has_value = false;
    if (const auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto need = [&]() -> const std::string* {
      if (has_value) return &value;
      if (i + 1 >= args.size()) return nullptr;
      value = args[++i];
      return &value;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kTraceUsage, stdout);
      return 0;
    } else if (a == "--probe") {
      probe = true;
    } else if (a == "--secret-names") {
      secret_names = true;
    } else if (a == "--probe-read-secrets") {
      probe_read_secrets = true;
    } else if (a == "--no-color") {
      color = false;
    } else if (a == "-f" || a == "--filename" || a == "--kubeconfig" || a == "--context" || a == "-n" ||
               a == "--namespace" || a == "--format" || a == "--config") {
      const std::string* v = need();
      if (v == nullptr) return usage_error(a + " needs a value");
      if (a == "-f" || a == "--filename") paths.push_back(*v);
      if (a == "--kubeconfig") kubeconfig = *v;
      if (a == "--context") context = *v;
      if (a == "-n" || a == "--namespace") ns = *v;
      if (a == "--format") format = *v;
      if (a == "--config") config = *v;
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      return usage_error("unknown argument '" + args[i] + "'");
    } else {
      positional.push_back(args[i]);
    }
  }
  if (positional.size() != 2) return usage_error("expected KIND and NAME");
  const KindArg* kind = kind_arg(positional[0]);
  if (kind == nullptr) {
    return usage_error("unknown kind '" + positional[0] + "' (servicemonitor, podmonitor, service, webhook, apiservice)");
  }
  if (format != "text" && format != "json") return usage_error("--format must be text or json");
  if (format != "text") color = false;
  if (!paths.empty() && (!kubeconfig.empty() || !context.empty())) {
    return usage_error("-f and --kubeconfig/--context exclude each other");
  }
  if (probe && !paths.empty()) return usage_error("--probe needs a cluster, not -f files");

  auto settings = settings_from(config);
  if (!settings) {
    std::fprintf(stderr, "wirecheck trace: %s\n", settings.error().c_str());
    return 2;
  }
  const policy::Engine engine(std::move(settings).value());

  // The view: lint's placement of the files, or the cluster as the audit lists it.
  core::ManifestSet set;
  policy::ObjectIndex file_index;
  cluster::ClusterView cluster_view;
  std::shared_ptr<cluster::ApiClient> client;
  const policy::Context* ctx = nullptr;
  if (!paths.empty()) {
    for (const std::string& p : paths) core::load_path(p, set);
    for (const core::LoadError& e : set.errors) {
      std::fprintf(stderr, "wirecheck trace: %s:%d: %s\n", e.file.c_str(), e.line, e.message.c_str());
    }
    if (!set.errors.empty()) return 2;
    const policy::Placement placement = policy::place_in_apply_namespace(set, ns);
    file_index.add_all(set.objects);
    for (std::size_t i : placement.defaulted) file_index.add_defaulted(set.objects[i]);
    if (ns.empty()) ns = placement.ns;
    ctx = &file_index;
  } else {
    auto kube = cluster::resolve_config(kubeconfig, context);
    if (!kube) {
      std::fprintf(stderr, "wirecheck trace: cannot find the cluster: %s\n", kube.error().c_str());
      return 2;
    }
    if (ns.empty()) ns = "default";
    client = std::make_shared<cluster::ApiClient>(std::move(*kube));
    const cluster::ObjectSource source = cluster::api_object_source(*client, 500, secret_names);
    cluster::list_cluster(engine, source, cluster_view);
    cluster::list_secret_names(source, cluster_view, secret_names);
    if (cluster_view.failed.size() == cluster::audited_kinds(engine).size()) {
      std::fprintf(stderr, "wirecheck trace: cannot list anything: %s\n", cluster_view.failed.front().second.c_str());
      return 2;
    }
    for (const auto& [k, error] : cluster_view.failed) {
      std::fprintf(stderr, "wirecheck trace: %s could not be listed (links that need it are unknown): %s\n",
                   std::string(core::kind_name(k)).c_str(), error.c_str());
    }
    ctx = &cluster_view.index;
  }

  // The object.
  std::string want_ns = ns;
  std::string want_name = positional[1];
  const bool namespaced = core::is_namespaced(kind->kinds.front());
  if (const auto slash = want_name.find('/'); slash != std::string::npos) {
    want_ns = want_name.substr(0, slash);
    want_name = want_name.substr(slash + 1);
  }
  if (!namespaced) want_ns.clear();
  const Object* obj = nullptr;
  std::vector<std::pair<std::size_t, std::string>> candidates;
  for (Kind k : kind->kinds) {
    if (!ctx->knows(k)) continue;
    if (obj == nullptr) obj = ctx->find(k, want_ns, want_name);
    for (const Object* o : ctx->list_all(k)) {
      const std::string full = namespaced ? o->ns() + "/" + o->name() : std::string(o->name());
      candidates.emplace_back(rules::edit_distance(namespaced ? want_ns + "/" + want_name : want_name, full), full);
    }
  }
  if (obj == nullptr) {
    std::sort(candidates.begin(), candidates.end());
    std::string list;
    for (std::size_t i = 0; i < candidates.size() && i < 3; ++i) list += (i ? ", " : "") + candidates[i].second;
    std::fprintf(stderr, "wirecheck trace: %s %s%s not found%s%s\n", positional[0].c_str(),
                 namespaced ? (want_ns + "/").c_str() : "", want_name.c_str(),
                 list.empty() ? "" : "; closest: ", list.c_str());
    return 2;
  }

  Findings findings(engine, *ctx);
  TraceOptions options;
  options.probe = probe;
  if (probe && client != nullptr && obj->kind == Kind::kServiceMonitor) {
    // The audit's scrape probe over a view of this monitor and the Services
    // it may select: only its targets are dialled.
    policy::ObjectIndex one_monitor(/*complete=*/true);
    one_monitor.add(*obj);
    for (const Object* s : ctx->list_all(Kind::kService)) one_monitor.add(*s);
    for (const Object* n : ctx->list_all(Kind::kNamespace)) one_monitor.add(*n);
    cluster::ProbeOptions probe_options;
    probe_options.in_cluster = std::getenv("KUBERNETES_SERVICE_HOST") != nullptr;
    probe_options.read_secrets = probe_read_secrets;
    auto lookups = std::make_shared<cluster::ProbeLookups>(client, probe_read_secrets);
    auto report = std::make_shared<const cluster::ScrapeReport>(
        cluster::probe_scrape_tls(engine, one_monitor, cluster::api_scrape_sources(lookups), probe_options));
    options.live_tls = scrape_probe_step(report);
  }
  std::vector<Link> links;
  switch (obj->kind) {
    case Kind::kServiceMonitor:
    case Kind::kPodMonitor:
      links = trace_monitor(*obj, *ctx, engine, findings, options);
      break;
    case Kind::kService:
      links = trace_service(*obj, *ctx, engine, findings);
      break;
    default:
      links = trace_webhooks(*obj, *ctx, engine, findings);
      break;
  }
  const bool broken = std::any_of(links.begin(), links.end(), [](const Link& l) { return l.status == Status::kBroken; });
  if (format == "json") {
    std::cout << format_links_json(*obj, links).dump(2) << "\n";
  } else {
    std::cout << format_links_text(*obj, links, color);
  }
  std::cout.flush();
  return broken ? 1 : 0;
}

}  // namespace wirecheck::cli
