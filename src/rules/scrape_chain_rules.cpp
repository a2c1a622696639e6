// The scrape-chain rules (RULES.md "The scrape chain"): the links between a
// monitor and an actual scrape that the ServiceMonitor rules do not cover.
// Whether a Prometheus selects the monitor at all, whether it may discover
// the targets, whether the target lets the scrape in, and whether the
// ConfigMaps and Secrets the scrape settings read exist. The questions are
// answered in scrape_chain.hpp, which `wirecheck trace` shares.
#include <string>
#include <vector>

#include "rules/scrape_chain.hpp"
#include "wirecheck/context.hpp"
#include "wirecheck/object.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::rules {

namespace {

using core::Kind;
using core::Object;
using policy::Context;
using policy::FindingSink;
using policy::RuleInput;
using policy::Severity;
using policy::Tri;

std::string ns_name(const Object& o) { return o.ns().empty() ? std::string(o.name()) : o.ns() + "/" + o.name(); }

std::string kind_and_name(const Object& o) { return std::string(core::kind_name(o.kind)) + " " + ns_name(o); }

// ================================================== monitor-not-selected

// Why the closest Prometheus does not select the monitor, in words.
std::string why_not(const Selection& s, const Object& monitor) {
  std::vector<std::string> reasons;
  if (!s.add_labels.empty() || !s.remove_labels.empty()) {
    std::vector<std::string> labels;
    for (const auto& [k, v] : s.add_labels) labels.push_back(k + "=" + (v.empty() ? "<any>" : v));
    for (const std::string& k : s.remove_labels) labels.push_back("no " + k);
    std::string r = "needs labels ";
    for (std::size_t i = 0; i < labels.size(); ++i) r += (i ? ", " : "") + labels[i];
    reasons.push_back(r);
  }
  if (!s.add_namespace_labels.empty() || !s.remove_namespace_labels.empty()) {
    std::vector<std::string> labels;
    for (const auto& [k, v] : s.add_namespace_labels) labels.push_back(k + "=" + (v.empty() ? "<any>" : v));
    for (const std::string& k : s.remove_namespace_labels) labels.push_back("no " + k);
    std::string r = "needs namespace " + monitor.ns() + " labelled ";
    for (std::size_t i = 0; i < labels.size(); ++i) r += (i ? ", " : "") + labels[i];
    reasons.push_back(r);
  }
  if (!s.blocker.empty()) reasons.push_back(s.blocker);
  std::string out;
  for (std::size_t i = 0; i < reasons.size(); ++i) out += (i ? "; " : "") + reasons[i];
  return out;
}

void check_not_selected(const RuleInput& in, FindingSink& out) {
  const std::vector<Selection> selections = prometheus_selections(in.context, in.object);
  if (selections.empty()) return;
  for (const Selection& s : selections) {
    // Selected, or a namespace label the view cannot show: nothing to say.
    if (s.selects != Tri::kNo) return;
  }
  const Selection* best = closest(selections);
  const std::string kind(core::kind_name(in.object.kind));
  std::string message = (selections.size() == 1 ? std::string("the only Prometheus, ")
                                                : "no Prometheus selects it; the closest, ") +
                        kind_and_name(*best->prometheus) + ", " + why_not(*best, in.object) + ": this " + kind +
                        " is never scraped";
  const bool labels_only = best->blocker.empty() && best->add_namespace_labels.empty() &&
                           best->remove_namespace_labels.empty();
  out.add(Severity::kWarn, labels_only ? "metadata.labels" : "metadata.namespace", std::move(message),
          describe_edits(*best, in.object));
}

// ============================================ prometheus-cannot-discover

void check_cannot_discover(const RuleInput& in, FindingSink& out) {
  const core::Monitor* mon = in.object.monitor();
  if (mon == nullptr) return;
  for (const Object* p : selecting_prometheuses(in.context, in.object)) {
    const std::optional<DiscoveryGap> gap = discovery_gap(in.context, *p, in.object);
    if (!gap) continue;
    const std::string account = p->ns() + "/" + prometheus_account(*p);
    const std::string where = gap->ns.empty() ? std::string("cluster-wide") : "in namespace " + gap->ns;
    const std::string resources(discovery_resources(in.object.kind));
    std::string fix =
        gap->ns.empty()
            ? "bind a ClusterRole allowing get, list and watch on " + resources +
                  " to ServiceAccount " + account + " with a ClusterRoleBinding (spec.namespaceSelector.any needs it "
                  "cluster-wide)"
            : "grant ServiceAccount " + account + " get, list and watch on " + resources + " in namespace " +
                  gap->ns + " (a Role and RoleBinding there, or a ClusterRole bound cluster-wide)";
    out.add(Severity::kWarn, mon->namespace_any ? "spec.namespaceSelector.any" : "spec.namespaceSelector",
            kind_and_name(*p) + " runs as ServiceAccount " + account + ", which may not " + gap->verb + " " +
                gap->resource + " " + where + ": its service discovery finds no target of this " +
                std::string(core::kind_name(in.object.kind)),
            std::move(fix));
    return;
  }
}

// ==================================================== scrape-unauthorized

void check_unauthorized(const RuleInput& in, FindingSink& out) {
  const core::Monitor* mon = in.object.monitor();
  if (mon == nullptr || !policy::knows_pod_templates(in.context)) return;
  const std::vector<const Object*> selecting = selecting_prometheuses(in.context, in.object);
  for (const core::MonitorEndpoint& ep : mon->endpoints) {
    const std::optional<Refusal> r = scrape_refusal(in.context, in.settings, in.object, *mon, ep, selecting);
    if (!r) continue;
    const std::string at = std::string(mon->endpoints_path()) + "[" + std::to_string(ep.index) + "]";
    // The evidence (flag, upstream) is in trace's output; messages stay
    // short enough for one kubectl warning line.
    const std::string target = r->target.what + " (container " + r->target.container->name + " of " +
                               kind_and_name(*r->target.workload) + ")";
    if (r->status == 401) {
      const std::string fix =
          mon->pod_monitor
              ? "add to " + at + ": authorization: {credentials: {name: <Secret with a ServiceAccount token>, key: "
                                 "token}}, and let that account get nonResourceURL " + r->path
              : "add to " + at + ": bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token (the "
                                 "Prometheus's own token), and let its ServiceAccount get nonResourceURL " + r->path;
      out.add(Severity::kWarn, at,
              "every scrape gets 401: " + target + " requires a bearer token and the endpoint sends none", fix);
    } else {
      out.add(Severity::kWarn, at + ".bearerTokenFile",
              "every scrape gets 403: " + target + " admits accounts allowed to get " + r->path +
                  "; no ClusterRole grants that to ServiceAccount " + r->account,
              "bind a ClusterRole with rules: [{nonResourceURLs: [\"" + r->path +
                  "\"], verbs: [get]}] to ServiceAccount " + r->account + " with a ClusterRoleBinding");
    }
  }
}

// ========================================== monitor-tls-reference-missing

void check_reference_missing(const RuleInput& in, FindingSink& out) {
  const Context& ctx = in.context;
  const std::string kind(core::kind_name(in.object.kind));
  for (const MissingReference& m : missing_references(ctx, in.object)) {
    // A Certificate of the view writes the Secret once issued.
    if (m.certificate != nullptr && !ctx.complete()) continue;
    const std::string what = std::string(m.config_map ? "ConfigMap " : "Secret ") + in.object.ns() + "/" + m.name;
    std::string problem;
    if (!m.object_missing) {
      problem = what + " has no key \"" + m.key + "\"";
    } else if (m.certificate != nullptr) {
      problem = what + " does not exist although " + kind_and_name(*m.certificate) +
                " writes it (not issued yet, or failing)";
    } else {
      problem = what + (ctx.complete() ? " does not exist" : " is not in the input");
    }
    const Severity sev = ctx.complete() ? Severity::kDeny : Severity::kInfo;
    std::string fix = m.object_missing ? "create " + what + (m.key.empty() ? "" : " with key \"" + m.key + "\"") +
                                             ", or point " + m.path + " at one that exists"
                                       : "add key \"" + m.key + "\" to " + what + ", or set " + m.path + ".key to " +
                                             "one of its keys";
    if (m.certificate != nullptr) fix = "check the status of " + kind_and_name(*m.certificate);
    out.add_caused(sev, m.path,
                   problem + ": the operator cannot build this " + kind +
                       "'s scrape configuration and leaves the whole " + kind + " out",
                   std::move(fix), m.object_missing ? what + " does not exist" : std::string());
  }
}

}  // namespace

WIRECHECK_REGISTER_RULE(monitor_not_selected,
                        {
                            .id = "monitor-not-selected",
                            .title = "No Prometheus selects the monitor",
                            .severity = Severity::kWarn,
                            .severities = "warn",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor, Kind::kProbe},
                            .needs_context = false,
                            .context_kinds = {Kind::kPrometheus, Kind::kPrometheusAgent, Kind::kNamespace},
                            .failure = "No Prometheus / PrometheusAgent of the view selects the monitor: its "
                                       "label selector (serviceMonitorSelector, podMonitorSelector, probeSelector) "
                                       "does not match the monitor's labels (a nil selector selects nothing, {} "
                                       "everything), or its namespace selector does not match the monitor's "
                                       "namespace (nil: the Prometheus's own namespace only, {} all). The "
                                       "operator never generates a scrape configuration for it. Says nothing "
                                       "when the view holds no Prometheus.",
                            .fix = "Add the labels the closest Prometheus selects to the monitor (or its "
                                   "namespace), or widen that Prometheus's selectors; the finding names the "
                                   "exact labels.",
                            .check = &check_not_selected,
                        })

WIRECHECK_REGISTER_RULE(prometheus_cannot_discover,
                        {
                            .id = "prometheus-cannot-discover",
                            .title = "Prometheus may not discover the monitor's targets",
                            .severity = Severity::kWarn,
                            .severities = "warn",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor},
                            .needs_context = false,
                            .context_kinds = {Kind::kPrometheus, Kind::kPrometheusAgent, Kind::kRole,
                                              Kind::kClusterRole, Kind::kRoleBinding, Kind::kClusterRoleBinding},
                            .failure = "The ServiceAccount of a Prometheus that selects the monitor may not list "
                                       "and watch what its service discovery reads in the monitor's target "
                                       "namespaces (ServiceMonitor: services, endpoints or endpointslices, pods; "
                                       "PodMonitor: pods), per the Roles and ClusterRoles bound to it: discovery "
                                       "fails with 'forbidden' and no target appears.",
                            .fix = "Grant the Prometheus ServiceAccount get/list/watch on those resources in the "
                                   "target namespaces (Role + RoleBinding there, or a ClusterRoleBinding).",
                            .check = &check_cannot_discover,
                        })

WIRECHECK_REGISTER_RULE(scrape_unauthorized,
                        {
                            .id = "scrape-unauthorized",
                            .title = "Scrape of an authenticated metrics endpoint is refused",
                            .severity = Severity::kWarn,
                            .severities = "warn",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor},
                            .needs_context = false,
                            .context_kinds = {Kind::kService, Kind::kPrometheus, Kind::kPrometheusAgent,
                                              Kind::kClusterRole, Kind::kClusterRoleBinding},
                            .failure = "The target sits behind kube-rbac-proxy or controller-runtime's "
                                       "authenticated metrics (--metrics-secure, "
                                       "filters.WithAuthenticationAndAuthorization): a scrape without a bearer "
                                       "token gets 401, and one whose ServiceAccount may not get the "
                                       "nonResourceURL /metrics gets 403. The target shows as down.",
                            .fix = "Send the Prometheus's token (bearerTokenFile: "
                                   "/var/run/secrets/kubernetes.io/serviceaccount/token, or authorization "
                                   "credentials) and bind a ClusterRole allowing get on nonResourceURL /metrics "
                                   "to its ServiceAccount.",
                            .check = &check_unauthorized,
                        })

WIRECHECK_REGISTER_RULE(monitor_tls_reference_missing,
                        {
                            .id = "monitor-tls-reference-missing",
                            .title = "Monitor reads a ConfigMap or Secret key that does not exist",
                            .severity = Severity::kDeny,
                            .severities = "info / deny",
                            .kinds = {Kind::kServiceMonitor, Kind::kPodMonitor, Kind::kProbe},
                            .needs_context = false,
                            .context_kinds = {Kind::kConfigMap, Kind::kCertificate},
                            .failure = "tlsConfig.ca / cert / keySecret or a credentials reference "
                                       "(authorization, bearerTokenSecret, basicAuth, oauth2) names a ConfigMap or "
                                       "Secret key that does not exist: the operator skips the whole monitor. Info "
                                       "in lint (Secrets are rarely in manifests; a cert-manager Certificate that "
                                       "writes the Secret is enough), deny in the audit (ConfigMaps always, Secrets "
                                       "only with --secret-names).",
                            .fix = "Create the ConfigMap or Secret with that key in the monitor's namespace, or "
                                   "point the reference at one that exists.",
                            .check = &check_reference_missing,
                        })

}  // namespace wirecheck::rules
