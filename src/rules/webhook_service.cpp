// The Service side of webhooks, conversion webhooks and APIServices: the
// referenced Service must exist and expose the port the API server dials, and
// deleting it breaks every call routed to it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/client_configs.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::rules {
namespace {

using core::Kind;
using policy::FindingSink;
using policy::RuleInput;
using policy::Severity;

std::string port_list(const core::Service& svc) {
  std::string out;
  for (const core::ServicePort& p : svc.ports) {
    if (!out.empty()) out += ", ";
    out += std::to_string(p.port);
    if (!p.name.empty()) out += " (" + p.name + ")";
  }
  return out.empty() ? "none" : out;
}

// --------------------------------------------------- webhook-service-missing

// Who may rewrite `object` itself at run time (an operator that updates
// its CRDs' or webhook configurations' clientConfig on start-up).
std::optional<policy::Producer> rewriter(const policy::Context& ctx, const core::Object& object) {
  std::string_view group, resource;
  if (!policy::rbac_resource(object.kind, group, resource)) return std::nullopt;
  return ctx.producers().may(ctx, {{"update", "patch"}, group, resource, "", object.name()});
}

void check_service_missing(const RuleInput& in, FindingSink& out) {
  for (const ClientConfigView& v : client_configs(in.object)) {
    if (v.service == nullptr || v.service->name.empty() || v.service->ns.empty()) continue;
    const core::ServiceReference& ref = *v.service;
    const core::Object* target = in.context.find(Kind::kService, ref.ns, ref.name);
    if (target == nullptr) {
      const policy::Context& ctx = in.context;
      const std::string cause = "Service " + service_id(ref) + " does not exist";
      const std::string missing = v.label + " calls Service " + service_id(ref) + ", which does not exist";
      if (v.never_called) {
        out.add_caused(Severity::kInfo, v.service_path + ".name",
                       missing + "; the CRD serves one version, so the API server never calls it", "", cause);
        continue;
      }
      // Made at run time: an operator that may create the Service, or
      // rewrite this clientConfig, completes the install after apply.
      std::optional<policy::Producer> producer =
          ctx.producers().may(ctx, {{"create"}, "", "services", ref.ns, ref.name});
      std::string made = "created";
      if (!producer) {
        producer = rewriter(ctx, in.object);
        made = "repointed";
      }
      // Without a producer the Service may simply be applied later or live
      // in another file; the running cluster shows it is not there.
      const Severity sev = policy::missing_counterpart_severity(
          ctx, producer, ctx.complete() ? Severity::kDeny : Severity::kWarn);
      if (producer && sev == Severity::kInfo) {
        out.add_caused(sev, v.service_path + ".name",
                       missing + " in the input; it may be " + made + " at run time by " + producer->describe(),
                       "", cause);
      } else if (producer) {
        out.add_caused(sev, v.service_path + ".name",
                       missing + " although " + producer->describe() + ": every call to it fails",
                       "check that " + producer->who() + " runs and why it has not " +
                           (made == "created" ? "created the Service" : "updated " + v.service_path),
                       cause);
      } else {
        out.add_caused(sev, v.service_path + ".name", missing + ": every call to it fails (service not found)",
                       "create Service " + service_id(ref) + " exposing port " + std::to_string(ref.port) +
                           ", or point " + v.service_path + " at the Service that runs the webhook",
                       cause);
      }
      continue;
    }
    const core::Service* svc = target->service();
    // ExternalName Services are resolved by DNS name; their port list is not consulted.
    if (svc == nullptr || svc->type == "ExternalName") continue;
    bool has_port = false;
    for (const core::ServicePort& p : svc->ports) has_port = has_port || p.port == ref.port;
    if (has_port) continue;
    out.add(Severity::kDeny, v.service_path + ".port",
            v.label + " calls Service " + service_id(ref) + " on port " + std::to_string(ref.port) +
                ", which it does not expose (ports: " + port_list(*svc) + "): every call fails",
            "set " + v.service_path + ".port to the Service port that forwards to the webhook server" +
                (svc->ports.size() == 1 ? " (" + std::to_string(svc->ports[0].port) + ")" : std::string()) +
                ", or add port " + std::to_string(ref.port) + " to the Service");
  }
}

// ---------------------------------------------- service-delete-breaks-webhook

bool references(const ClientConfigView& v, const core::Object& service) {
  return v.service != nullptr && v.service->ns == service.ns() && v.service->name == service.name();
}

void check_delete_breaks_webhook(const RuleInput& in, FindingSink& out) {
  const core::Object& svc = in.object;
  const std::string id = svc.ns() + "/" + svc.name();
  for (Kind kind : {Kind::kValidatingWebhookConfiguration, Kind::kMutatingWebhookConfiguration,
                    Kind::kCustomResourceDefinition, Kind::kAPIService}) {
    for (const core::Object* user : in.context.list_all(kind)) {
      for (const ClientConfigView& v : client_configs(*user)) {
        if (!references(v, svc)) continue;
        const std::string who = std::string(core::kind_name(kind)) + " " + user->name();
        // Admission webhooks with failurePolicy Ignore only lose their effect;
        // everything else turns into failed API requests.
        if (v.webhook != nullptr && !v.webhook->fails_closed()) {
          out.add(Severity::kWarn, "metadata.name",
                  who + " still sends " + v.label + " (failurePolicy Ignore) to " + id +
                      ": after the delete its checks are silently skipped",
                  "delete or repoint " + who + " first, then delete the Service");
          continue;
        }
        std::string effect;
        if (v.webhook != nullptr) {
          effect = "every request it matches is rejected cluster-wide (failurePolicy Fail)";
        } else if (kind == Kind::kCustomResourceDefinition) {
          effect = "reads and writes of " + user->name() + " needing conversion fail";
        } else {
          effect = "the aggregated API " + user->name() + " becomes unavailable and discovery degrades";
        }
        out.add(Severity::kDeny, "metadata.name",
                who + " still calls " + id + " (" + v.label + "): after the delete " + effect,
                "delete or repoint " + who + " (" + v.service_path + ") first, then delete the Service");
      }
    }
  }
}

}  // namespace

WIRECHECK_REGISTER_RULE(webhook_service_missing, {
    .id = "webhook-service-missing",
    .title = "Webhook, conversion webhook or APIService points at a missing Service or port",
    .severity = Severity::kDeny,
    .severities = "warn / deny",
    .kinds = {Kind::kValidatingWebhookConfiguration, Kind::kMutatingWebhookConfiguration,
              Kind::kCustomResourceDefinition, Kind::kAPIService},
    .needs_context = true,
    .context_kinds = {Kind::kService},
    .failure = "The API server cannot reach the webhook: admission requests (failurePolicy Fail), CRD "
               "conversions or the aggregated API fail with 'service not found' or connection errors. "
               "Info when something in the view makes the Service at run time (a workload whose "
               "ServiceAccount may create services there, or may update the referring object and so "
               "rewrite its clientConfig) or when a CRD serving one version never calls its conversion "
               "webhook; deny in the audit of a running cluster, naming the producer that did not.",
    .fix = "Create the Service (warn: it may be applied later), or make clientConfig.service.port match "
           "a port the Service exposes (default 443).",
    .check = &check_service_missing})

WIRECHECK_REGISTER_RULE(service_delete_breaks_webhook, {
    .id = "service-delete-breaks-webhook",
    .title = "Deleting a Service that webhooks, conversion webhooks or APIServices still call",
    .severity = Severity::kDeny,
    .severities = "deny / warn",
    .kinds = {Kind::kService},
    .needs_context = true,
    .context_kinds = {Kind::kValidatingWebhookConfiguration, Kind::kMutatingWebhookConfiguration,
                      Kind::kCustomResourceDefinition, Kind::kAPIService},
    .operations = {policy::Operation::kDelete},
    .failure = "Every request routed to the deleted Service fails: fail-closed webhooks reject matching "
               "requests cluster-wide, CRD conversions and aggregated APIs stop working.",
    .fix = "Delete or repoint the webhook configuration, CRD conversion or APIService first, then the "
           "Service.",
    .check = &check_delete_breaks_webhook})

}  // namespace wirecheck::rules
