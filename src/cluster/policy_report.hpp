// PolicyReport: audit findings as `wgpolicyk8s.io/v1alpha2` PolicyReport
// (one per namespace) and ClusterPolicyReport (cluster-scoped objects)
// objects, the format Kyverno writes and policy-report UIs read.
//
// One result per finding: policy `wirecheck`, rule = rule id, source
// `wirecheck`, the object in `resources`, properties `fix` and `path` (and
// `exemption`). Results map as:
//   deny -> result fail, severity high
//   warn -> result warn, severity medium
//   info -> result pass, severity info: info is advice about wiring that
//           works (RULES.md), so it must not count as a failure in report
//           UIs, yet stays readable in the message
//   exempted (ignore.wirecheck.dev/<rule>) -> result skip, with the reason
//           in properties.exemption: the rule was deliberately not applied
// `summary` counts results per kind (pass, fail, warn, error, skip).
//
// Pure functions of their input.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wirecheck/finding.hpp"

namespace wirecheck::cluster {

inline constexpr const char* kPolicyReportApiVersion = "wgpolicyk8s.io/v1alpha2";
inline constexpr const char* kPolicyReportName = "wirecheck";

// The reports for `findings`: a PolicyReport for each namespace that has
// findings or is listed in `namespaces` (an empty one clears an older
// report), then a ClusterPolicyReport when cluster-scoped objects have
// findings or `cluster_report` is true. Sorted by namespace.
std::vector<nlohmann::json> policy_reports(const std::vector<policy::Finding>& findings, std::int64_t now_unix,
                                           const std::vector<std::string>& namespaces = {},
                                           bool cluster_report = false);

}  // namespace wirecheck::cluster
