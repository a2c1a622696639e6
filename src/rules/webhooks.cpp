// Rules on how the API server reaches admission webhooks, CRD conversion
// webhooks and APIServices: the CA it verifies them with, how long it waits,
// and whether a webhook that is down can block its own recovery. The Service
// side (does the target exist, may it be deleted) is in webhook_service.cpp.
#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/client_configs.hpp"
#include "wirecheck/builtin_resources.hpp"
#include "wirecheck/ca_bundle.hpp"
#include "wirecheck/context.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::rules {
namespace {

using core::Kind;
using policy::FindingSink;
using policy::Operation;
using policy::RuleInput;
using policy::Severity;

constexpr std::int64_t kSecondsPerDay = 24 * 60 * 60;
// Admission warnings are cut at 256 characters; subjects can be long.
constexpr std::size_t kMaxSubjectInMessage = 64;
// Beyond this the webhook holds every matching API request for a long time.
constexpr std::int64_t kMaxTimeoutSeconds = 15;

std::string short_subject(const std::string& subject) {
  if (subject.empty()) return "(empty subject)";
  if (subject.size() <= kMaxSubjectInMessage) return subject;
  return subject.substr(0, kMaxSubjectInMessage - 3) + "...";
}

// ------------------------------------------------- webhook-missing-ca-bundle

// Whether the same client config (same webhook name) had a caBundle before.
bool had_ca_bundle(const core::Object* old_object, const ClientConfigView& now) {
  if (old_object == nullptr) return false;
  for (const ClientConfigView& before : client_configs(*old_object)) {
    if (before.key == now.key && before.ca_bundle != nullptr && !before.ca_bundle->empty()) {
      return true;
    }
  }
  return false;
}

// The Certificate (cert-manager) whose dnsNames cover `dns`, for the
// annotation a fix can name; nullptr when the context shows none.
const core::Object* certificate_for(const policy::Context& ctx, const core::ServiceReference& svc,
                                    const std::string& dns) {
  if (!ctx.knows(Kind::kCertificate)) return nullptr;
  for (const core::Object* o : ctx.list(Kind::kCertificate, svc.ns)) {
    const core::Certificate* c = o->certificate();
    if (c != nullptr && std::find(c->dns_names.begin(), c->dns_names.end(), dns) != c->dns_names.end()) {
      return o;
    }
  }
  return nullptr;
}

std::string missing_ca_fix(const RuleInput& in, const ClientConfigView& v) {
  const std::string dns = service_dns_name(*v.service);
  std::string fix = "set caBundle to the base64 PEM of the CA that signed " + dns + "'s certificate";
  if (const core::Object* cert = certificate_for(in.context, *v.service, dns)) {
    fix += ", or annotate " + std::string(kInjectCaFrom) + ": " + cert->ns() + "/" + cert->name();
  } else {
    fix += ", or use a CA-injection annotation (" + std::string(kInjectCaFrom) + ")";
  }
  return fix;
}

// A workload of the view that may update or patch `object` (a certgen Job,
// a controller that rotates its certificate and reconciles its own
// configuration): it can fill the caBundle at run time.
std::optional<policy::Producer> ca_injector(const policy::Context& ctx, const core::Object& object) {
  std::string_view group, resource;
  if (!policy::rbac_resource(object.kind, group, resource)) return std::nullopt;
  return ctx.producers().may(ctx, {{"update", "patch"}, group, resource, "", object.name()});
}

void check_missing_ca_bundle(const RuleInput& in, FindingSink& out) {
  // An injector (cert-manager cainjector, OpenShift service-ca) fills the
  // field after apply; an empty bundle is the expected manifest shape.
  const bool annotated = ca_injection_annotation(in.object) != nullptr;
  const bool update = in.operation == Operation::kUpdate;
  if (annotated && !update) return;
  bool looked_up = false;
  std::optional<policy::Producer> injector;
  for (const ClientConfigView& v : client_configs(in.object)) {
    // URL-backed configs may rely on the system roots; only service-backed
    // ones always need a private CA.
    if (v.service == nullptr || !v.ca_bundle->empty() || v.insecure_skip_tls_verify) continue;
    const std::string dns = service_dns_name(*v.service);
    if (v.never_called) {
      out.add(Severity::kInfo, v.ca_bundle_path,
              "conversion webhook without caBundle, but the CRD serves one version: the API server never "
              "calls it",
              "");
      continue;
    }
    if (!looked_up) {
      injector = ca_injector(in.context, in.object);
      looked_up = true;
    }
    if (update && had_ca_bundle(in.old_object, v)) {
      // `kubectl replace` and GitOps replace-syncs drop a bundle the manifest
      // never had; that is only certain to break when nothing puts it back.
      if (annotated || injector) {
        const std::string who = injector ? injector->who() : "the CA injector";
        out.add(Severity::kWarn, v.ca_bundle_path,
                "this update empties caBundle: calls to " + dns + " fail until " + who + " re-injects it",
                "keep the live caBundle when replacing (e.g. ignore caBundle in GitOps diffs)");
      } else {
        out.add(Severity::kDeny, v.ca_bundle_path,
                "this update removes caBundle and nothing re-injects it: calls to " + dns +
                    " fail (x509: certificate signed by unknown authority)",
                missing_ca_fix(in, v));
      }
      continue;
    }
    if (annotated) continue;
    if (injector) {
      // The whole-cluster view shows the live object: still empty means the
      // injector has not done its job (yet).
      if (in.context.complete()) {
        out.add(Severity::kWarn, v.ca_bundle_path,
                "caBundle is still empty although " + injector->describe() + ": calls to " + dns +
                    " fail until it fills it",
                "check that " + injector->who() + " ran and succeeded");
      } else {
        out.add(Severity::kInfo, v.ca_bundle_path,
                "caBundle is empty in the manifest; it may be injected at run time by " + injector->describe(),
                "");
      }
      continue;
    }
    // In lint and admission something outside the input may still patch the
    // bundle in after apply; a live cluster that still has none is broken.
    if (in.context.complete()) {
      out.add(Severity::kDeny, v.ca_bundle_path,
              "no caBundle nor CA-injection annotation: calls to " + dns +
                  " fail (x509: certificate signed by unknown authority)",
              missing_ca_fix(in, v));
    } else {
      out.add(Severity::kWarn, v.ca_bundle_path,
              "no caBundle, CA-injection annotation or injector in the input: calls to " + dns +
                  " fail (x509: unknown authority) unless something injects the CA",
              missing_ca_fix(in, v));
    }
  }
}

// ------------------------------------------------- webhook-ca-bundle-invalid

void check_ca_bundle_invalid(const RuleInput& in, FindingSink& out) {
  // With an injector the manifest often carries a placeholder (kubebuilder's
  // `Cg==`) that is replaced after apply. Only a live cluster shows whether
  // the injected bundle is usable.
  const bool injected = ca_injection_annotation(in.object) != nullptr;
  if (injected && !in.context.complete()) return;
  const std::int64_t now = in.now_unix;
  const std::int64_t warn_window = static_cast<std::int64_t>(in.settings.ca_expiry_warn_days) * kSecondsPerDay;
  for (const ClientConfigView& v : client_configs(in.object)) {
    // insecureSkipTLSVerify makes the API server ignore the bundle.
    if (v.ca_bundle->empty() || v.insecure_skip_tls_verify) continue;
    const std::string fix = "set " + v.ca_bundle_path +
                            " to base64(PEM) of the CA certificate that signed the serving certificate "
                            "(e.g. `base64 -w0 ca.crt`), or let cert-manager inject it";
    core::Result<std::vector<core::CertificateInfo>> parsed = core::parse_ca_bundle(*v.ca_bundle);
    if (!parsed) {
      out.add(Severity::kDeny, v.ca_bundle_path,
              "caBundle of " + v.label + " " + parsed.error() +
                  ": the API server cannot load it and every call fails",
              fix);
      continue;
    }
    const core::CertificateInfo& newest = *std::max_element(
        parsed->begin(), parsed->end(),
        [](const core::CertificateInfo& a, const core::CertificateInfo& b) { return a.not_after < b.not_after; });
    if (newest.not_after <= now) {
      out.add(Severity::kDeny, v.ca_bundle_path,
              "every caBundle certificate of " + v.label + " has expired (newest: " +
                  short_subject(newest.subject) + ", notAfter " + newest.not_after_text + "): every call fails",
              "renew the CA and put the new certificate in " + v.ca_bundle_path);
    } else if (newest.not_after - now < warn_window) {
      // Rounded up: "expires in 0 days" would read as already expired.
      const std::int64_t days = (newest.not_after - now + kSecondsPerDay - 1) / kSecondsPerDay;
      out.add(Severity::kWarn, v.ca_bundle_path,
              "the caBundle of " + v.label + " expires in " + std::to_string(days) + " day(s) (newest: " +
                  short_subject(newest.subject) + ", notAfter " + newest.not_after_text +
                  "): calls will then fail verification",
              "renew the CA before " + newest.not_after_text + " and add the new certificate to " +
                  v.ca_bundle_path + " (keep the old one until the serving certificate is reissued)");
    }
  }
}

// ------------------------------------------------------ webhook-self-lockout

// What pods need to start and a Deployment rollout touches, by API group:
// the pods themselves (and the status/binding writes of kubelet and
// scheduler), the workload objects whose controllers create them, the
// endpoints that put the webhook back behind its Service, and the leases of
// leader election. A fail-closed webhook matching anything else (Ingress,
// custom resources, ConfigMaps) cannot keep the webhook's own pods down.
struct Critical {
  std::string_view group;
  std::string_view resource;
};
constexpr std::array<Critical, 13> kCritical = {{
    {"", "pods"},
    {"", "pods/status"},
    {"", "pods/binding"},
    {"", "endpoints"},
    {"apps", "deployments"},
    {"apps", "replicasets"},
    {"apps", "statefulsets"},
    {"apps", "daemonsets"},
    {"apps", "controllerrevisions"},
    {"batch", "jobs"},
    {"batch", "cronjobs"},
    {"discovery.k8s.io", "endpointslices"},
    {"coordination.k8s.io", "leases"},
}};

bool rule_matches(const std::vector<std::string>& list, std::string_view value) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& v) { return v == "*" || v == value; });
}

// Whether a resource pattern of a rule ("pods", "pods/*", "*", "*/status")
// covers `resource` ("pods" or "pods/status").
bool resource_matches(const std::string& pattern, std::string_view resource) {
  if (pattern == "*" || pattern == resource) return true;
  const std::size_t slash = resource.find('/');
  const std::string_view main = resource.substr(0, slash);
  const std::string_view sub = slash == std::string_view::npos ? "" : resource.substr(slash + 1);
  const std::size_t pslash = pattern.find('/');
  if (pslash == std::string::npos || sub.empty()) return false;
  const std::string_view pmain = std::string_view(pattern).substr(0, pslash);
  const std::string_view psub = std::string_view(pattern).substr(pslash + 1);
  return (pmain == main || pmain == "*") && (psub == sub || psub == "*");
}

// The resources pods need to start that a webhook's rules match (their
// plural names, e.g. "pods, deployments"); empty when none.
std::vector<std::string> critical_resources(const core::Webhook& w) {
  std::vector<std::string> out;
  for (const core::RuleWithOperations& rule : w.rules) {
    // Cluster-scoped resources live in no namespace.
    if (rule.scope == "Cluster") continue;
    // CONNECT (exec, port-forward) and DELETE alone do not stop a rollout.
    if (!rule_matches(rule.operations, "CREATE") && !rule_matches(rule.operations, "UPDATE")) continue;
    for (const Critical& c : kCritical) {
      if (!rule_matches(rule.api_groups, c.group)) continue;
      const bool hit = std::any_of(rule.resources.begin(), rule.resources.end(),
                                   [&](const std::string& p) { return resource_matches(p, c.resource); });
      const std::string name(c.resource.substr(0, c.resource.find('/')));
      if (hit && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

// An objectSelector that requires a label (matchLabels, In, Exists) limits
// the webhook to objects that opted in; NotIn / DoesNotExist only opt out.
// matchConditions are CEL we do not evaluate: they are the other way to
// scope a webhook, so their presence counts as a limit.
bool limited_to_opted_in(const core::Webhook& w) {
  if (w.match_conditions > 0) return true;
  const core::LabelSelector& sel = w.object_selector;
  if (!sel.present) return false;
  if (!sel.match_labels.empty()) return true;
  return std::any_of(sel.match_expressions.begin(), sel.match_expressions.end(),
                     [](const core::LabelSelectorRequirement& r) { return r.op == "In" || r.op == "Exists"; });
}

// Whether the namespaceSelector keeps the webhook out of `ns`, judged on the
// namespace's labels as the view holds them (its Namespace object plus
// `kubernetes.io/metadata.name`): an install that labels its own Namespace so
// that its selector skips it is excluded, one whose selector misses the
// labels it sets is not.
//
// A namespace the view does not hold (kube-system in lint, or an install's
// namespace created elsewhere) is judged as namespaces are created, carrying
// only its name label: a requirement that needs another label (matchLabels,
// In, Exists) excludes it, one that only rules labels out (NotIn,
// DoesNotExist) does not, since nothing in the view puts those labels there.
// Except that a NotIn listing the namespace's own name, on whatever key,
// shows the intent to exclude it through a label set outside the view
// (cert-manager's `name NotIn [cert-manager]`): that is not a warning.
bool excludes_namespace(const policy::Context& ctx, const core::LabelSelector& sel, const std::string& ns) {
  if (!sel.present || sel.empty()) return false;
  switch (policy::namespace_matches(ctx, sel, ns)) {
    case policy::Tri::kNo:
      return true;
    case policy::Tri::kYes:
      return false;
    case policy::Tri::kUnknown:
      break;
  }
  if (!sel.matches({{"kubernetes.io/metadata.name", ns}})) return true;
  return std::any_of(sel.match_expressions.begin(), sel.match_expressions.end(),
                     [&](const core::LabelSelectorRequirement& req) {
                       return req.op == "NotIn" &&
                              std::find(req.values.begin(), req.values.end(), ns) != req.values.end();
                     });
}

// The fix for namespaces the selector leaves exposed: extend the selector's
// own `kubernetes.io/metadata.name NotIn` when it has one (a second
// requirement beside it would read as a different intent), else add one.
std::string lockout_fix(const core::Webhook& w, const std::string& list) {
  const std::string at = "webhooks[" + std::to_string(w.index) + "].namespaceSelector";
  const std::vector<core::LabelSelectorRequirement>& reqs = w.namespace_selector.match_expressions;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    if (reqs[i].key == "kubernetes.io/metadata.name" && reqs[i].op == "NotIn") {
      return "add " + list + " to " + at + ".matchExpressions[" + std::to_string(i) +
             "].values, or set failurePolicy: Ignore";
    }
  }
  return "add to " + at + ".matchExpressions {key: kubernetes.io/metadata.name, operator: NotIn, values: [" +
         list + "]}, or set failurePolicy: Ignore";
}

void check_self_lockout(const RuleInput& in, FindingSink& out) {
  const core::WebhookConfiguration* wc = in.object.webhook_configuration();
  if (wc == nullptr) return;
  for (const core::Webhook& w : wc->webhooks) {
    if (!w.fails_closed() || limited_to_opted_in(w)) continue;
    const std::vector<std::string> at_risk = critical_resources(w);
    if (at_risk.empty()) continue;
    std::vector<std::string> critical = {"kube-system"};
    const core::ServiceReference& svc = w.client_config.service;
    if (w.client_config.service.present && !svc.ns.empty() && svc.ns != "kube-system") {
      critical.push_back(svc.ns);
    }
    std::vector<std::string> exposed;
    for (const std::string& ns : critical) {
      if (!excludes_namespace(in.context, w.namespace_selector, ns)) exposed.push_back(ns);
    }
    if (exposed.empty()) continue;
    std::string list;
    for (const std::string& ns : exposed) list += (list.empty() ? "" : ", ") + ns;
    std::string resources;
    for (std::size_t i = 0; i < at_risk.size() && i < 4; ++i) resources += (i ? ", " : "") + at_risk[i];
    if (at_risk.size() > 4) resources += " and " + std::to_string(at_risk.size() - 4) + " more";
    out.add(Severity::kWarn, "webhooks[" + std::to_string(w.index) + "].namespaceSelector",
            "fails closed on " + resources + " in " + list +
                ": while it is down, pods there cannot start, including its own",
            lockout_fix(w, list));
  }
}

// -------------------------------------------------- webhook-timeout-too-long

// The high-volume built-in resources (builtin_resources.hpp) a webhook's
// rules match, by plural ("pods, leases"); empty when none.
std::vector<std::string> high_volume_resources(const core::Webhook& w) {
  std::vector<std::string> out;
  for (const core::RuleWithOperations& rule : w.rules) {
    for (const policy::BuiltinResource& r : policy::builtin_resources()) {
      if (!r.high_volume || !rule_matches(rule.api_groups, r.group)) continue;
      const bool hit = std::any_of(rule.resources.begin(), rule.resources.end(),
                                   [&](const std::string& p) { return resource_matches(p, r.resource); });
      const std::string name(r.resource.substr(0, r.resource.find('/')));
      if (hit && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

// A selector that requires a label (matchLabels, In, Exists) narrows the
// webhook to what opted in; one that only rules labels out (NotIn,
// DoesNotExist) still sees nearly every request.
bool requires_label(const core::LabelSelector& sel) {
  if (!sel.present) return false;
  if (!sel.match_labels.empty()) return true;
  return std::any_of(sel.match_expressions.begin(), sel.match_expressions.end(),
                     [](const core::LabelSelectorRequirement& r) { return r.op == "In" || r.op == "Exists"; });
}

// A webhook holds each request it matches until it answers or timeoutSeconds
// pass; then the API server fails the request (Fail) or admits it (Ignore).
// kubectl and client-go set no request timeout of their own, so the caller
// simply waits. That is a cluster-wide stall only when the webhook fails
// closed on what controllers and kubelets write all the time, unnarrowed;
// anything else is advice.
void check_timeout(const RuleInput& in, FindingSink& out) {
  const core::WebhookConfiguration* wc = in.object.webhook_configuration();
  if (wc == nullptr) return;
  for (const core::Webhook& w : wc->webhooks) {
    if (!w.timeout_seconds || *w.timeout_seconds <= kMaxTimeoutSeconds) continue;
    const std::string at = "webhooks[" + std::to_string(w.index) + "].timeoutSeconds";
    const std::string secs = std::to_string(*w.timeout_seconds) + "s";
    const std::vector<std::string> busy = high_volume_resources(w);
    const bool narrowed =
        w.match_conditions > 0 || requires_label(w.object_selector) || requires_label(w.namespace_selector);
    if (w.fails_closed() && !busy.empty() && !narrowed) {
      std::string resources;
      for (std::size_t i = 0; i < busy.size() && i < 3; ++i) resources += (i ? ", " : "") + busy[i];
      if (busy.size() > 3) resources += " and " + std::to_string(busy.size() - 3) + " more";
      out.add(Severity::kWarn, at,
              "webhook \"" + w.name + "\" fails closed on " + resources + " cluster-wide with timeoutSeconds " +
                  secs + ": while it hangs, each of those writes waits " + secs + " and is then rejected",
              "set timeoutSeconds to 15 or less (the API default is 10), or narrow the webhook with an "
              "objectSelector or namespaceSelector that requires a label");
      continue;
    }
    const std::string why = !w.fails_closed() ? "failurePolicy Ignore then admits the request"
                            : busy.empty()    ? "it matches no high-volume built-in resource"
                                              : "its selectors limit it to opted-in objects";
    out.add(Severity::kInfo, at,
            "webhook \"" + w.name + "\" may hold each matching request for up to " + secs + " (" + why + ")",
            "set timeoutSeconds to 15 or less (the API default is 10) unless the webhook needs longer");
  }
}

// ----------------------------------------------- apiservice-insecure-skip-tls

void check_apiservice_insecure(const RuleInput& in, FindingSink& out) {
  const core::APIService* api = in.object.api_service();
  if (api == nullptr || !api->insecure_skip_tls_verify) return;
  out.add(Severity::kWarn, "spec.insecureSkipTLSVerify",
          "the API server accepts any certificate from the APIService backend: whoever can answer for " +
              (api->service.present ? service_dns_name(api->service) : std::string("the service")) +
              " serves this API group",
          "remove insecureSkipTLSVerify and set spec.caBundle (or annotate with "
          "cert-manager.io/inject-ca-from)");
}

}  // namespace

WIRECHECK_REGISTER_RULE(webhook_missing_ca_bundle, {
    .id = "webhook-missing-ca-bundle",
    .title = "Service-backed webhook or APIService without caBundle or CA injection",
    .severity = Severity::kWarn,
    .severities = "warn / info / deny",
    .kinds = {Kind::kValidatingWebhookConfiguration,
              Kind::kMutatingWebhookConfiguration,
              Kind::kCustomResourceDefinition, Kind::kAPIService},
    // Not needs_context: without an RBAC view it still runs and keeps warn.
    .context_kinds = policy::producer_kinds(),
    .failure = "The API server cannot verify the service's serving certificate: every admission, "
               "conversion or aggregated API call fails with x509: certificate signed by unknown authority. "
               "Info instead when a workload of the view may patch the object (its ServiceAccount is "
               "bound to a ClusterRole, aggregated or not, allowing update/patch on it: a certgen Job, a "
               "cert-rotating controller), and for the conversion webhook of a CRD that serves one "
               "version (never called). Deny when an UPDATE removes a caBundle that nothing re-injects, and in the "
               "cluster audit.",
    .fix = "Set caBundle to the base64 PEM of the serving CA, or annotate the object with "
           "cert-manager.io/inject-ca-from (or another CA-injection annotation).",
    .check = &check_missing_ca_bundle})

WIRECHECK_REGISTER_RULE(webhook_ca_bundle_invalid, {
    .id = "webhook-ca-bundle-invalid",
    .title = "caBundle is not a usable PEM certificate, is expired or expires soon",
    .severity = Severity::kDeny,
    .severities = "deny / warn",
    .kinds = {Kind::kValidatingWebhookConfiguration,
              Kind::kMutatingWebhookConfiguration,
              Kind::kCustomResourceDefinition, Kind::kAPIService},
    .failure = "The API server cannot load the bundle, or every CA in it has expired: every call to the "
               "webhook, conversion webhook or APIService fails TLS verification.",
    .fix = "Put base64(PEM) of the current CA certificate in caBundle (base64 -w0 ca.crt) and renew it "
           "before it expires, or let cert-manager inject it.",
    .check = &check_ca_bundle_invalid})

WIRECHECK_REGISTER_RULE(webhook_self_lockout, {
    .id = "webhook-self-lockout",
    .title = "Fail-closed webhook can block kube-system or its own namespace",
    .severity = Severity::kWarn,
    .severities = "warn",
    .kinds = {Kind::kValidatingWebhookConfiguration,
              Kind::kMutatingWebhookConfiguration},
    // Not needs_context: without Namespace objects only the name label is known.
    .context_kinds = {Kind::kNamespace},
    .failure = "While the webhook is down, requests for what pods need to start (pods, workload "
               "objects, endpoints, leases) in kube-system or in the webhook's own namespace are "
               "rejected, including those that would bring it back: the cluster locks itself out. "
               "Rules matching only other kinds (Ingress, custom resources), and webhooks whose "
               "objectSelector or matchConditions limit them to opted-in objects, cannot.",
    .fix = "Exclude kube-system and the webhook's namespace with a namespaceSelector on "
           "kubernetes.io/metadata.name, or use failurePolicy: Ignore.",
    .check = &check_self_lockout})

WIRECHECK_REGISTER_RULE(webhook_timeout_too_long, {
    .id = "webhook-timeout-too-long",
    .title = "Webhook timeoutSeconds above 15",
    .severity = Severity::kWarn,
    .severities = "warn / info",
    .kinds = {Kind::kValidatingWebhookConfiguration,
              Kind::kMutatingWebhookConfiguration},
    .failure = "A slow or hung webhook holds each matching API request for up to timeoutSeconds (kubectl and "
               "client-go set no timeout of their own; the API server's request limit is 60 s). Warn when it "
               "fails closed on high-volume built-in resources (pods, leases, events, endpoints, workload "
               "objects) with no selector requiring a label: writes stall cluster-wide, then fail. Info for "
               "failurePolicy Ignore, webhooks for their own API groups, and narrowed ones.",
    .fix = "Set timeoutSeconds to 15 or less (the API default is 10), or narrow the webhook with an "
           "objectSelector or namespaceSelector.",
    .check = &check_timeout})

WIRECHECK_REGISTER_RULE(apiservice_insecure_skip_tls, {
    .id = "apiservice-insecure-skip-tls",
    .title = "APIService skips TLS verification",
    .severity = Severity::kWarn,
    .severities = "warn",
    .kinds = {Kind::kAPIService},
    .failure = "The API server accepts any certificate from the aggregated API backend, so anything that "
               "can answer for the Service can serve (and read) that API group.",
    .fix = "Remove insecureSkipTLSVerify and set spec.caBundle, or use cert-manager CA injection.",
    .check = &check_apiservice_insecure})

}  // namespace wirecheck::rules
