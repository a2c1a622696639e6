// webhook-rule-matches-nothing: a webhook rule that names a resource nothing
// serves. The API server validates a rule's shape, not its names, so
// `resources: [widget]` for a CRD whose plural is `widgets` is accepted and
// the webhook is simply never called for widgets: the policy it enforces is
// silently off. What is served is known for the groups of the CRDs in the
// view (their plural, the /status and /scale subresources they declare, in
// any version they list) and for the built-in groups
// (builtin_resources.hpp). A group served by neither (an aggregated API, a
// CRD outside the input) is unknown, and a rule naming one says nothing.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/names.hpp"
#include "wirecheck/builtin_resources.hpp"
#include "wirecheck/context.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::rules {
namespace {

using core::CustomResourceDefinition;
using core::Kind;
using policy::FindingSink;
using policy::RuleInput;
using policy::Severity;

// The served API of the view, gathered once per evaluated configuration.
struct Served {
  struct Crd {
    const core::Object* object;
    const CustomResourceDefinition* spec;
  };
  std::vector<Crd> crds;
  // Groups an APIService serves: their resources are only known to the
  // aggregated server.
  std::vector<std::string> aggregated;

  std::vector<Crd> of_group(std::string_view group) const {
    std::vector<Crd> out;
    for (const Crd& c : crds) {
      if (c.spec->group == group) out.push_back(c);
    }
    return out;
  }
  // Known: a built-in group, or a group some CRD of the view serves, and no
  // APIService of the view serves it too.
  bool known(std::string_view group) const {
    if (std::find(aggregated.begin(), aggregated.end(), group) != aggregated.end()) return false;
    return policy::builtin_group(group) ||
           std::any_of(crds.begin(), crds.end(), [&](const Crd& c) { return c.spec->group == group; });
  }
};

Served served_of(const policy::Context& ctx) {
  Served s;
  if (ctx.knows(Kind::kCustomResourceDefinition)) {
    for (const core::Object* o : ctx.list_all(Kind::kCustomResourceDefinition)) {
      if (const CustomResourceDefinition* crd = o->crd(); crd != nullptr && !crd->plural.empty()) {
        s.crds.push_back({o, crd});
      }
    }
  }
  if (ctx.knows(Kind::kAPIService)) {
    for (const core::Object* o : ctx.list_all(Kind::kAPIService)) {
      if (const core::APIService* api = o->api_service(); api != nullptr && api->service.present) {
        s.aggregated.push_back(api->group);
      }
    }
  }
  return s;
}

std::string singular_of(const CustomResourceDefinition& crd) { return lower(crd.kind); }

bool declares(const CustomResourceDefinition& crd, std::string_view sub) {
  return sub.empty() || (sub == "status" && crd.status_subresource) || (sub == "scale" && crd.scale_subresource);
}

std::string group_text(std::string_view group) {
  return group.empty() ? std::string("the core group (\"\")") : "group " + std::string(group);
}

// Names this close to a served plural are taken for a typo of it: one
// letter dropped, added, changed, or two swapped. Two edits already join
// different kinds (addresspools, ipaddresspools).
constexpr std::size_t kTypoDistance = 1;

// What a rule's resource entry is, judged against the groups it names.
struct Verdict {
  bool served = false;
  Severity severity = Severity::kWarn;
  std::string message;  // why nothing serves it
  std::string fix;
};

Verdict judge(const Served& served, const core::RuleWithOperations& rule, const std::string& entry) {
  const std::size_t slash = entry.find('/');
  const std::string main = entry.substr(0, slash);
  const std::string sub = slash == std::string::npos ? "" : entry.substr(slash + 1);
  const std::string suffix = sub.empty() ? "" : "/" + sub;

  // Versions are not judged: with matchPolicy Equivalent (the v1 default)
  // the API server matches a rule's version through every version the CRD
  // lists, served or not, and converts the object for the webhook.

  // A CRD whose plural is right but whose subresource is not declared.
  std::optional<Served::Crd> plural_only;
  for (const std::string& group : rule.api_groups) {
    if (policy::builtin_resource(group, entry) != nullptr) return {.served = true};
    for (const Served::Crd& c : served.of_group(group)) {
      if (c.spec->plural != main) continue;
      if (!declares(*c.spec, sub)) {
        plural_only = c;
      } else {
        return {.served = true};
      }
    }
  }

  Verdict v;
  const std::string quoted = "\"" + entry + "\"";
  if (plural_only) {
    v.message = "rule names " + quoted + ", but CRD " + plural_only->object->name() + " declares no " + sub +
                " subresource";
    v.fix = "declare subresources." + sub + " in CRD " + plural_only->object->name() + ", or match " + main +
            " itself";
    return v;
  }

  // The name as the user probably meant it: the singular or kind of a
  // known plural, or the plural in another case.
  const std::string folded = lower(main);
  for (const std::string& group : rule.api_groups) {
    std::string plural;
    if (const policy::BuiltinResource* r = policy::builtin_resource(group, folded)) {
      plural = std::string(r->resource);
    } else if (const policy::BuiltinResource* s = policy::builtin_by_singular(group, folded)) {
      plural = std::string(s->resource);
    }
    for (const Served::Crd& c : served.of_group(group)) {
      if (plural.empty() && (c.spec->plural == folded || singular_of(*c.spec) == folded)) plural = c.spec->plural;
    }
    if (!plural.empty() && plural != main) {
      v.message = "rule names " + quoted + ", but " + group_text(group) + " serves \"" + plural + suffix + "\"";
      v.fix = "use the plural resource name: " + plural + suffix;
      return v;
    }
  }

  // The resource of another group (deployments listed under the core group).
  for (const policy::BuiltinResource& r : policy::builtin_resources()) {
    if (r.resource != entry) continue;
    v.message = "rule names " + quoted + ", which " + group_text(rule.api_groups.front()) +
                " does not serve (" + group_text(r.group) + " does)";
    v.fix = "add \"" + std::string(r.group) + "\" to apiGroups, or move " + entry + " to a rule of that group";
    return v;
  }
  // A misspelt plural of a CRD the view holds: that kind exists and its
  // policy is off.
  for (const std::string& group : rule.api_groups) {
    for (const Served::Crd& c : served.of_group(group)) {
      if (edit_distance(folded, c.spec->plural) > kTypoDistance) continue;
      v.message = "rule names " + quoted + ", but " + group_text(group) + " serves \"" + c.spec->plural + suffix +
                  "\"";
      v.fix = "use the plural resource name: " + c.spec->plural + suffix;
      return v;
    }
  }
  v.message = "rule names " + quoted + ", which nothing in " + group_text(rule.api_groups.front()) +
              (rule.api_groups.size() > 1 ? " or the rule's other groups" : "") + " serves";
  const bool builtin = std::any_of(rule.api_groups.begin(), rule.api_groups.end(),
                                   [](const std::string& g) { return policy::builtin_group(g); });
  if (builtin) {
    v.fix = "check the resource name: it must be a plural as `kubectl api-resources` lists it";
    return v;
  }
  // No CRD of the group comes near the name: a kind the project retired (its
  // CRD gone, the rule left behind), or one whose CRD is installed apart from
  // this input. Either way no object of it exists beside this view, so no
  // policy is off: worth a clean-up, not a warning.
  v.severity = Severity::kInfo;
  v.fix = "remove the entry if the kind was retired; if its CRD is installed separately, nothing to do";
  return v;
}

void check_rule_matches_nothing(const RuleInput& in, FindingSink& out) {
  const core::WebhookConfiguration* wc = in.object.webhook_configuration();
  if (wc == nullptr) return;
  std::optional<Served> served;
  for (const core::Webhook& w : wc->webhooks) {
    for (std::size_t j = 0; j < w.rules.size(); ++j) {
      const core::RuleWithOperations& rule = w.rules[j];
      if (rule.api_groups.empty()) continue;
      if (!served) served = served_of(in.context);
      // Any group the view cannot speak for may serve the name.
      const bool all_known = std::all_of(rule.api_groups.begin(), rule.api_groups.end(),
                                         [&](const std::string& g) { return g != "*" && served->known(g); });
      if (!all_known) continue;
      for (std::size_t k = 0; k < rule.resources.size(); ++k) {
        const std::string& entry = rule.resources[k];
        // "*", "*/status", "widgets/*": wildcards match whatever is served.
        if (entry.empty() || entry.find('*') != std::string::npos) continue;
        Verdict v = judge(*served, rule, entry);
        if (v.served) continue;
        out.add(v.severity,
                "webhooks[" + std::to_string(w.index) + "].rules[" + std::to_string(j) + "].resources[" +
                    std::to_string(k) + "]",
                "webhook \"" + w.name + "\" " + v.message + ": the API server never calls it for that kind",
                std::move(v.fix));
      }
    }
  }
}

}  // namespace

// Webhook configurations never reach admission (RULES.md), so this runs in
// lint and in the audit.
WIRECHECK_REGISTER_RULE(webhook_rule_matches_nothing, {
    .id = "webhook-rule-matches-nothing",
    .title = "Webhook rule names a resource nothing serves",
    .severity = Severity::kWarn,
    .severities = "warn (info when nothing of a CRD group in the view comes near the name)",
    .kinds = {Kind::kValidatingWebhookConfiguration, Kind::kMutatingWebhookConfiguration},
    // Not needs_context: built-in groups are judged without any view.
    .context_kinds = {Kind::kCustomResourceDefinition, Kind::kAPIService},
    .failure = "A rule resource that is not a plural the API server serves in the rule's groups (a CRD's "
               "spec.names.plural, its declared /status or /scale; a built-in resource "
               "of a built-in group), e.g. the singular `widget` for `widgets`, is accepted and matches "
               "nothing: the webhook is never called for that kind and its policy is silently off. `*` and "
               "`x/*` match; groups that neither a CRD of the view nor Kubernetes itself serves are not judged. "
               "A name of a CRD group that is neither the singular, the kind nor one edit from a plural "
               "the view serves is info: a retired kind, or one whose CRD is installed apart; no object of it "
               "exists, so no policy is off.",
    .fix = "Use the plural resource name (spec.names.plural of the CRD, or as `kubectl api-resources` lists it).",
    .check = &check_rule_matches_nothing})

}  // namespace wirecheck::rules
