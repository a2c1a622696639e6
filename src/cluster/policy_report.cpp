#include "cluster/policy_report.hpp"

#include <map>

namespace wirecheck::cluster {
namespace {

using nlohmann::json;
using policy::Severity;

struct Mapped {
  const char* result;
  const char* severity;
};

Mapped map_finding(const policy::Finding& f) {
  if (f.exempted) return {"skip", f.severity == Severity::kDeny ? "high" : f.severity == Severity::kWarn ? "medium" : "info"};
  switch (f.severity) {
    case Severity::kDeny:
      return {"fail", "high"};
    case Severity::kWarn:
      return {"warn", "medium"};
    case Severity::kInfo:
      return {"pass", "info"};
  }
  return {"warn", "medium"};
}

json result_of(const policy::Finding& f, std::int64_t now_unix) {
  const Mapped m = map_finding(f);
  json resource = {{"apiVersion", f.object.api_version}, {"kind", f.object.kind}, {"name", f.object.name}};
  if (!f.object.ns.empty()) resource["namespace"] = f.object.ns;
  json properties = {{"path", f.path}, {"wirecheckSeverity", std::string(policy::severity_name(f.severity))}};
  if (!f.fix.empty()) properties["fix"] = f.fix;
  if (f.exempted) properties["exemption"] = f.exemption_reason;
  return {{"source", "wirecheck"},
          {"policy", "wirecheck"},
          {"rule", f.rule},
          {"result", m.result},
          {"severity", m.severity},
          {"scored", true},
          {"message", f.message},
          {"timestamp", {{"seconds", now_unix}, {"nanos", 0}}},
          {"resources", json::array({std::move(resource)})},
          {"properties", std::move(properties)}};
}

json report_object(const std::string& ns, std::int64_t now_unix, const std::vector<const policy::Finding*>& findings) {
  json summary = {{"pass", 0}, {"fail", 0}, {"warn", 0}, {"error", 0}, {"skip", 0}};
  json results = json::array();
  for (const policy::Finding* f : findings) {
    json r = result_of(*f, now_unix);
    summary[r["result"].get<std::string>()] = summary[r["result"].get<std::string>()].get<int>() + 1;
    results.push_back(std::move(r));
  }
  json metadata = {{"name", kPolicyReportName},
                   {"labels", {{"app.kubernetes.io/managed-by", "wirecheck"}}}};
  if (!ns.empty()) metadata["namespace"] = ns;
  return {{"apiVersion", kPolicyReportApiVersion},
          {"kind", ns.empty() ? "ClusterPolicyReport" : "PolicyReport"},
          {"metadata", std::move(metadata)},
          {"summary", std::move(summary)},
          {"results", std::move(results)}};
}

}  // namespace

std::vector<json> policy_reports(const std::vector<policy::Finding>& findings, std::int64_t now_unix,
                                 const std::vector<std::string>& namespaces, bool cluster_report) {
  // "" (cluster-scoped) sorts first; it is emitted last.
  std::map<std::string, std::vector<const policy::Finding*>> by_ns;
  for (const std::string& ns : namespaces) by_ns[ns];
  if (cluster_report) by_ns[""];
  for (const policy::Finding& f : findings) by_ns[std::string(f.object.ns)].push_back(&f);
  std::vector<json> out;
  for (const auto& [ns, members] : by_ns) {
    if (!ns.empty()) out.push_back(report_object(ns, now_unix, members));
  }
  if (const auto it = by_ns.find(""); it != by_ns.end()) out.push_back(report_object("", now_unix, it->second));
  return out;
}

}  // namespace wirecheck::cluster
