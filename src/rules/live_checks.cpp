// The live checks of RULES.md ("Live checks"): registered here for their
// metadata only (`wirecheck rules`, docs/rules.md, SARIF, configuration
// overrides and exemptions). Whether a webhook's server answers, and with
// which certificate, is a fact about the network, not about the object, so
// these rules cannot be pure functions of (object, context): the audit's
// prober (src/cluster/live_probe.hpp) connects and reports findings under
// these ids, and Engine::finish applies overrides and exemptions to them.
// The scrape rules come from the scrape probe (src/cluster/scrape_probe.hpp).
// The engine never runs them (no check, no operations).
#include "wirecheck/rule.hpp"

namespace wirecheck::rules {
namespace {
using core::Kind;
using policy::Severity;
}  // namespace

WIRECHECK_REGISTER_RULE(webhook_endpoint_unreachable, {
    .id = "webhook-endpoint-unreachable",
    .title = "Live check: the webhook, conversion webhook or APIService server cannot be reached",
    .severity = Severity::kDeny,
    .severities = "deny / warn",
    .kinds = {Kind::kValidatingWebhookConfiguration, Kind::kMutatingWebhookConfiguration,
              Kind::kCustomResourceDefinition, Kind::kAPIService},
    .failure = "The Service has no ready endpoints, or the TCP connection to it is refused or times out: "
               "every call fails (failurePolicy Fail rejects the matching requests, conversions and the "
               "aggregated API fail). Deny for failurePolicy Fail, conversion webhooks and APIServices, "
               "warn for failurePolicy Ignore.",
    .fix = "Make the webhook's pods Ready behind the Service (kubectl get endpointslices -l "
           "kubernetes.io/service-name=<svc>), check the Service's targetPort and the server's listen "
           "address, or delete the configuration of a webhook that is gone.",
    .live = true})

WIRECHECK_REGISTER_RULE(webhook_tls_untrusted, {
    .id = "webhook-tls-untrusted",
    .title = "Live check: the served certificate does not verify against caBundle for <svc>.<ns>.svc",
    .severity = Severity::kDeny,
    .severities = "deny / warn",
    .kinds = {Kind::kValidatingWebhookConfiguration, Kind::kMutatingWebhookConfiguration,
              Kind::kCustomResourceDefinition, Kind::kAPIService},
    .failure = "The API server verifies the serving certificate against the object's caBundle for the name "
               "<svc>.<ns>.svc (or the URL's host): an unknown authority, a missing name, an expired or "
               "not yet valid certificate makes every call fail with an x509 error. Deny for failurePolicy "
               "Fail, conversion webhooks and APIServices, warn for failurePolicy Ignore.",
    .fix = "Serve a certificate issued by the CA in caBundle whose SANs include <svc>.<ns>.svc (or update "
           "caBundle to the CA that issued the served certificate); renew expired certificates.",
    .live = true})

WIRECHECK_REGISTER_RULE(scrape_tls_name_mismatch, {
    .id = "scrape-tls-name-mismatch",
    .title = "Live check: the certificate a scrape target serves does not cover the name Prometheus verifies",
    .severity = Severity::kDeny,
    .kinds = {Kind::kServiceMonitor},
    .needs_context = true,
    .context_kinds = {Kind::kService},
    .failure = "For an https endpoint Prometheus verifies the served certificate for tlsConfig.serverName, or, "
               "without one, for the target's IP address, which only an IP SAN covers (a DNS SAN never matches "
               "an IP; the Common Name is ignored). The target stays down; Prometheus 2.42 (Debian's) shows "
               "in its lastError, as the e2e test observed it: `Get \"https://127.0.0.1:44415/metrics\": x509: "
               "cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs` (no "
               "serverName, DNS SANs only), or `Get \"https://127.0.0.1:33297/metrics\": x509: certificate is "
               "valid for web.<ns>.svc, web, not other.<ns>.svc` (a serverName the SANs do not cover; <ns> is "
               "the test's namespace), or `x509: certificate relies on legacy Common Name field, use SANs "
               "instead` (a Common Name and no SAN extension). The probe connects to a few ready EndpointSlice addresses of each "
               "selected Service, handshakes as Prometheus does (SNI serverName), and judges the leaf with Go's "
               "rules; the message carries the same x509 error, its class (ip-sans, name-not-covered) and the "
               "SANs served.",
    .fix = "Set tlsConfig.serverName to a name the served SANs cover, preferably <svc>.<ns>.svc (the message "
           "names one), or reissue the serving certificate with that DNS SAN.",
    .live = true})

WIRECHECK_REGISTER_RULE(scrape_tls_untrusted, {
    .id = "scrape-tls-untrusted",
    .title = "Live check: the certificate a scrape target serves does not verify against the monitor's CA, or is "
             "expired",
    .severity = Severity::kDeny,
    .kinds = {Kind::kServiceMonitor},
    .needs_context = true,
    .context_kinds = {Kind::kService},
    .failure = "Prometheus verifies the served chain against tlsConfig.ca and rejects a certificate outside its "
               "validity period, the leaf's or a CA's. The target stays down; Prometheus 2.42 (Debian's) shows "
               "in its lastError, as the e2e test observed it: `Get \"https://127.0.0.1:41851/metrics\": x509: "
               "certificate signed by unknown authority` (a CA the monitor does not name), or `Get "
               "\"https://127.0.0.1:38929/metrics\": x509: certificate has expired or is not yet valid: current "
               "time 2026-12-07T16:12:35Z is after 2020-01-02T00:00:00Z` (the same for an expired CA), or "
               "`x509: certificate specifies an incompatible key usage` (a leaf for client use only). The chain "
               "is checked when the CA is readable: a ConfigMap always, a Secret only with --probe-read-secrets "
               "(read by name, never logged); otherwise only the validity is, and the message says so. The "
               "message carries the same x509 error, its class (expired, unknown-authority, chain-invalid) and "
               "the served subject, issuer and notAfter.",
    .fix = "Put the CA that issued the served certificate into the ConfigMap or Secret tlsConfig.ca names (or "
           "serve a certificate issued by that CA); renew an expired certificate and make the server load it.",
    .live = true})

}  // namespace wirecheck::rules
