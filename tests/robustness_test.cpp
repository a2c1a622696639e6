// Untrusted input never crashes the loader or the decoder: bounded,
// deterministic mutations (byte flips, truncations, inserted structure) of
// real inputs. Run under -DWIRECHECK_SANITIZE=ON this also checks memory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <random>

#include "support.hpp"
#include "wirecheck/decode.hpp"
#include "wirecheck/lint.hpp"
#include "wirecheck/object_index.hpp"

using namespace wirecheck;

namespace {

// One mutation of `text`, chosen by `rng`.
std::string mutate(const std::string& text, std::mt19937& rng) {
  static const std::string kTokens[] = {"{", "}", "[", "]", ":", ",", "\"", "- ", "\n", "---\n",
                                        "&a ", "*a", "!!int ", "null", "true", "1e999", "\t", "\\u0000"};
  std::string out = text;
  if (out.empty()) return out;
  std::uniform_int_distribution<std::size_t> pos(0, out.size() - 1);
  switch (rng() % 4) {
    case 0:  // flip a few bytes
      for (int i = 0; i < 4; ++i) out[pos(rng)] = static_cast<char>(rng() % 256);
      break;
    case 1:  // truncate
      out.resize(pos(rng));
      break;
    case 2:  // insert structure
      out.insert(pos(rng), kTokens[rng() % std::size(kTokens)]);
      break;
    default:  // duplicate a slice
      {
        const std::size_t a = pos(rng);
        const std::size_t n = std::min<std::size_t>(rng() % 64, out.size() - a);
        out.insert(pos(rng), out.substr(a, n));
      }
      break;
  }
  return out;
}

std::vector<std::string> fixture_texts() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(testing::fixtures_dir() + "/rules")) {
    if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  for (const auto& f : files) texts.push_back(testing::read_file(f.string()));
  return texts;
}

}  // namespace

TEST_CASE("robustness: mutated manifests are linted or reported, never a crash") {
  const auto texts = fixture_texts();
  REQUIRE(texts.size() > 50);
  std::mt19937 rng(20261122);
  const policy::Engine engine;
  std::size_t objects = 0, errors = 0;
  for (int round = 0; round < 1500; ++round) {
    const std::string input = mutate(texts[rng() % texts.size()], rng);
    core::ManifestSet set;
    core::load_stream(input, "mutated.yaml", set);
    const auto report = policy::lint_manifests(set, engine);
    objects += report.summary.objects;
    errors += report.errors.size();
    for (const auto& e : report.errors) CHECK_FALSE(e.message.empty());
  }
  // Both outcomes happen: the mutations are neither all harmless nor all fatal.
  CHECK(objects > 0);
  CHECK(errors > 0);
}

TEST_CASE("robustness: mutated JSON objects decode or fail with a message, never a crash") {
  const auto set = testing::load_fixture("lint/metrics-service-broken.yaml");
  const std::string json =
      R"({"apiVersion":"monitoring.coreos.com/v1","kind":"ServiceMonitor","metadata":{"name":"m","namespace":"n",)"
      R"("labels":{"a":"b"}},"spec":{"selector":{"matchLabels":{"a":"b"},"matchExpressions":[{"key":"k","operator":"In",)"
      R"("values":["x"]}]},"endpoints":[{"port":"https","scheme":"https","tlsConfig":{"ca":{"secret":{"name":"s",)"
      R"("key":"ca.crt"}},"serverName":""}}]}})";
  std::mt19937 rng(7);
  const policy::Engine engine;
  policy::ObjectIndex context;
  context.add_all(set.objects);
  std::size_t decoded = 0, failed = 0;
  for (int round = 0; round < 3000; ++round) {
    const std::string input = mutate(json, rng);
    auto r = core::decode_object(input);
    if (r.ok()) {
      ++decoded;
      (void)engine.evaluate(r.value(), nullptr, policy::Operation::kCreate, context);
    } else {
      ++failed;
      CHECK_FALSE(r.error().empty());
    }
  }
  CHECK(decoded > 0);
  CHECK(failed > 0);
}
