#include "wirecheck/lint.hpp"

#include <algorithm>

#include "wirecheck/object_index.hpp"

namespace wirecheck::policy {

bool LintReport::has_at_least(Severity threshold) const {
  return std::any_of(findings.begin(), findings.end(), [&](const Finding& f) {
    return !f.exempted && f.severity >= threshold;
  });
}

LintReport lint_manifests(const core::ManifestSet& set, const Engine& engine) {
  LintReport report;
  report.errors = set.errors;
  report.skipped = set.skipped;
  ObjectIndex context;
  context.add_all(set.objects);
  for (const core::Object& object : set.objects) {
    auto found = engine.evaluate(object, nullptr, Operation::kCreate, context);
    for (Finding& f : found) report.findings.push_back(std::move(f));
  }
  report.summary.objects = set.objects.size();
  for (const Finding& f : report.findings) {
    if (f.exempted) {
      ++report.summary.exempted;
      continue;
    }
    switch (f.severity) {
      case Severity::kDeny:
        ++report.summary.deny;
        break;
      case Severity::kWarn:
        ++report.summary.warn;
        break;
      case Severity::kInfo:
        ++report.summary.info;
        break;
    }
  }
  return report;
}

}  // namespace wirecheck::policy
