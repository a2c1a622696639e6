// Lint report formats: text for terminals, JSON for tools (a stable shape,
// docs/lint-output.md), SARIF 2.1.0 for code-scanning UIs.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wirecheck/lint.hpp"

namespace wirecheck::cli {

std::string format_text(const policy::LintReport& report, bool color);
std::string format_json(const policy::LintReport& report);
std::string format_sarif(const policy::LintReport& report);
// JSON objects as a multi-document YAML stream (`kubectl apply -f -` reads it).
std::string format_yaml_documents(const std::vector<nlohmann::json>& documents);

}  // namespace wirecheck::cli
