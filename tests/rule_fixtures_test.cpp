// Every rule's fixtures: tests/fixtures/rules/<rule-id>/fail.<case>.yaml must
// yield a finding of <rule-id> on its first document, and pass.<case>.yaml
// no deny or warn (info, advice on a manifest that works, is allowed; the
// rule's own tests pin it). Further documents in a fixture are context. Every
// finding has a path, a message and a fix, and its admission warning lines
// carry message and fix unbroken (no cut) within the 256-character limit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "admission/decision.hpp"
#include "support.hpp"
#include "wirecheck/rule.hpp"

namespace fs = std::filesystem;
using namespace wirecheck;

TEST_CASE("rule fixtures: every fail.* case fires its rule and every pass.* case does not") {
  const fs::path root = testing::fixtures_dir() + "/rules";
  REQUIRE(fs::is_directory(root));
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE_FALSE(files.empty());

  std::size_t checked = 0;
  for (const fs::path& file : files) {
    const std::string rule = file.parent_path().filename().string();
    const std::string name = file.filename().string();
    const std::string relative = fs::relative(file, testing::fixtures_dir()).string();
    DYNAMIC_SECTION(relative) {
      INFO("fixture " << relative);
      // The folder names a registered rule, and the file says what to expect.
      REQUIRE(policy::Registry::find(rule) != nullptr);
      const bool expect_fail = name.rfind("fail.", 0) == 0;
      REQUIRE((expect_fail || name.rfind("pass.", 0) == 0));
      const auto set = testing::load_fixture(relative);
      const auto findings = testing::of_rule(testing::evaluate(set), rule);
      if (expect_fail) {
        CHECK_FALSE(findings.empty());
        for (const auto& f : findings) {
          CHECK_FALSE(f.message.empty());
          CHECK_FALSE(f.fix.empty());
          CHECK_FALSE(f.path.empty());
          // The API server may truncate warnings of 256 characters or more;
          // wirecheck splits message and fix over two lines rather than cut.
          INFO(f.message << " | fix: " << f.fix);
          CHECK(("wirecheck/" + f.rule + ": " + f.message).size() < 256);
          CHECK(("wirecheck/" + f.rule + " fix: " + f.fix).size() < 256);
          std::string shown;
          for (const std::string& line : admission::format_warnings(f)) {
            CHECK(line.size() < 256);
            shown += line + "\n";
          }
          CHECK(testing::contains(shown, f.message));
          CHECK(testing::contains(shown, f.fix));
        }
      } else {
        for (const auto& f : findings) {
          if (f.severity == policy::Severity::kInfo) continue;
          FAIL_CHECK("unexpected " << f.rule << " " << policy::severity_name(f.severity) << " at " << f.path
                                   << ": " << f.message);
        }
      }
    }
    ++checked;
  }
  CHECK(checked == files.size());
}

TEST_CASE("rule fixtures: every registered rule has fixtures or is a DELETE-only rule") {
  const std::string root = testing::fixtures_dir() + "/rules/";
  for (const auto& spec : policy::Registry::all()) {
    const std::string id(spec.id);
    INFO("rule " << id);
    if (!spec.operations.has(policy::Operation::kCreate)) continue;  // lint cannot express DELETE
    bool has_fail = false, has_pass = false;
    if (fs::is_directory(root + id)) {
      for (const auto& e : fs::directory_iterator(root + id)) {
        const std::string n = e.path().filename().string();
        has_fail |= n.rfind("fail.", 0) == 0;
        has_pass |= n.rfind("pass.", 0) == 0;
      }
    }
    CHECK(has_fail);
    CHECK(has_pass);
  }
}
