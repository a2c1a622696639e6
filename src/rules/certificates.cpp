// cert-manager Certificates that serve in-cluster Services. For a
// service-backed webhook, conversion webhook or APIService the API server
// dials the Service and verifies the name `<svc>.<ns>.svc`; a Certificate
// without it produces "x509: certificate is valid for ..., not <svc>.<ns>.svc"
// on every call. Which Service a Certificate serves is read from its own
// dnsNames (matched against Services in the context) and from the
// `cert-manager.io/inject-ca-from: <ns>/<certificate>` annotation of the
// objects that trust it.
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/client_configs.hpp"
#include "rules/names.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::rules {
namespace {

using core::Kind;
using policy::FindingSink;
using policy::RuleInput;
using policy::Severity;

struct ServedService {
  std::string ns;
  std::string name;
  // Set when a webhook configuration, CRD or APIService trusts this
  // Certificate's CA for the Service: a missing SAN then breaks real calls.
  std::string injected_by;  // "ValidatingWebhookConfiguration foo", "" when none
};

std::vector<std::string> split_labels(std::string_view dns) {
  std::vector<std::string> labels;
  std::size_t start = 0;
  while (start <= dns.size()) {
    std::size_t dot = dns.find('.', start);
    if (dot == std::string_view::npos) dot = dns.size();
    labels.emplace_back(dns.substr(start, dot - start));
    start = dot + 1;
  }
  return labels;
}

// The Service a dnsName refers to by in-cluster DNS: `<svc>` (own namespace),
// `<svc>.<ns>`, `<svc>.<ns>.svc[.<cluster domain>]`.
std::optional<std::pair<std::string, std::string>> service_of_dns_name(std::string_view dns,
                                                                        std::string_view own_ns) {
  if (dns.empty() || dns.front() == '*') return std::nullopt;
  std::vector<std::string> l = split_labels(dns);
  if (std::any_of(l.begin(), l.end(), [](const std::string& s) { return s.empty(); })) return std::nullopt;
  if (l.size() == 1) return std::make_pair(std::string(own_ns), l[0]);
  if (l.size() == 2) return std::make_pair(l[1], l[0]);
  if (l[2] == "svc") return std::make_pair(l[1], l[0]);
  return std::nullopt;
}

bool covered(const core::Certificate& cert, std::string_view name) {
  return std::any_of(cert.dns_names.begin(), cert.dns_names.end(),
                     [&](const std::string& san) { return san_covers(san, name); });
}

void add_served(std::vector<ServedService>& out, std::string ns, std::string name, std::string injected_by) {
  for (ServedService& s : out) {
    if (s.ns == ns && s.name == name) {
      if (s.injected_by.empty()) s.injected_by = std::move(injected_by);
      return;
    }
  }
  out.push_back({std::move(ns), std::move(name), std::move(injected_by)});
}

std::vector<ServedService> served_services(const core::Object& obj, const core::Certificate& cert,
                                           const policy::Context& ctx) {
  std::vector<ServedService> out;
  for (const std::string& dns : cert.dns_names) {
    auto svc = service_of_dns_name(dns, obj.ns());
    if (svc && ctx.find(Kind::kService, svc->first, svc->second) != nullptr) {
      add_served(out, svc->first, svc->second, "");
    }
  }
  const std::string self = obj.ns() + "/" + obj.name();
  for (Kind kind : {Kind::kValidatingWebhookConfiguration, Kind::kMutatingWebhookConfiguration,
                    Kind::kCustomResourceDefinition, Kind::kAPIService}) {
    for (const core::Object* user : ctx.list_all_annotated(kind, kInjectCaFrom, self)) {
      for (const ClientConfigView& v : client_configs(*user)) {
        if (v.service == nullptr || v.service->name.empty() || v.service->ns.empty()) continue;
        add_served(out, v.service->ns, v.service->name, std::string(core::kind_name(kind)) + " " + user->name());
      }
    }
  }
  return out;
}

// ------------------------------------------- certificate-missing-service-san

void check_missing_service_san(const RuleInput& in, FindingSink& out) {
  const core::Certificate* cert = in.object.certificate();
  if (cert == nullptr) return;
  for (const ServedService& s : served_services(in.object, *cert, in.context)) {
    const std::string required = s.name + "." + s.ns + ".svc";
    if (covered(*cert, required)) continue;
    const std::string fix = "add " + required + " to spec.dnsNames";
    if (!s.injected_by.empty()) {
      out.add(Severity::kDeny, "spec.dnsNames",
              "dnsNames lack " + required + ", which " + s.injected_by +
                  " (inject-ca-from) dials: every call fails with an x509 name mismatch",
              fix);
    } else {
      out.add(Severity::kWarn, "spec.dnsNames",
              "names Service " + s.ns + "/" + s.name + " but lacks " + required +
                  ", the name the API server and most clients verify",
              fix);
    }
  }
}

// --------------------------------------- certificate-incomplete-service-sans

void check_incomplete_service_sans(const RuleInput& in, FindingSink& out) {
  const core::Certificate* cert = in.object.certificate();
  if (cert == nullptr) return;
  for (const ServedService& s : served_services(in.object, *cert, in.context)) {
    // `<svc>.<ns>.svc` itself is certificate-missing-service-san's business.
    std::vector<std::string> wanted = {s.name + "." + s.ns + ".svc.cluster.local", s.name + "." + s.ns};
    if (s.ns == in.object.ns()) wanted.push_back(s.name);
    std::string missing;
    for (const std::string& name : wanted) {
      if (!covered(*cert, name)) missing += (missing.empty() ? "" : ", ") + name;
    }
    if (missing.empty()) continue;
    out.add(Severity::kInfo, "spec.dnsNames",
            "Certificate for Service " + s.ns + "/" + s.name + " lacks " + missing +
                ": clients dialing those names fail verification",
            "add " + missing + " to spec.dnsNames");
  }
}

}  // namespace

WIRECHECK_REGISTER_RULE(certificate_missing_service_san, {
    .id = "certificate-missing-service-san",
    .title = "Certificate for a Service lacks <svc>.<ns>.svc",
    .severity = Severity::kDeny,
    .severities = "deny / warn",
    .kinds = {Kind::kCertificate},
    .needs_context = true,
    .context_kinds = {Kind::kService, Kind::kValidatingWebhookConfiguration,
                      Kind::kMutatingWebhookConfiguration, Kind::kCustomResourceDefinition,
                      Kind::kAPIService},
    .failure = "The API server verifies <svc>.<ns>.svc when calling a service-backed webhook, "
               "conversion webhook or APIService; without that SAN every call fails with an x509 "
               "name mismatch.",
    .fix = "Add <svc>.<ns>.svc (and <svc>.<ns>.svc.cluster.local) to spec.dnsNames.",
    .check = &check_missing_service_san})

WIRECHECK_REGISTER_RULE(certificate_incomplete_service_sans, {
    .id = "certificate-incomplete-service-sans",
    .title = "Certificate for a Service lacks the cluster-domain or short DNS names",
    .severity = Severity::kInfo,
    .severities = "info",
    .kinds = {Kind::kCertificate},
    .needs_context = true,
    .context_kinds = {Kind::kService, Kind::kValidatingWebhookConfiguration,
                      Kind::kMutatingWebhookConfiguration, Kind::kCustomResourceDefinition,
                      Kind::kAPIService},
    .failure = "Clients that dial the Service as <svc>.<ns>.svc.cluster.local, <svc>.<ns> or <svc> "
               "fail TLS verification even though the API server's calls work.",
    .fix = "List <svc>, <svc>.<ns>, <svc>.<ns>.svc and <svc>.<ns>.svc.cluster.local in spec.dnsNames.",
    .check = &check_incomplete_service_sans})

}  // namespace wirecheck::rules
