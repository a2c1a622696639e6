// Rules on how the API server reaches admission webhooks, CRD conversion
// webhooks and APIServices: the CA it verifies them with, how long it waits,
// and whether a webhook that is down can block its own recovery. The Service
// side (does the target exist, may it be deleted) is in webhook_service.cpp.
#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "rules/client_configs.hpp"
#include "wirecheck/ca_bundle.hpp"
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

void check_missing_ca_bundle(const RuleInput& in, FindingSink& out) {
  // An injector (cert-manager cainjector, OpenShift service-ca) fills the
  // field after apply; an empty bundle is the expected manifest shape.
  if (ca_injection_annotation(in.object) != nullptr) return;
  for (const ClientConfigView& v : client_configs(in.object)) {
    // URL-backed configs may rely on the system roots; only service-backed
    // ones always need a private CA.
    if (v.service == nullptr || !v.ca_bundle->empty() || v.insecure_skip_tls_verify) continue;
    const std::string dns = service_dns_name(*v.service);
    const std::string fix =
        "set " + v.ca_bundle_path + " to the base64 PEM of the CA that signed " + dns +
        "'s certificate, or add the annotation cert-manager.io/inject-ca-from: <namespace>/<certificate>";
    if (in.operation == Operation::kUpdate && had_ca_bundle(in.old_object, v)) {
      out.add(Severity::kDeny, v.ca_bundle_path,
              "this update removes the caBundle of " + v.label + ": calls to " + dns +
                  " fail (x509: certificate signed by unknown authority)",
              fix);
      continue;
    }
    // In lint and admission a job may still patch the bundle in after apply;
    // a live cluster that still has none is broken.
    const Severity sev = in.context.complete() ? Severity::kDeny : Severity::kWarn;
    out.add(sev, v.ca_bundle_path,
            v.label + " has no caBundle nor CA-injection annotation: calls to " + dns +
                " fail (x509: certificate signed by unknown authority)",
            fix);
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

// Built-in API groups hold what a webhook needs to recover (its pods, their
// leases, endpoints, RBAC). Custom groups always contain a dot and may not use
// the protected *.k8s.io suffix, so this tells them apart without a list.
bool is_builtin_group(std::string_view group) {
  if (group == "*" || group.empty()) return true;
  if (group.find('.') == std::string_view::npos) return true;  // apps, batch, policy, ...
  constexpr std::string_view kSuffix = ".k8s.io";
  return group.size() > kSuffix.size() && group.substr(group.size() - kSuffix.size()) == kSuffix;
}

bool can_lock_out(const core::RuleWithOperations& rule) {
  // Cluster-scoped resources live in no namespace.
  if (rule.scope == "Cluster") return false;
  return std::any_of(rule.api_groups.begin(), rule.api_groups.end(),
                     [](const std::string& g) { return is_builtin_group(g); });
}

// Whether the namespaceSelector keeps the webhook out of `ns`. Namespace
// labels are unknown except `kubernetes.io/metadata.name`, which the API
// server sets on every namespace; an explicit NotIn listing the namespace
// shows the intent to exclude it through a label we cannot see.
bool excludes_namespace(const core::LabelSelector& sel, const std::string& ns) {
  if (!sel.present || sel.empty()) return false;
  if (!sel.matches({{"kubernetes.io/metadata.name", ns}})) return true;
  for (const core::LabelSelectorRequirement& req : sel.match_expressions) {
    if (req.op == "NotIn" && std::find(req.values.begin(), req.values.end(), ns) != req.values.end()) {
      return true;
    }
  }
  return false;
}

void check_self_lockout(const RuleInput& in, FindingSink& out) {
  const core::WebhookConfiguration* wc = in.object.webhook_configuration();
  if (wc == nullptr) return;
  for (const core::Webhook& w : wc->webhooks) {
    if (!w.fails_closed()) continue;
    if (std::none_of(w.rules.begin(), w.rules.end(), can_lock_out)) continue;
    std::vector<std::string> critical = {"kube-system"};
    const core::ServiceReference& svc = w.client_config.service;
    if (w.client_config.service.present && !svc.ns.empty() && svc.ns != "kube-system") {
      critical.push_back(svc.ns);
    }
    std::vector<std::string> exposed;
    for (const std::string& ns : critical) {
      if (!excludes_namespace(w.namespace_selector, ns)) exposed.push_back(ns);
    }
    if (exposed.empty()) continue;
    std::string list;
    for (const std::string& ns : exposed) list += (list.empty() ? "" : ", ") + ns;
    out.add(Severity::kWarn, "webhooks[" + std::to_string(w.index) + "].namespaceSelector",
            "webhook \"" + w.name + "\" fails closed on built-in objects in " + list +
                ": while it is down it blocks changes there, including its own recovery",
            "exclude them with namespaceSelector.matchExpressions: [{key: kubernetes.io/metadata.name, "
            "operator: NotIn, values: [" + list + "]}], or set failurePolicy: Ignore");
  }
}

// -------------------------------------------------- webhook-timeout-too-long

void check_timeout(const RuleInput& in, FindingSink& out) {
  const core::WebhookConfiguration* wc = in.object.webhook_configuration();
  if (wc == nullptr) return;
  for (const core::Webhook& w : wc->webhooks) {
    if (!w.timeout_seconds || *w.timeout_seconds <= kMaxTimeoutSeconds) continue;
    out.add(Severity::kWarn, "webhooks[" + std::to_string(w.index) + "].timeoutSeconds",
            "webhook \"" + w.name + "\" may hold every matching API request for " +
                std::to_string(*w.timeout_seconds) +
                "s; clients and controllers time out first and retry, piling up load",
            "set timeoutSeconds to 15 or less (the default is 10) and keep the webhook fast");
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
    .severities = "warn / deny",
    .kinds = {Kind::kValidatingWebhookConfiguration,
              Kind::kMutatingWebhookConfiguration,
              Kind::kCustomResourceDefinition, Kind::kAPIService},
    .failure = "The API server cannot verify the service's serving certificate: every admission, "
               "conversion or aggregated API call fails with x509: certificate signed by unknown authority. "
               "Deny when an UPDATE removes a caBundle that was set, and in the cluster audit.",
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
    .failure = "While the webhook is down, requests for built-in objects in kube-system or in the "
               "webhook's own namespace are rejected, including the pods and leases needed to bring it "
               "back: the cluster locks itself out.",
    .fix = "Exclude kube-system and the webhook's namespace with a namespaceSelector on "
           "kubernetes.io/metadata.name, or use failurePolicy: Ignore.",
    .check = &check_self_lockout})

WIRECHECK_REGISTER_RULE(webhook_timeout_too_long, {
    .id = "webhook-timeout-too-long",
    .title = "Webhook timeoutSeconds above 15",
    .severity = Severity::kWarn,
    .severities = "warn",
    .kinds = {Kind::kValidatingWebhookConfiguration,
              Kind::kMutatingWebhookConfiguration},
    .failure = "A slow or hung webhook holds each matching API request for up to timeoutSeconds; "
               "clients time out first and retry, and the API server piles up requests.",
    .fix = "Set timeoutSeconds to 15 or less (default 10).",
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
