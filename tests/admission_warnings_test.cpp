// What kubectl shows: admission warnings (message and fix, each line under
// 256 characters, never cut mid-word) and the deny message's first line.
#include <catch2/catch.hpp>

#include "admission/decision.hpp"
#include "support.hpp"

using namespace wirecheck;
using admission::format_warnings;
using testing::contains;

namespace {

policy::Finding finding(std::string rule, policy::Severity severity, std::string message, std::string fix,
                        std::vector<std::string> paths = {"spec.x"}) {
  policy::Finding f;
  f.rule = std::move(rule);
  f.severity = severity;
  f.path = paths.front();
  f.paths = std::move(paths);
  f.message = std::move(message);
  f.fix = std::move(fix);
  f.object = {"v1", "Service", "demo", "web"};
  return f;
}

}  // namespace

TEST_CASE("admission warnings: message and fix that fit share one line") {
  const auto lines = format_warnings(finding("some-rule", policy::Severity::kWarn, "it breaks", "do this"));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "wirecheck/some-rule: spec.x: it breaks. Fix: do this");
}

TEST_CASE("admission warnings: when message and fix do not fit, the fix gets its own line, nothing is cut") {
  const std::string message(150, 'm');
  const std::string fix = "set " + std::string(140, 'f');
  const auto lines = format_warnings(finding("some-rule", policy::Severity::kWarn, message, fix));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "wirecheck/some-rule: spec.x: " + message);
  CHECK(lines[1] == "wirecheck/some-rule fix: " + fix);
}

TEST_CASE("admission warnings: a part too long alone is cut at a word boundary with '...'") {
  std::string message;
  while (message.size() < 400) message += "word ";
  const auto lines = format_warnings(finding("some-rule", policy::Severity::kWarn, message, ""));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].size() <= admission::kMaxWarningBytes);
  CHECK_THAT(lines[0], Catch::EndsWith("word..."));
}

TEST_CASE("admission warnings: a finding covering several entries says how many") {
  const auto lines = format_warnings(
      finding("r", policy::Severity::kWarn, "m", "f", {"webhooks[0].x", "webhooks[1].x", "webhooks[2].x"}));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "wirecheck/r: webhooks[0].x (+2 more): m. Fix: f");
}

TEST_CASE("admission deny: the first line names the rule ids and what breaks") {
  const std::vector<policy::Finding> findings = {
      finding("service-target-port-missing", policy::Severity::kDeny, "port 443 targets \"https\", undeclared",
              "declare it"),
      finding("probe-port-not-declared", policy::Severity::kDeny, "probe port missing", "declare it"),
      finding("servicemonitor-insecure-skip-verify", policy::Severity::kWarn, "skips verification", "verify")};
  const auto d = admission::decide(findings, admission::Mode::kEnforce, "Service demo/web");
  CHECK_FALSE(d.allowed);
  const std::string first = d.message.substr(0, d.message.find('\n'));
  CHECK_THAT(first, Catch::StartsWith("wirecheck/service-target-port-missing, wirecheck/probe-port-not-declared: "
                                      "port 443 targets \"https\", undeclared (+1 more)"));
  CHECK(contains(first, "Service demo/web"));
  CHECK(contains(d.message, "\n[probe-port-not-declared] spec.x: probe port missing. Fix: declare it"));
  REQUIRE(d.warnings.size() == 1);
  CHECK(d.warnings[0] == "wirecheck/servicemonitor-insecure-skip-verify: spec.x: skips verification. Fix: verify");
}

TEST_CASE("admission audit: one annotation per rule, listing how many entries it covers") {
  const std::vector<policy::Finding> findings = {
      finding("webhook-missing-ca-bundle", policy::Severity::kWarn, "no caBundle", "set it",
              {"webhooks[0].clientConfig.caBundle", "webhooks[1].clientConfig.caBundle"})};
  const auto d = admission::decide(findings, admission::Mode::kAudit, "ValidatingWebhookConfiguration v");
  REQUIRE(d.audit_annotations.size() == 1);
  CHECK(d.audit_annotations[0].second == "warn webhooks[0].clientConfig.caBundle (+1 more): no caBundle");
}
