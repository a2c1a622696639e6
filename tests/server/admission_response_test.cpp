// Response building and decision details that need no server: JSON escaping
// of any byte sequence, warning length, mode -> action table.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "admission/decision.hpp"
#include "admission/response.hpp"

using namespace wirecheck;
using namespace wirecheck::admission;

namespace {

policy::Finding finding(const std::string& rule, policy::Severity severity, std::string message = "broken") {
  policy::Finding f;
  f.rule = rule;
  f.severity = severity;
  f.path = "spec.x";
  f.message = std::move(message);
  f.fix = "set x";
  return f;
}

}  // namespace

TEST_CASE("response: every string is escaped into valid JSON (quotes, controls, bad UTF-8)", "[server][unit]") {
  const std::string nasty = std::string("q\"b\\s\n\t\x01\x1f end ") + "\xC3\xA9 \xF0\x9F\x98\x80 \xFF\xC3 \xED\xA0\x80";
  Decision d;
  d.allowed = false;
  d.code = 403;
  d.reason = "Forbidden";
  d.message = nasty;
  d.warnings = {nasty};
  d.audit_annotations = {{"rule", nasty}};
  const std::string body = build_review_response("admission.k8s.io/v1", "uid\"1", d);
  const auto json = nlohmann::json::parse(body);  // throws on invalid JSON or UTF-8
  CHECK(json["response"]["uid"] == "uid\"1");
  const std::string message = json["response"]["status"]["message"];
  CHECK(message.rfind("q\"b\\s\n\t\x01\x1f end \xC3\xA9 \xF0\x9F\x98\x80 ", 0) == 0);
  CHECK(message.find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD for the invalid bytes
}

TEST_CASE("response: a byte that needs escaping is found wherever it sits in a run", "[server][unit]") {
  // Plain runs are scanned eight bytes at a time: every escapable byte, at
  // every offset of a word and past the last whole word, must still be seen.
  const std::pair<char, std::string> escaped[] = {
      {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\n"}, {'\x01', "\\u0001"}, {'\x1f', "\\u001f"}, {'\0', "\\u0000"}};
  for (const auto& [c, want] : escaped) {
    for (std::size_t length = 1; length <= 19; ++length) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string text(length, 'a');
        text[at] = c;
        std::string out;
        append_json_string(out, text);
        CHECK(out == "\"" + std::string(at, 'a') + want + std::string(length - at - 1, 'a') + "\"");
      }
    }
  }
  std::string high(19, ' ');
  high[11] = '\xFF';
  std::string out;
  append_json_string(out, high);
  CHECK(out == "\"" + std::string(11, ' ') + "\xEF\xBF\xBD" + std::string(7, ' ') + "\"");
  out.clear();
  append_json_string(out, "~!#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}\x7f");
  CHECK(out == "\"~!#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}\x7f\"");
}

TEST_CASE("response: warnings stay under 256 bytes without splitting UTF-8", "[server][unit]") {
  std::string long_message;
  for (int i = 0; i < 200; ++i) long_message += "\xC3\xA9";  // 400 bytes of 'é'
  const std::string w = format_warning(finding("some-rule", policy::Severity::kWarn, long_message));
  CHECK(w.size() <= kMaxWarningBytes);
  // Too long even alone: the path is dropped first, then the message is cut.
  CHECK(w.rfind("wirecheck/some-rule: \xC3\xA9", 0) == 0);
  CHECK_NOTHROW(nlohmann::json::parse("\"" + w + "\""));
  CHECK(w.substr(w.size() - 3) == "...");
}

TEST_CASE("decision: mode x severity table", "[server][unit]") {
  using policy::Severity;
  const std::vector<policy::Finding> findings = {finding("a-deny", Severity::kDeny),
                                                 finding("b-warn", Severity::kWarn),
                                                 finding("c-info", Severity::kInfo)};
  const Decision enforce = decide(findings, Mode::kEnforce, "Kind ns/name");
  CHECK_FALSE(enforce.allowed);
  CHECK(enforce.code == 403);
  CHECK_THAT(enforce.message, Catch::Contains("[a-deny] spec.x: broken. Fix: set x"));
  CHECK(enforce.warnings.size() == 1);
  CHECK(enforce.audit_annotations.empty());

  const Decision warn = decide(findings, Mode::kWarn, "Kind ns/name");
  CHECK(warn.allowed);
  CHECK(warn.warnings.size() == 2);

  const Decision audit = decide(findings, Mode::kAudit, "Kind ns/name");
  CHECK(audit.allowed);
  CHECK(audit.warnings.empty());
  CHECK(audit.audit_annotations.size() == 3);

  auto exempted = findings;
  for (auto& f : exempted) f.exempted = true;
  const Decision none = decide(exempted, Mode::kEnforce, "Kind ns/name");
  CHECK(none.allowed);
  CHECK(none.warnings.empty());
  CHECK(action_for(exempted[0], Mode::kEnforce) == Action::kExempt);
}
