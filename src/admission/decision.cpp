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
  // Prefer a word boundary, unless that throws away too much.
  const std::size_t space = text.rfind(' ', cut);
  if (space != std::string::npos && space > cut - cut / 4) cut = space;
  text.resize(cut);
  while (!text.empty() && (text.back() == ' ' || text.back() == ',' || text.back() == ':')) text.pop_back();
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

std::string prefix(const policy::Finding& finding) { return "wirecheck/" + finding.rule + ": "; }

}  // namespace

std::string describe_paths(const policy::Finding& finding) {
  std::string s = finding.path;
  if (finding.paths.size() > 1) s += " (+" + std::to_string(finding.paths.size() - 1) + " more)";
  return s;
}

std::vector<std::string> format_warnings(const policy::Finding& finding) {
  const std::string with_path =
      prefix(finding) + (finding.path.empty() ? "" : describe_paths(finding) + ": ") + finding.message;
  const std::string bare = prefix(finding) + finding.message;
  if (finding.fix.empty()) {
    return {truncate_utf8(with_path.size() <= kMaxWarningBytes ? with_path : bare, kMaxWarningBytes)};
  }
  std::string one = with_path;
  append_fix(one, finding.fix);
  if (one.size() <= kMaxWarningBytes) return {one};
  const std::string fix_line = "wirecheck/" + finding.rule + " fix: " + finding.fix;
  return {truncate_utf8(with_path.size() <= kMaxWarningBytes ? with_path : bare, kMaxWarningBytes),
          truncate_utf8(fix_line, kMaxWarningBytes)};
}

std::string format_warning(const policy::Finding& finding) { return format_warnings(finding).front(); }

namespace {

void append_denial(std::string& message, const policy::Finding& finding) {
  message += "\n[";
  message += finding.rule;
  message += "] ";
  if (!finding.path.empty()) {
    message += describe_paths(finding);
    message += ": ";
  }
  message += finding.message;
  if (!finding.fix.empty()) append_fix(message, finding.fix);
}

void add_annotation(Decision& decision, const policy::Finding& finding) {
  std::string value(policy::severity_name(finding.severity));
  value += ' ';
  if (!finding.path.empty()) {
    value += describe_paths(finding);
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
  std::vector<const policy::Finding*> denials;
  std::string denial_text;
  for (const policy::Finding& finding : findings) {
    switch (action_for(finding, mode)) {
      case Action::kDeny:
        denials.push_back(&finding);
        append_denial(denial_text, finding);
        break;
      case Action::kWarn:
        for (std::string& line : format_warnings(finding)) decision.warnings.push_back(std::move(line));
        break;
      case Action::kAudit:
        add_annotation(decision, finding);
        break;
      case Action::kLog:
      case Action::kExempt:
        break;
    }
  }
  if (!denials.empty()) {
    decision.allowed = false;
    decision.code = 403;
    decision.reason = "Forbidden";
    // CI logs, Argo CD and Helm often show only the first line: it names
    // the rule(s) and what breaks; the details follow, one line each.
    std::string ids;
    for (const policy::Finding* f : denials) {
      if (ids.find("wirecheck/" + f->rule) != std::string::npos) continue;
      ids += (ids.empty() ? "" : ", ") + ("wirecheck/" + f->rule);
    }
    decision.message = ids + ": " + denials.front()->message;
    if (denials.size() > 1) decision.message += " (+" + std::to_string(denials.size() - 1) + " more)";
    decision.message += " [";
    decision.message += subject;
    decision.message += "]";
    decision.message += denial_text;
  }
  return decision;
}

}  // namespace wirecheck::admission
