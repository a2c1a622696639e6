// Lint report formats: text for terminals, JSON for tools (a stable shape,
// docs/lint-output.md), SARIF 2.1.0 for code-scanning UIs.
#pragma once

#include <string>

#include "wirecheck/lint.hpp"

namespace wirecheck::cli {

std::string format_text(const policy::LintReport& report, bool color);
std::string format_json(const policy::LintReport& report);
std::string format_sarif(const policy::LintReport& report);

}  // namespace wirecheck::cli
