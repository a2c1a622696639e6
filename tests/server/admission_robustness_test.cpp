// The admission boundary under mutated input: every captured AdmissionReview
// (tests/fixtures/admission), mutated thousands of ways, gets an answer
// that is 200 or 400 with a JSON body, and a 200 answer echoes the uid of a
// review that still parses. Deterministic and bounded; with
// -DWIRECHECK_SANITIZE=ON it also checks memory.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "admission/handler.hpp"
#include "server_fixture.hpp"
#include "wirecheck/engine.hpp"

using namespace wirecheck;

TEST_CASE("admission: mutated captured reviews always get a JSON answer with status 200 or 400") {
  const std::string dir = servertest::admission_fixtures_dir();
  if (!std::filesystem::is_directory(dir)) FAIL("missing captured reviews: " << dir);
  std::vector<std::string> bodies;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") bodies.push_back(servertest::read_text(e.path().string()));
  }
  std::sort(bodies.begin(), bodies.end());
  REQUIRE(bodies.size() > 20);

  const policy::Engine engine;
  const admission::AdmissionHandler handler(engine, admission::empty_context_source(), {});
  std::mt19937 rng(5);
  std::size_t answered = 0, rejected = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string body = bodies[rng() % bodies.size()];
    std::uniform_int_distribution<std::size_t> pos(0, body.size() - 1);
    switch (rng() % 3) {
      case 0:
        for (int i = 0; i < 3; ++i) body[pos(rng)] = static_cast<char>(rng() % 256);
        break;
      case 1:
        body.resize(pos(rng));
        break;
      default:
        body.insert(pos(rng), std::string(1, "{}[]\":,0n"[rng() % 9]));
        break;
    }
    const simdjson::padded_string padded(body);
    admission::Outcome out;
    const auto mode = static_cast<admission::Mode>(rng() % 3);
    handler.handle(padded.data(), padded.size(), mode, out);
    INFO("round " << round);
    REQUIRE((out.http_status == 200 || out.http_status == 400));
    const auto answer = nlohmann::json::parse(out.body, nullptr, false);
    REQUIRE_FALSE(answer.is_discarded());
    if (out.http_status == 200) {
      ++answered;
      CHECK(answer["response"]["uid"] == out.uid);
    } else {
      ++rejected;
    }
  }
  CHECK(answered > 0);
  CHECK(rejected > 0);
}

TEST_CASE("admission: reviews missing request or with wrong-typed fields are 400, never a crash") {
  const policy::Engine engine;
  const admission::AdmissionHandler handler(engine, admission::empty_context_source(), {});
  const char* const bodies[] = {
      R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"})",
      R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":null})",
      R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":[1]})",
      R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":7}})",
      R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u","operation":"CREATE","kind":"Service"}})",
      R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u","operation":"CREATE","kind":{"kind":"Service"},"userInfo":"x","object":[]}})",
      R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1","request":{"uid":"u","operation":"DELETE","kind":{"kind":"Service"},"object":null,"oldObject":{}}})",
  };
  for (const char* body : bodies) {
    INFO(body);
    const simdjson::padded_string padded{std::string(body)};
    admission::Outcome out;
    handler.handle(padded.data(), padded.size(), admission::Mode::kEnforce, out);
    CHECK((out.http_status == 200 || out.http_status == 400));
    CHECK_FALSE(nlohmann::json::parse(out.body, nullptr, false).is_discarded());
  }
}
