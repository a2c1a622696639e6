#include "wirecheck/producers.hpp"

#include <algorithm>
#include <unordered_set>

#include "wirecheck/context.hpp"

namespace wirecheck::policy {

namespace {

using core::Kind;
using core::Object;

bool lists(const std::vector<std::string>& list, std::string_view value) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& v) { return v == "*" || v == value; });
}

bool allows(const core::PolicyRule& rule, const Access& a, std::string_view* verb_out) {
  if (!lists(rule.api_groups, a.group) || !lists(rule.resources, a.resource)) return false;
  for (std::string_view verb : a.verbs) {
    if (!lists(rule.verbs, verb)) continue;
    // resourceNames cannot authorise create (the name is not known when the
    // request is authorised) and limit every other verb to those names.
    if (!rule.resource_names.empty()) {
      if (verb == "create" || a.name.empty()) continue;
      if (std::find(rule.resource_names.begin(), rule.resource_names.end(), a.name) == rule.resource_names.end()) {
        continue;
      }
    }
    *verb_out = verb;
    return true;
  }
  return false;
}

// Rules of a (Cluster)Role plus, for an aggregated ClusterRole, those of every
// ClusterRole its selectors match (recursively; the controller manager
// fills them in the same way).
void effective_rules(const Context& ctx, const Object& role, std::unordered_set<const Object*>& seen,
                     std::vector<const core::PolicyRule*>& out) {
  if (!seen.insert(&role).second) return;
  const core::Role* r = role.role();
  if (r == nullptr) return;
  for (const core::PolicyRule& rule : r->rules) out.push_back(&rule);
  if (role.kind != Kind::kClusterRole) return;
  for (const core::LabelSelector& sel : r->aggregation) {
    // An empty selector in clusterRoleSelectors matches nothing useful
    // (the controller skips it); only selectors with terms aggregate.
    if (sel.empty()) continue;
    for (const Object* other : ctx.list_all_matching(Kind::kClusterRole, sel)) {
      effective_rules(ctx, *other, seen, out);
    }
  }
}

std::string_view account_of(const core::PodTemplate& t) {
  return t.service_account_name.empty() ? std::string_view("default") : std::string_view(t.service_account_name);
}

// A workload (not a helm test hook) in `ns` ("" = any namespace) running as
// `account` ("" = any account).
const Object* workload_running_as(const Context& ctx, std::string_view ns, std::string_view account) {
  for (Kind k : core::workload_kinds()) {
    if (!ctx.knows(k)) continue;
    for (const Object* o : ns.empty() ? ctx.list_all(k) : ctx.list(k, ns)) {
      const core::PodTemplate* t = o->pod_template();
      if (t == nullptr || o->helm_test_hook) continue;
      if (account.empty() || account_of(*t) == account) return o;
    }
  }
  return nullptr;
}

}  // namespace

std::string Producer::who() const {
  if (workload == nullptr) return "";
  std::string s(core::kind_name(workload->kind));
  s += " ";
  if (!workload->ns().empty()) s += workload->ns() + "/";
  s += workload->name();
  return s;
}

std::string Producer::describe() const { return who() + ": its ServiceAccount " + grant; }

const std::vector<Kind>& producer_kinds() {
  static const std::vector<Kind> kinds = [] {
    std::vector<Kind> k = {Kind::kRole, Kind::kClusterRole, Kind::kRoleBinding, Kind::kClusterRoleBinding};
    k.insert(k.end(), core::workload_kinds().begin(), core::workload_kinds().end());
    return k;
  }();
  return kinds;
}

bool rbac_resource(Kind kind, std::string_view& group, std::string_view& resource) {
  switch (kind) {
    case Kind::kService:
      group = "", resource = "services";
      return true;
    case Kind::kPod:
      group = "", resource = "pods";
      return true;
    case Kind::kValidatingWebhookConfiguration:
      group = "admissionregistration.k8s.io", resource = "validatingwebhookconfigurations";
      return true;
    case Kind::kMutatingWebhookConfiguration:
      group = "admissionregistration.k8s.io", resource = "mutatingwebhookconfigurations";
      return true;
    case Kind::kCustomResourceDefinition:
      group = "apiextensions.k8s.io", resource = "customresourcedefinitions";
      return true;
    case Kind::kAPIService:
      group = "apiregistration.k8s.io", resource = "apiservices";
      return true;
    default:
      return false;
  }
}

Producers Producers::build(const Context& ctx) {
  Producers p;
  const auto& kinds = producer_kinds();
  p.known_ = std::all_of(kinds.begin(), kinds.end(), [&](Kind k) { return ctx.knows(k); });
  if (!p.known_) return p;
  constexpr std::string_view kAccountUser = "system:serviceaccount:";
  constexpr std::string_view kAccountsGroup = "system:serviceaccounts";
  for (Kind binding_kind : {Kind::kRoleBinding, Kind::kClusterRoleBinding}) {
    for (const Object* binding : ctx.list_all(binding_kind)) {
      const core::RoleBinding* b = binding->role_binding();
      if (b == nullptr) continue;
      const std::string_view scope = binding_kind == Kind::kRoleBinding ? std::string_view(binding->ns())
                                                                        : std::string_view();
      const Object* role = nullptr;
      if (b->role_ref.kind == "ClusterRole") {
        role = ctx.find(Kind::kClusterRole, "", b->role_ref.name);
      } else if (b->role_ref.kind == "Role" && binding_kind == Kind::kRoleBinding) {
        role = ctx.find(Kind::kRole, binding->ns(), b->role_ref.name);
      }
      if (role == nullptr) continue;
      std::unordered_set<const Object*> seen;
      std::vector<const core::PolicyRule*> rules;
      effective_rules(ctx, *role, seen, rules);
      for (const core::Subject& s : b->subjects) {
        Grant g;
        g.scope_ns = scope;
        const std::string_view name = s.name;
        if (s.kind == "ServiceAccount") {
          g.subject_kind = "ServiceAccount";
          g.subject_ns = s.ns.empty() ? std::string(binding->ns()) : std::string(s.ns);
          g.subject_name = std::string(name);
        } else if (s.kind == "User" && name.starts_with(kAccountUser)) {
          const std::string_view rest = name.substr(kAccountUser.size());
          const std::size_t colon = rest.find(':');
          if (colon == std::string_view::npos) continue;
          g.subject_kind = "ServiceAccount";
          g.subject_ns = std::string(rest.substr(0, colon));
          g.subject_name = std::string(rest.substr(colon + 1));
        } else if (s.kind == "Group" && name.starts_with(kAccountsGroup)) {
          const std::string_view rest = name.substr(kAccountsGroup.size());
          if (!rest.empty() && rest.front() != ':') continue;
          g.subject_kind = "Group";
          g.subject_ns = std::string(rest.empty() ? rest : rest.substr(1));
        } else {
          continue;
        }
        for (const core::PolicyRule* rule : rules) {
          Grant each = g;
          each.rule = rule;
          p.grants_.push_back(std::move(each));
        }
      }
    }
  }
  return p;
}

std::optional<Producer> Producers::may(const Context& ctx, const Access& access) const {
  for (const Grant& g : grants_) {
    // A namespaced grant reaches only its namespace's namespaced objects.
    if (!g.scope_ns.empty() && g.scope_ns != access.ns) continue;
    std::string_view verb;
    if (!allows(*g.rule, access, &verb)) continue;
    const Object* w = g.subject_kind == "ServiceAccount" ? workload_running_as(ctx, g.subject_ns, g.subject_name)
                                                         : workload_running_as(ctx, g.subject_ns, "");
    if (w == nullptr) continue;
    std::string grant = "may " + std::string(verb) + " " + std::string(access.resource);
    if (!access.name.empty() && !g.rule->resource_names.empty()) grant += "/" + std::string(access.name);
    if (!access.ns.empty()) grant += " in " + std::string(access.ns);
    return Producer{w, std::move(grant)};
  }
  return std::nullopt;
}

}  // namespace wirecheck::policy

namespace wirecheck::policy {

bool Producers::account_may(std::string_view account_ns, std::string_view account, const Access& access) const {
  for (const Grant& g : grants_) {
    if (!g.scope_ns.empty() && g.scope_ns != access.ns) continue;
    const bool subject = g.subject_kind == "ServiceAccount"
                             ? g.subject_ns == account_ns && g.subject_name == account
                             : g.subject_ns.empty() || g.subject_ns == account_ns;
    std::string_view verb;
    if (subject && allows(*g.rule, access, &verb)) return true;
  }
  return false;
}

namespace {

bool url_matches(std::string_view pattern, std::string_view url) {
  if (pattern == "*" || pattern == url) return true;
  return pattern.ends_with('*') && url.starts_with(pattern.substr(0, pattern.size() - 1));
}

}  // namespace

bool Producers::account_may_url(std::string_view account_ns, std::string_view account, std::string_view verb,
                                std::string_view url) const {
  for (const Grant& g : grants_) {
    // nonResourceURLs are cluster-wide: a RoleBinding cannot grant them.
    if (!g.scope_ns.empty()) continue;
    const bool subject = g.subject_kind == "ServiceAccount"
                             ? g.subject_ns == account_ns && g.subject_name == account
                             : g.subject_ns.empty() || g.subject_ns == account_ns;
    if (!subject || !lists(g.rule->verbs, verb)) continue;
    for (const std::string& pattern : g.rule->non_resource_urls) {
      if (url_matches(pattern, url)) return true;
    }
  }
  return false;
}

bool Producers::account_bound(std::string_view account_ns, std::string_view account) const {
  return std::any_of(grants_.begin(), grants_.end(), [&](const Grant& g) {
    return g.subject_kind == "ServiceAccount" ? g.subject_ns == account_ns && g.subject_name == account
                                              : g.subject_ns.empty() || g.subject_ns == account_ns;
  });
}

}  // namespace wirecheck::policy
