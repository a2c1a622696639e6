// Lint report formats: text for terminals, JSON for tools (a stable shape,
// docs/lint-output.md), SARIF 2.1.0 for code-scanning UIs.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "wirecheck/lint.hpp"
#include "wirecheck/settings.hpp"

namespace wirecheck::cli {

std::string format_text(const policy::LintReport& report, bool color);
std::string format_json(const policy::LintReport& report);
std::string format_sarif(const policy::LintReport& report);
// `--fail-on` as lint and audit read it: deny, warn or info -> that
// threshold, never -> no threshold; false when the text is none of these.
bool parse_fail_on(const std::string& text, std::optional<policy::Severity>& threshold);
// `--config` as lint and audit read it: the defaults when `file` is "".
core::Result<policy::Settings> settings_from(const std::string& file);

// Writes `report` to stdout as text, json or sarif and returns the exit code
// lint and audit share: 2 when the report has errors (also listed on stderr
// for the machine formats, prefixed with `command`), else 1 when a
// non-exempted finding is at or above `threshold`, else 0.
int write_report(const policy::LintReport& report, const std::string& format, bool color,
                 std::optional<policy::Severity> threshold, const char* command);
// Exit code for `report` without printing it (see write_report).
int exit_code(const policy::LintReport& report, std::optional<policy::Severity> threshold, const char* command,
              bool list_errors);

// JSON objects as a multi-document YAML stream (`kubectl apply -f -` reads it).
std::string format_yaml_documents(const std::vector<nlohmann::json>& documents);

}  // namespace wirecheck::cli
