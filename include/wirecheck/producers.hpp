// Producers: who in the view may create or change an object at run time.
// Real installs are completed by their own workloads: an operator creates the
// Services its CRDs call and the pods its Services select, a certgen Job or a
// cert-rotating controller patches a webhook configuration's caBundle. What
// they share is RBAC: the workload runs as a ServiceAccount that a
// (Cluster)RoleBinding grants a (Cluster)Role allowing the verb on the
// resource. A missing counterpart that a producer may make is not a break.
//
// Built once per view from its Roles, ClusterRoles (aggregationRule resolved
// against the labels of the other ClusterRoles), RoleBindings and
// ClusterRoleBindings. A RoleBinding grants in its own namespace only (also
// when it refers to a ClusterRole); a ClusterRoleBinding grants everywhere.
// `resourceNames` limits update/patch to those names and never allows
// create; `*` matches any verb, group or resource. Subjects: ServiceAccounts
// (namespace defaulting to the binding's), `system:serviceaccount:NS:NAME`
// users and the `system:serviceaccounts[:NS]` groups. Workloads are joined
// when asked, through the context, so pod churn never invalidates the grants;
// a pod template without serviceAccountName runs as `default`. Helm test
// hooks are not producers; other hooks (certgen Jobs) are.
//
// Immutable after build: safe for concurrent readers.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wirecheck/object.hpp"

namespace wirecheck::policy {

class Context;

// A workload that may produce something, and why, for messages.
struct Producer {
  const core::Object* workload = nullptr;
  std::string grant;  // "may create services in ns"

  // "Deployment ns/x: its ServiceAccount may create services in ns".
  std::string describe() const;
  // "Deployment ns/x".
  std::string who() const;
};

// What is asked: one of `verbs` on `resource` of `group` in `ns` ("" for a
// cluster-scoped resource), on the object `name` ("" for any object; create
// requests are never limited by name).
struct Access {
  std::initializer_list<std::string_view> verbs;
  std::string_view group;
  std::string_view resource;
  std::string_view ns;
  std::string_view name;
};

class Producers {
 public:
  // Whether the view holds the RBAC and workload kinds the answers need;
  // without them every answer is "nobody".
  bool known() const { return known_; }

  // The first workload of `ctx` allowed `access`, or nullopt.
  std::optional<Producer> may(const Context& ctx, const Access& access) const;
  // Whether ServiceAccount `account_ns`/`account` is allowed `access` (for
  // accounts that run something other than a pod template of the view, e.g.
  // the pods of a Prometheus object).
  bool account_may(std::string_view account_ns, std::string_view account, const Access& access) const;
  // Whether ServiceAccount `account_ns`/`account` may `verb` the non-resource
  // URL `url` (nonResourceURLs: exact, or a `prefix*` pattern, or `*`);
  // such rules count only from ClusterRoles bound cluster-wide.
  bool account_may_url(std::string_view account_ns, std::string_view account, std::string_view verb,
                       std::string_view url) const;
  // Whether any binding of the view names ServiceAccount `account_ns`/`account`
  // (directly, as a user name, or through a `system:serviceaccounts` group):
  // a partial view without one says nothing about what it may do.
  bool account_bound(std::string_view account_ns, std::string_view account) const;

  static Producers build(const Context& ctx);

 private:
  struct Grant {
    std::string_view scope_ns;  // "" = every namespace and cluster-scoped resources
    std::string_view subject_kind;  // "ServiceAccount" or "Group"
    std::string subject_ns;     // ServiceAccount namespace; Group: namespace or "" for all
    std::string subject_name;   // ServiceAccount name
    const core::PolicyRule* rule = nullptr;
  };

  bool known_ = false;
  std::vector<Grant> grants_;
};

// The RBAC and workload kinds Producers reads (a rule's context kinds).
const std::vector<core::Kind>& producer_kinds();

// Resource plural of a kind the rules ask about ("services", ...), with its
// group; false for kinds no producer question is asked of.
bool rbac_resource(core::Kind kind, std::string_view& group, std::string_view& resource);

}  // namespace wirecheck::policy
