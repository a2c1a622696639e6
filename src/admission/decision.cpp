#include "admission/decision.hpp"

namespace wirecheck::admission {

std::string_view action_name(Action action) {
  switch (action) {
    case Action::kDeny: return "deny";
    case Action::kWarn: return "warn";
    case Action::kAudit: return "audit";
    case Action::kLog: return "log";
    case Action::kExempt: return "exempt";
  }
  return "log";
}

Action action_for(const policy::Finding& finding, Mode mode) {
  using policy::Severity;
  if (finding.exempted) return Action::kExempt;
  switch (mode) {
    case Mode::kAudit:
      return Action::kAudit;
    case Mode::kEnforce:
      if (finding.severity == Severity::kDeny) return Action::kDeny;
      return finding.severity == Severity::kWarn ? Action::kWarn : Action::kLog;
    case Mode::kWarn:
      return finding.severity == Severity::kInfo ? Action::kLog : Action::kWarn;
  }
  return Action::kLog;
}

std::string truncate_utf8(std::string text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  constexpr std::string_view kEllipsis = "...";
  std::size_t cut = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
  // Back up over continuation bytes (10xxxxxx) so a sequence is never split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  if (max_bytes >= kEllipsis.size()) text += kEllipsis;
  return text;
}

namespace {

// "<message>. Fix: <fix>": rule messages end without a full stop.
void append_fix(std::string& text, const std::string& fix) {
  if (!text.empty() && text.back() != '.') text += '.';
  text += " Fix: ";
  text += fix;
}

}  // namespace

std::string format_warning(const policy::Finding& finding) {
  std::string text = "wirecheck/";
  text += finding.rule;
  text += ": ";
  if (!finding.path.empty()) {
    text += finding.path;
    text += ": ";
  }
  text += finding.message;
  if (!finding.fix.empty() && text.size() + 7 + finding.fix.size() <= kMaxWarningBytes) {
    append_fix(text, finding.fix);
  }
  return truncate_utf8(std::move(text), kMaxWarningBytes);
}

namespace {

void append_denial(std::string& message, const policy::Finding& finding) {
  message += "\n[";
  message += finding.rule;
  message += "] ";
  if (!finding.path.empty()) {
    message += finding.path;
    message += ": ";
  }
  message += finding.message;
  if (!finding.fix.empty()) append_fix(message, finding.fix);
}

void add_annotation(Decision& decision, const policy::Finding& finding) {
  std::string value(policy::severity_name(finding.severity));
  value += ' ';
  if (!finding.path.empty()) {
    value += finding.path;
    value += ": ";
  }
  value += finding.message;
  // Annotation keys must be qualified names (<= 63 characters); rule ids are.
  std::string key = finding.rule.substr(0, 63);
  for (auto& [k, v] : decision.audit_annotations) {
    if (k == key) {
      v += "; ";
      v += value;
      return;
    }
  }
  decision.audit_annotations.emplace_back(std::move(key), std::move(value));
}

}  // namespace

Decision decide(const std::vector<policy::Finding>& findings, Mode mode, std::string_view subject) {
  Decision decision;
  std::size_t denials = 0;
  std::string denial_text;
  for (const policy::Finding& finding : findings) {
    switch (action_for(finding, mode)) {
      case Action::kDeny:
        ++denials;
        append_denial(denial_text, finding);
        break;
      case Action::kWarn:
        decision.warnings.push_back(format_warning(finding));
        break;
      case Action::kAudit:
        add_annotation(decision, finding);
        break;
      case Action::kLog:
      case Action::kExempt:
        break;
    }
  }
  if (denials > 0) {
    decision.allowed = false;
    decision.code = 403;
    decision.reason = "Forbidden";
    decision.message = "wirecheck: ";
    decision.message += subject;
    decision.message += denials == 1 ? " breaks 1 rule:" : " breaks " + std::to_string(denials) + " rules:";
    decision.message += denial_text;
  }
  return decision;
}

}  // namespace wirecheck::admission
