// Internal to the webhook rules: who may fill in a caBundle at run time.
// Besides the injection annotations (client_configs.hpp), installs ship their
// own injector: a certgen Job that patches the webhook configuration once, or
// a controller that rotates its certificate and reconciles its own
// configuration. What they share is RBAC: a workload of the input runs under
// a ServiceAccount that a ClusterRoleBinding ties to a ClusterRole allowing
// update or patch on the object (its kind, and resourceNames empty or naming
// it). Looked up through the Context only.
#pragma once

#include <string>

#include "wirecheck/context.hpp"
#include "wirecheck/object.hpp"

namespace wirecheck::rules {

// The RBAC and workload kinds the lookup reads (a rule's context kinds).
const std::vector<core::Kind>& injector_context_kinds();

// Whether the context can answer the question at all (it knows RBAC and
// workloads). When it cannot, a rule keeps its verdict without injectors.
bool knows_injectors(const policy::Context& ctx);

// The first workload allowed to update/patch `target`, or nullptr.
const core::Object* find_injector(const policy::Context& ctx, const core::Object& target);

// "Job/certgen" (namespace omitted: it is the install's).
std::string injector_name(const core::Object& workload);

}  // namespace wirecheck::rules
