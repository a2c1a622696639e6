// Decision: what the webhook answers for one request, derived from the
// engine's findings and the mode (RULES.md "Modes"):
//   enforce: any non-exempted deny finding -> allowed=false, code 403, a
//            message naming each rule id, field path and fix; warn findings
//            become warnings (also when denied).
//   warn:    always allowed; deny and warn findings become warnings.
//   audit:   always allowed, no warnings; findings become auditAnnotations.
// Exempted findings never reach the answer (they are counted and logged).
// Info findings only reach logs, metrics and (audit) annotations.
//
// Pure functions of their inputs; no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admission/mode.hpp"
#include "wirecheck/finding.hpp"

namespace wirecheck::admission {

// Kubernetes may truncate longer warnings; each one is kept below this.
inline constexpr std::size_t kMaxWarningBytes = 255;

// What a finding led to, for metrics and logs.
enum class Action : std::uint8_t { kDeny, kWarn, kAudit, kLog, kExempt };
std::string_view action_name(Action action);
Action action_for(const policy::Finding& finding, Mode mode);

struct Decision {
  bool allowed = true;
  int code = 200;       // response.status.code
  std::string reason;   // response.status.reason ("Forbidden" when denied)
  std::string message;  // response.status.message
  std::vector<std::string> warnings;
  std::vector<std::pair<std::string, std::string>> audit_annotations;
};

// `subject` names the object in the denial message, e.g. "ServiceMonitor demo/web".
Decision decide(const std::vector<policy::Finding>& findings, Mode mode, std::string_view subject);

// The warning lines of one finding, each at most kMaxWarningBytes:
// `wirecheck/<rule>: <path>: <message>. Fix: <fix>` when it fits; else the
// message line and a second line `wirecheck/<rule> fix: <fix>` (the path is
// dropped before anything is cut); cut at a word boundary with "..." only
// when a part alone is too long.
std::vector<std::string> format_warnings(const policy::Finding& finding);
// The first line of format_warnings (tests and logs).
std::string format_warning(const policy::Finding& finding);
// "webhooks[0].clientConfig.caBundle" or "webhooks[0].clientConfig.caBundle (+2 more)".
std::string describe_paths(const policy::Finding& finding);

// Cuts `text` to at most `max_bytes`, at a word boundary when there is one
// in the last quarter (never inside a UTF-8 sequence), marking the cut with "...".
std::string truncate_utf8(std::string text, std::size_t max_bytes);

}  // namespace wirecheck::admission
