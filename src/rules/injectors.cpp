#include "rules/injectors.hpp"

#include <algorithm>
#include <string_view>

namespace wirecheck::rules {
namespace {

using core::Kind;
using core::Object;

struct Resource {
  std::string_view group;
  std::string_view plural;
};

// The RBAC resource of the objects that carry a caBundle.
bool resource_of(Kind kind, Resource& out) {
  switch (kind) {
    case Kind::kValidatingWebhookConfiguration:
      out = {"admissionregistration.k8s.io", "validatingwebhookconfigurations"};
      return true;
    case Kind::kMutatingWebhookConfiguration:
      out = {"admissionregistration.k8s.io", "mutatingwebhookconfigurations"};
      return true;
    case Kind::kCustomResourceDefinition:
      out = {"apiextensions.k8s.io", "customresourcedefinitions"};
      return true;
    case Kind::kAPIService:
      out = {"apiregistration.k8s.io", "apiservices"};
      return true;
    default:
      return false;
  }
}

bool has(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool allows_write(const core::PolicyRule& rule, const Resource& res, std::string_view name) {
  const bool verb = has(rule.verbs, "update") || has(rule.verbs, "patch") || has(rule.verbs, "*");
  const bool group = has(rule.api_groups, res.group) || has(rule.api_groups, "*");
  const bool resource = has(rule.resources, res.plural) || has(rule.resources, "*");
  const bool named = rule.resource_names.empty() || has(rule.resource_names, name);
  return verb && group && resource && named;
}

bool role_allows(const Object& role, const Resource& res, std::string_view name) {
  const core::Role* r = role.role();
  return r != nullptr && std::any_of(r->rules.begin(), r->rules.end(), [&](const core::PolicyRule& rule) {
           return allows_write(rule, res, name);
         });
}

std::string_view account_of(const core::PodTemplate& t) {
  return t.service_account_name.empty() ? std::string_view("default") : t.service_account_name;
}

// A workload of the input running as a ServiceAccount the subject names.
const Object* workload_of(const policy::Context& ctx, const core::Subject& subject) {
  constexpr std::string_view kAllAccounts = "system:serviceaccounts";
  if (subject.kind == "ServiceAccount") {
    for (const Object* o : policy::pod_templates_in(ctx, subject.ns)) {
      if (account_of(*o->pod_template()) == subject.name) return o;
    }
  } else if (subject.kind == "Group" && subject.name.rfind(kAllAccounts, 0) == 0) {
    // system:serviceaccounts (every account) or system:serviceaccounts:<ns>.
    const std::string_view rest = std::string_view(subject.name).substr(kAllAccounts.size());
    if (rest.empty()) {
      for (Kind k : core::workload_kinds()) {
        if (auto all = ctx.list_all(k); !all.empty()) return all.front();
      }
    } else if (rest.front() == ':') {
      if (auto in_ns = policy::pod_templates_in(ctx, rest.substr(1)); !in_ns.empty()) return in_ns.front();
    }
  }
  return nullptr;
}

// Cluster-scoped, but rendered charts sometimes give it a namespace anyway
// (the API server ignores it).
const Object* cluster_role(const policy::Context& ctx, std::string_view name) {
  if (const Object* r = ctx.find(Kind::kClusterRole, "", name)) return r;
  for (const Object* r : ctx.list_all(Kind::kClusterRole)) {
    if (r->name() == name) return r;
  }
  return nullptr;
}

}  // namespace

const std::vector<Kind>& injector_context_kinds() {
  static const std::vector<Kind> kinds = [] {
    std::vector<Kind> k = {Kind::kClusterRole, Kind::kClusterRoleBinding};
    k.insert(k.end(), core::workload_kinds().begin(), core::workload_kinds().end());
    return k;
  }();
  return kinds;
}

bool knows_injectors(const policy::Context& ctx) {
  const auto& kinds = injector_context_kinds();
  return std::all_of(kinds.begin(), kinds.end(), [&](Kind k) { return ctx.knows(k); });
}

const Object* find_injector(const policy::Context& ctx, const Object& target) {
  Resource res;
  if (!resource_of(target.kind, res) || !knows_injectors(ctx)) return nullptr;
  // The four kinds are cluster-scoped: only a ClusterRoleBinding to a
  // ClusterRole grants access to them (a RoleBinding never does).
  for (const Object* binding : ctx.list_all(Kind::kClusterRoleBinding)) {
    const core::RoleBinding* b = binding->role_binding();
    if (b == nullptr || b->role_ref.kind != "ClusterRole") continue;
    const Object* role = cluster_role(ctx, b->role_ref.name);
    if (role == nullptr || !role_allows(*role, res, target.name())) continue;
    for (const core::Subject& subject : b->subjects) {
      if (const Object* w = workload_of(ctx, subject)) return w;
    }
  }
  return nullptr;
}

std::string injector_name(const Object& workload) {
  return std::string(core::kind_name(workload.kind)) + "/" + workload.name();
}

}  // namespace wirecheck::rules
