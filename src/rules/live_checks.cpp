// The live checks of RULES.md ("Live checks"): registered here for their
// metadata only (`wirecheck rules`, docs/rules.md, SARIF, configuration
// overrides and exemptions). Whether a webhook's server answers, and with
// which certificate, is a fact about the network, not about the object, so
// these rules cannot be pure functions of (object, context): the audit's
// prober (src/cluster/live_probe.hpp) connects and reports findings under
// these ids, and Engine::finish applies overrides and exemptions to them.
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

}  // namespace wirecheck::rules
