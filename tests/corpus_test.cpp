// The real-manifest corpus (../shared/corpus): each folder's YAML files are
// linted together and compared with its expect.json. Every expected deny,
// warn and info finding must be reported; no deny may appear that is not
// listed (extra warnings are tolerated). Expectations naming a
// rule that does not exist yet are counted as pending and printed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support.hpp"
#include "wirecheck/lint.hpp"
#include "wirecheck/rule.hpp"

namespace fs = std::filesystem;
using namespace wirecheck;

namespace {

bool reported(const policy::LintReport& report, const std::string& rule, const std::string& kind,
              const std::string& name, policy::Severity severity) {
  return std::any_of(report.findings.begin(), report.findings.end(), [&](const policy::Finding& f) {
    return f.rule == rule && f.object.kind == kind && f.object.name == name && f.severity == severity &&
           !f.exempted;
  });
}

}  // namespace

TEST_CASE("corpus: real manifests give the findings their expect.json lists, and no false deny") {
  const std::string shared = testing::shared_dir();
  const fs::path corpus = fs::path(shared) / "corpus";
  REQUIRE(fs::is_directory(corpus));
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(corpus)) {
    if (e.is_directory()) cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE_FALSE(cases.empty());

  const policy::Engine engine;
  std::size_t pending = 0, matched = 0;
  for (const fs::path& dir : cases) {
    const std::string name = dir.filename().string();
    INFO("corpus case " << name);
    const auto expect = nlohmann::json::parse(testing::read_file((dir / "expect.json").string()));

    core::ManifestSet set;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir)) {
      const auto ext = e.path().extension();
      if (ext == ".yaml" || ext == ".yml") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) core::load_path(f.string(), set);
    for (const auto& err : set.errors) FAIL_CHECK(err.file << ":" << err.line << ": " << err.message);
    const auto report = policy::lint_manifests(set, engine);

    const std::pair<const char*, policy::Severity> levels[] = {
        {"deny", policy::Severity::kDeny}, {"warn", policy::Severity::kWarn}, {"info", policy::Severity::kInfo}};
    for (const auto& [key, severity] : levels) {
      for (const auto& e : expect.value(key, nlohmann::json::array())) {
        const std::string rule = e.at("rule"), kind = e.at("kind"), obj = e.at("name");
        if (policy::Registry::find(rule) == nullptr) {
          ++pending;
          WARN("pending (rule not implemented yet): " << name << ": " << key << " " << rule << " " << kind
                                                      << "/" << obj);
          continue;
        }
        ++matched;
        if (!reported(report, rule, kind, obj, severity)) {
          FAIL_CHECK(name << ": expected " << key << " " << rule << " on " << kind << "/" << obj);
        }
      }
    }
    // No deny beyond the listed ones (extra warnings are tolerated, corpus/README.md).
    for (const auto& f : report.findings) {
      if (f.exempted || f.severity != policy::Severity::kDeny) continue;
      const char* key = "deny";
      const bool listed = std::any_of(expect[key].begin(), expect[key].end(), [&](const nlohmann::json& e) {
        return e.at("rule") == f.rule && e.at("kind") == f.object.kind && e.at("name") == f.object.name;
      });
      if (!listed) {
        FAIL_CHECK(name << ": unexpected " << key << " " << f.rule << " on " << f.object.kind << "/"
                        << f.object.name << " at " << f.path << ": " << f.message);
      }
    }
  }
  std::printf("corpus: %zu cases, %zu expectations checked, %zu pending\n", cases.size(), matched, pending);
  WARN("corpus: " << cases.size() << " cases, " << matched << " expectations checked, " << pending
                  << " pending");
  CHECK(matched > 0);
}
