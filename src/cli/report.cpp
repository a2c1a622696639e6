#include "cli/report.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <utility>
#include <yaml-cpp/yaml.h>

#include "wirecheck/rule.hpp"

namespace wirecheck::cli {

namespace {

using nlohmann::json;
using policy::Finding;
using policy::Severity;

std::string object_label(const core::ObjectRef& ref) {
  std::string s = ref.kind.empty() ? "<no kind>" : ref.kind;
  s += ' ';
  if (!ref.ns.empty()) s += ref.ns + "/";
  s += ref.name.empty() ? "<no name>" : ref.name;
  return s;
}

std::string location(const core::SourceLocation& src) {
  if (src.file.empty()) return "";
  return src.line > 0 ? src.file + ":" + std::to_string(src.line) : src.file;
}

bool same_object(const Finding& a, const Finding& b) {
  return a.object.kind == b.object.kind && a.object.ns == b.object.ns &&
         a.object.name == b.object.name && a.source.file == b.source.file &&
         a.source.line == b.source.line;
}

json object_json(const core::ObjectRef& ref) {
  return {{"apiVersion", ref.api_version}, {"kind", ref.kind}, {"namespace", ref.ns}, {"name", ref.name}};
}

std::string sarif_level(Severity s) {
  switch (s) {
    case Severity::kDeny:
      return "error";
    case Severity::kWarn:
      return "warning";
    case Severity::kInfo:
      return "note";
  }
  return "warning";
}

// Where docs/rules.md is published, set at build time (cmake
// -DWIRECHECK_DOCS_URL=...); each rule's helpUri is its section there. Empty
// by default: SARIF viewers follow helpUri, and a guessed address would send
// users to a page that does not exist, so without one it is left out.
#ifndef WIRECHECK_DOCS_URL
#define WIRECHECK_DOCS_URL ""
#endif

// SARIF base id for paths given relative to the working directory.
constexpr const char* kSrcRoot = "SRCROOT";

// RFC 3986 percent-encoding of a path: unreserved characters and "/" stay.
std::string uri_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

bool is_stdin(const std::string& file) { return file.empty() || file == "-" || file == "<stdin>"; }

// artifactLocation of a lint input file: absolute paths as file: URIs,
// relative ones relative to %SRCROOT% (the working directory). stdin has no
// location (nullptr json).
json artifact_location(const std::string& file) {
  if (is_stdin(file)) return nullptr;
  if (!file.empty() && file.front() == '/') return {{"uri", "file://" + uri_path(file)}};
  std::string rel = file;
  while (rel.rfind("./", 0) == 0) rel.erase(0, 2);
  return {{"uri", uri_path(rel)}, {"uriBaseId", kSrcRoot}};
}

// A physicalLocation, or null for stdin.
json physical_location(const std::string& file, int line) {
  json artifact = artifact_location(file);
  if (artifact.is_null()) return nullptr;
  json physical = {{"artifactLocation", std::move(artifact)}};
  if (line > 0) physical["region"] = {{"startLine", line}};
  return physical;
}

// The apply namespace, stated once when lint inferred it or had to fall
// back although the input refers to namespaces.
std::string placement_line(const policy::Placement& p) {
  if (p.placed == 0) return "";
  if (p.source == policy::Placement::Source::kInferred) {
    std::string from;
    for (const std::string& e : p.evidence) from += (from.empty() ? "" : "; ") + e;
    return "objects without a namespace are taken to be in " + p.ns + ", from: " + from +
           "; pass -n to choose\n\n";
  }
  if (p.source == policy::Placement::Source::kDefault && p.candidates.size() > 1) {
    std::string names;
    for (const std::string& c : p.candidates) names += (names.empty() ? "" : ", ") + c;
    return "objects without a namespace are taken to be in default: the input refers to " + names +
           "; pass -n to choose\n\n";
  }
  return "";
}

json placement_json(const policy::Placement& p) {
  return {{"namespace", p.ns},
          {"source", p.source_name()},
          {"placed", p.placed},
          {"evidence", p.evidence},
          {"candidates", p.candidates}};
}

// Paths covered by a finding, for text output: "a" or "a (+2 more)".
std::string paths_text(const Finding& f) {
  std::string s = f.path;
  if (f.paths.size() > 1) s += " (+" + std::to_string(f.paths.size() - 1) + " more)";
  return s;
}

}  // namespace

std::string format_text(const policy::LintReport& report, bool color) {
  const char* reset = color ? "\033[0m" : "";
  const char* bold = color ? "\033[1m" : "";
  const char* dim = color ? "\033[2m" : "";
  auto tag = [&](const Finding& f) -> std::string {
    if (f.exempted) return std::string(dim) + "EXEMPT" + reset;
    switch (f.severity) {
      case Severity::kDeny:
        return color ? "\033[1;31mDENY\033[0m  " : "DENY  ";
      case Severity::kWarn:
        return color ? "\033[1;33mWARN\033[0m  " : "WARN  ";
      case Severity::kInfo:
        return color ? "\033[36mINFO\033[0m  " : "INFO  ";
    }
    return "";
  };

  std::string out;
  out += placement_line(report.placement);
  // Findings of one rule that share a cause (eight CRDs calling one absent
  // Service) are one entry: the cause, the objects, one fix.
  std::map<std::pair<std::string, std::string>, std::vector<const Finding*>> by_cause;
  for (const Finding& f : report.findings) {
    if (!f.cause.empty() && !f.exempted) by_cause[{f.rule, f.cause}].push_back(&f);
  }
  auto grouped = [&](const Finding& f) {
    if (f.cause.empty() || f.exempted) return false;
    auto it = by_cause.find({f.rule, f.cause});
    return it != by_cause.end() && it->second.size() > 1;
  };
  bool any_group = false;
  for (const auto& [key, members] : by_cause) {
    if (members.size() < 2) continue;
    any_group = true;
    const Finding& first = *members.front();
    out += std::string(bold) + std::to_string(members.size()) + " objects, one cause: " + first.cause + reset + '\n';
    out += "  " + tag(first) + " " + first.rule + '\n';
    std::string names;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i == 6) {
        names += ", and " + std::to_string(members.size() - 6) + " more";
        break;
      }
      names += (i == 0 ? "" : ", ") + object_label(members[i]->object);
    }
    out += "        objects: " + names + '\n';
    out += "        " + first.message + '\n';
    if (!first.fix.empty()) out += "        fix: " + first.fix + '\n';
  }
  if (any_group) out += '\n';
  const Finding* previous = nullptr;
  for (const Finding& f : report.findings) {
    if (grouped(f)) continue;
    if (previous == nullptr || !same_object(*previous, f)) {
      if (previous != nullptr) out += '\n';
      const std::string where = location(f.source);
      out += bold + object_label(f.object) + reset;
      if (!where.empty()) out += std::string("  ") + dim + where + reset;
      out += '\n';
    }
    previous = &f;
    out += "  " + tag(f) + " " + f.rule;
    if (!f.path.empty()) out += "  " + std::string(dim) + paths_text(f) + reset;
    out += '\n';
    out += "        " + f.message + '\n';
    if (f.paths.size() > 1) {
      std::string all;
      for (const std::string& p : f.paths) all += (all.empty() ? "" : ", ") + p;
      out += "        entries: " + all + '\n';
    }
    if (!f.fix.empty()) {
      std::string fix = f.fix;
      // Indent multi-line fixes (YAML snippets) under the "fix:" label.
      for (std::size_t p = fix.find('\n'); p != std::string::npos; p = fix.find('\n', p + 1)) {
        fix.insert(p + 1, "             ");
      }
      out += "        fix: " + fix + '\n';
    }
    if (f.exempted) out += "        exempted: " + f.exemption_reason + '\n';
  }
  if (previous != nullptr) out += '\n';
  for (const core::LoadError& e : report.errors) {
    const std::string where = e.line > 0 ? e.file + ":" + std::to_string(e.line) : e.file;
    out += std::string(color ? "\033[1;31merror\033[0m" : "error") + ": " + where + ": " + e.message + '\n';
  }
  const auto& s = report.summary;
  out += std::to_string(s.objects) + " objects: " + std::to_string(s.deny) + " deny, " +
         std::to_string(s.warn) + " warn, " + std::to_string(s.info) + " info, " +
         std::to_string(s.exempted) + " exempted";
  if (!report.errors.empty()) out += ", " + std::to_string(report.errors.size()) + " unreadable documents";
  if (!report.skipped.empty()) {
    out += ", " + std::to_string(report.skipped.size()) + " non-Kubernetes documents skipped (" +
           location({report.skipped.front().file, report.skipped.front().line}) +
           (report.skipped.size() > 1 ? ", ..." : "") + ")";
  }
  out += '\n';
  return out;
}

std::string format_json(const policy::LintReport& report) {
  json findings = json::array();
  for (const Finding& f : report.findings) {
    json j = {{"rule", f.rule},
              {"severity", policy::severity_name(f.severity)},
              {"object", object_json(f.object)},
              {"path", f.path},
              {"paths", f.paths},
              {"message", f.message},
              {"fix", f.fix},
              {"file", f.source.file},
              {"line", f.source.line},
              {"exempted", f.exempted}};
    if (f.exempted) j["exemptionReason"] = f.exemption_reason;
    if (!f.cause.empty()) j["cause"] = f.cause;
    findings.push_back(std::move(j));
  }
  json errors = json::array();
  for (const core::LoadError& e : report.errors) {
    errors.push_back({{"file", e.file}, {"line", e.line}, {"message", e.message}});
  }
  json skipped = json::array();
  for (const core::LoadError& e : report.skipped) {
    skipped.push_back({{"file", e.file}, {"line", e.line}, {"message", e.message}});
  }
  const auto& s = report.summary;
  const json out = {{"applyNamespace", placement_json(report.placement)},
                    {"findings", std::move(findings)},
                    {"summary",
                     {{"objects", s.objects},
                      {"deny", s.deny},
                      {"warn", s.warn},
                      {"info", s.info},
                      {"exempted", s.exempted},
                      {"errors", std::move(errors)},
                      {"skipped", std::move(skipped)}}}};
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string format_sarif(const policy::LintReport& report) {
  json rules = json::array();
  std::map<std::string, std::size_t, std::less<>> rule_index;
  for (const policy::RuleSpec& spec : policy::Registry::all()) {
    rule_index.emplace(std::string(spec.id), rules.size());
    json rule = {{"id", spec.id},
                 {"name", spec.id},
                 {"shortDescription", {{"text", spec.title}}},
                 {"fullDescription", {{"text", spec.failure}}},
                 {"help", {{"text", spec.fix}}},
                 {"defaultConfiguration", {{"level", sarif_level(spec.severity)}}}};
    if (const std::string_view docs = WIRECHECK_DOCS_URL; !docs.empty()) {
      rule["helpUri"] = std::string(docs) + "#" + std::string(spec.id);
    }
    rules.push_back(std::move(rule));
  }
  json results = json::array();
  for (const Finding& f : report.findings) {
    const json physical = physical_location(f.source.file, f.source.line);
    std::string qualified = f.object.kind + "/";
    if (!f.object.ns.empty()) qualified += f.object.ns + "/";
    qualified += f.object.name;
    json location = {
        {"logicalLocations", json::array({{{"fullyQualifiedName", qualified}, {"kind", "object"}}})}};
    if (!physical.is_null()) location["physicalLocation"] = physical;
    json result = {{"ruleId", f.rule},
                   {"level", sarif_level(f.severity)},
                   {"message", {{"text", f.message + (f.fix.empty() ? "" : " Fix: " + f.fix)}}},
                   {"locations", json::array({std::move(location)})},
                   {"properties", {{"path", f.path}, {"paths", f.paths}, {"fix", f.fix}}}};
    if (!f.cause.empty()) result["properties"]["cause"] = f.cause;
    if (auto it = rule_index.find(f.rule); it != rule_index.end()) result["ruleIndex"] = it->second;
    if (f.exempted) {
      result["suppressions"] = json::array({{{"kind", "inSource"}, {"justification", f.exemption_reason}}});
    }
    results.push_back(std::move(result));
  }
  json notifications = json::array();
  for (const core::LoadError& e : report.errors) {
    json n = {{"level", "error"}, {"message", {{"text", e.message}}}};
    if (json physical = physical_location(e.file, e.line); !physical.is_null()) {
      n["locations"] = json::array({{{"physicalLocation", std::move(physical)}}});
    }
    notifications.push_back(std::move(n));
  }
  for (const core::LoadError& e : report.skipped) {
    json n = {{"level", "note"}, {"message", {{"text", "skipped: " + e.message}}}};
    if (json physical = physical_location(e.file, e.line); !physical.is_null()) {
      n["locations"] = json::array({{{"physicalLocation", std::move(physical)}}});
    }
    notifications.push_back(std::move(n));
  }
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  if (ec || cwd.empty()) cwd = "/";
  if (cwd.back() != '/') cwd += '/';
  const std::string base_uri = "file://" + uri_path(cwd);
  const json out = {
      {"$schema", "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       json::array({{{"tool",
                      {{"driver",
                        {{"name", "wirecheck"},
                         {"version", WIRECHECK_VERSION},
                         {"rules", std::move(rules)}}}}},
                     {"originalUriBaseIds", {{kSrcRoot, {{"uri", base_uri}}}}},
                     {"properties", {{"applyNamespace", placement_json(report.placement)}}},
                     {"invocations",
                      json::array({{{"executionSuccessful", report.errors.empty()},
                                    {"toolExecutionNotifications", std::move(notifications)}}})},
                     {"results", std::move(results)}}})}};
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

namespace {

void emit_yaml(YAML::Emitter& out, const json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [key, value] : j.items()) {
      out << YAML::Key << key << YAML::Value;
      emit_yaml(out, value);
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::BeginSeq;
    for (const json& item : j) emit_yaml(out, item);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    // Quoted, so that "true", "8443" or "null" stay strings.
    out << YAML::DoubleQuoted << j.get<std::string>();
  } else if (j.is_boolean()) {
    out << (j.get<bool>() ? "true" : "false");
  } else if (j.is_number_integer()) {
    out << j.get<std::int64_t>();
  } else if (j.is_number()) {
    out << j.get<double>();
  } else {
    out << YAML::Null;
  }
}

}  // namespace

bool parse_fail_on(const std::string& text, std::optional<policy::Severity>& threshold) {
  threshold.reset();
  if (text == "never") return true;
  threshold = policy::parse_severity(text);
  return threshold.has_value();
}

core::Result<policy::Settings> settings_from(const std::string& file) {
  if (file.empty()) return policy::Settings::defaults();
  return policy::load_settings_file(file);
}

int exit_code(const policy::LintReport& report, std::optional<policy::Severity> threshold, const char* command,
              bool list_errors) {
  if (!report.errors.empty()) {
    for (const auto& e : list_errors ? report.errors : std::vector<core::LoadError>{}) {
      const std::string where = e.line > 0 ? e.file + ":" + std::to_string(e.line) : e.file;
      std::fprintf(stderr, "wirecheck %s: %s: %s\n", command, where.c_str(), e.message.c_str());
    }
    return 2;
  }
  return threshold && report.has_at_least(*threshold) ? 1 : 0;
}

int write_report(const policy::LintReport& report, const std::string& format, bool color,
                 std::optional<policy::Severity> threshold, const char* command) {
  if (format == "json") {
    std::cout << format_json(report);
  } else if (format == "sarif") {
    std::cout << format_sarif(report);
  } else {
    std::cout << format_text(report, color);
  }
  std::cout.flush();
  // Text output already lists the errors.
  return exit_code(report, threshold, command, format != "text");
}

std::string format_yaml_documents(const std::vector<json>& documents) {
  std::string out;
  for (const json& doc : documents) {
    YAML::Emitter emitter;
    emit_yaml(emitter, doc);
    out += "---\n";
    out += emitter.c_str();
    out += '\n';
  }
  return out;
}

}  // namespace wirecheck::cli
