// WatchedKinds: the API resources the cluster cache lists and watches, one
// line per kind. Only kinds some rule reads as context are here; Secrets and
// ConfigMaps never are. deploy/'s ClusterRole grants get/list/watch on
// exactly these resources (docs/operations.md).
#pragma once

#include <string_view>
#include <vector>

#include "wirecheck/object.hpp"

namespace wirecheck::cluster {

struct WatchedKind {
  core::Kind kind;
  std::string_view group;     // "" for the core API
  // Versions in order of preference; discovery picks the first one served
  // (CronJob is batch/v1 since 1.21, batch/v1beta1 before).
  std::vector<std::string_view> versions;
  std::string_view resource;  // plural, as in the URL and in RBAC
  bool namespaced;
};

const std::vector<WatchedKind>& watched_kinds();
const WatchedKind* watched_kind(core::Kind kind);

// "/api/v1" or "/apis/<group>/<version>".
std::string group_version_path(std::string_view group, std::string_view version);

}  // namespace wirecheck::cluster
