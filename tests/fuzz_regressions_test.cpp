// Inputs that once crashed, hung or blew up memory (found by fuzzing or by
// the abuse runs of issue 10), replayed through the same entry points the
// fuzz targets drive: tests/fixtures/fuzz-regressions/<target>/<case>.
// A new finding of `make fuzz` lands here as a file, named for what it did.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "admission/handler.hpp"
#include "support.hpp"
#include "wirecheck/ca_bundle.hpp"
#include "wirecheck/lint.hpp"
#include "wirecheck/manifest.hpp"
#include "wirecheck/settings.hpp"

using namespace wirecheck;

namespace {

std::vector<std::filesystem::path> cases(const std::string& target) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(testing::fixtures_dir() + "/fuzz-regressions/" + target)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("fuzz regressions: admission reviews get a JSON answer in every mode") {
  const policy::Engine engine;
  const admission::AdmissionHandler handler(engine, admission::empty_context_source(), {});
  const auto files = cases("admission");
  REQUIRE_FALSE(files.empty());
  for (const auto& file : files) {
    INFO(file.filename().string());
    const simdjson::padded_string body(testing::read_file(file.string()));
    for (const auto mode : {admission::Mode::kEnforce, admission::Mode::kWarn, admission::Mode::kAudit}) {
      admission::Outcome out;
      handler.handle(body.data(), body.size(), mode, out);
      CHECK((out.http_status == 200 || out.http_status == 400));
      CHECK_FALSE(nlohmann::json::parse(out.body, nullptr, false).is_discarded());
      CHECK_FALSE(out.internal_error);
    }
  }
}

TEST_CASE("fuzz regressions: manifests load and lint") {
  const policy::Engine engine;
  for (const auto& file : cases("manifest")) {
    INFO(file.filename().string());
    core::ManifestSet set;
    core::load_stream(testing::read_file(file.string()), file.filename().string(), set);
    const auto report = policy::lint_manifests(set, engine);
    CHECK(report.summary.objects + report.errors.size() > 0);
  }
}

TEST_CASE("fuzz regressions: CA bundles parse or fail with a message") {
  for (const auto& file : cases("ca_bundle")) {
    INFO(file.filename().string());
    const std::string text = testing::read_file(file.string());
    for (const auto& r : {core::parse_ca_bundle(text), core::parse_pem_certificates(text)}) {
      if (!r) CHECK_FALSE(r.error().empty());
    }
  }
}

TEST_CASE("fuzz regressions: configuration files parse or fail with a message") {
  for (const auto& file : cases("settings")) {
    INFO(file.filename().string());
    const auto r = policy::parse_settings(testing::read_file(file.string()));
    if (!r) CHECK_FALSE(r.error().empty());
  }
}
