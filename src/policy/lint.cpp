#include "wirecheck/lint.hpp"

#include <algorithm>

#include "wirecheck/object_index.hpp"

namespace wirecheck::policy {

bool LintReport::has_at_least(Severity threshold) const {
  return std::any_of(findings.begin(), findings.end(), [&](const Finding& f) {
    return !f.exempted && f.severity >= threshold;
  });
}

LintSummary summarize(const std::vector<Finding>& findings, std::size_t objects) {
  LintSummary summary;
  summary.objects = objects;
  for (const Finding& f : findings) {
    if (f.exempted) {
      ++summary.exempted;
      continue;
    }
    switch (f.severity) {
      case Severity::kDeny:
        ++summary.deny;
        break;
      case Severity::kWarn:
        ++summary.warn;
        break;
      case Severity::kInfo:
        ++summary.info;
        break;
    }
  }
  return summary;
}

LintReport lint_manifests(core::ManifestSet& set, const Engine& engine, const LintOptions& options) {
  LintReport report;
  report.errors = set.errors;
  report.skipped = set.skipped;
  report.placement = place_in_apply_namespace(set, options.ns);
  ObjectIndex context;
  context.add_all(set.objects);
  for (std::size_t i : report.placement.defaulted) context.add_defaulted(set.objects[i]);
  for (const core::Object& object : set.objects) {
    auto found = engine.evaluate(object, nullptr, Operation::kCreate, context);
    for (Finding& f : found) report.findings.push_back(std::move(f));
  }
  report.summary = summarize(report.findings, set.objects.size());
  return report;
}

}  // namespace wirecheck::policy
