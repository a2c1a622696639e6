// Built-in resources: what the Kubernetes API server itself serves, by API
// group, under the names a webhook rule (or an RBAC rule) must use: the
// lowercase plural ("pods"), or "plural/subresource" ("pods/exec"). The
// singular (the kind in lowercase) is kept beside each plural because it is
// the usual slip in a rule (`resources: [pod]` is accepted by the API server
// and matches nothing). A row also says whether the resource is written at
// high volume across the cluster (pods and their status, leases, events,
// endpoints, the workload objects): a webhook that holds those requests
// slows the whole cluster down.
//
// One table, a row per resource, covering the groups of current releases
// and the resources of recent ones (a name that an older or newer release
// serves is still a name something serves). A group not in the table is
// unknown here: callers say nothing about it.
//
// Plain functions over a constant table: safe for concurrent readers.
#pragma once

#include <span>
#include <string_view>

namespace wirecheck::policy {

struct BuiltinResource {
  std::string_view group;     // "" for the core group
  std::string_view resource;  // "pods", "pods/exec"
  std::string_view singular;  // "pod"; "" for subresources
  bool high_volume = false;
};

std::span<const BuiltinResource> builtin_resources();

// Whether `group` is one the API server serves itself ("" is core).
bool builtin_group(std::string_view group);

// The row of `resource` ("pods" or "pods/status") in `group`; nullptr when
// the table has none.
const BuiltinResource* builtin_resource(std::string_view group, std::string_view resource);

// The row in `group` whose singular is `singular` ("pod" -> the "pods" row);
// nullptr when none.
const BuiltinResource* builtin_by_singular(std::string_view group, std::string_view singular);

}  // namespace wirecheck::policy
