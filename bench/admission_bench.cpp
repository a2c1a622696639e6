// Per-request CPU cost of the admission path, without TLS and HTTP: parse the
// AdmissionReview (simdjson), decode the object, run the engine, build the
// response. Inputs are the shared yardstick fixtures (../shared/bench), the
// same bodies the load comparison with the Go peer uses. The budget is about
// 25 us per request for the 5.7 KB Deployment review.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "admission/handler.hpp"
#include "core/decode_dom.hpp"
#include "wirecheck/context.hpp"
#include "wirecheck/decode.hpp"
#include "wirecheck/engine.hpp"
#include "wide_pod.hpp"

namespace {

using namespace wirecheck;

// The fixture as a simdjson padded string (the server reads bodies into
// padded buffers too).
const simdjson::padded_string& fixture(const std::string& name) {
  static std::map<std::string, simdjson::padded_string> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    const std::string path = std::string(WIRECHECK_SHARED_DIR) + "/bench/fixtures/" + name + ".json";
    std::ifstream in(path, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    it = cache.emplace(name, simdjson::padded_string(buf.str())).first;
  }
  return it->second;
}

bool have_fixture(benchmark::State& state, const std::string& name) {
  if (fixture(name).size() == 0) {
    state.SkipWithError(("missing ../shared/bench/fixtures/" + name + ".json").c_str());
    return false;
  }
  return true;
}

const policy::Engine& engine() {
  static const policy::Engine instance;
  return instance;
}

void BM_Admission(benchmark::State& state, const std::string& name, admission::Mode mode) {
  if (!have_fixture(state, name)) return;
  const auto& body = fixture(name);
  const admission::AdmissionHandler handler(engine(), admission::empty_context_source(), {});
  bool allowed = true;
  for (auto _ : state) {
    admission::Outcome out;
    handler.handle(body.data(), body.size(), mode, out);
    allowed = out.allowed;
    benchmark::DoNotOptimize(out.body.data());
  }
  state.counters["allowed"] = allowed ? 1 : 0;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

// Parsing alone: the floor the rest is added to.
void BM_ParseOnly(benchmark::State& state, const std::string& name) {
  if (!have_fixture(state, name)) return;
  const auto& body = fixture(name);
  for (auto _ : state) {
    simdjson::dom::element root;
    auto err = core::thread_parser().parse(body).get(root);
    benchmark::DoNotOptimize(err);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}

// Parse + decode of request.object into the typed model.
void BM_DecodeObject(benchmark::State& state, const std::string& name) {
  if (!have_fixture(state, name)) return;
  const auto& body = fixture(name);
  for (auto _ : state) {
    simdjson::dom::element root;
    if (core::thread_parser().parse(body).get(root) != simdjson::SUCCESS) {
      state.SkipWithError("fixture does not parse");
      return;
    }
    core::Object o = core::decode_element(root["request"]["object"].value_unsafe());
    benchmark::DoNotOptimize(o.name().data());
  }
}

// Rule evaluation on an already decoded object, with no context.
void evaluate_repeatedly(benchmark::State& state, const core::Object& o) {
  const policy::EmptyContext ctx;
  std::size_t findings = 0;
  for (auto _ : state) {
    auto f = engine().evaluate(o, nullptr, policy::Operation::kCreate, ctx);
    findings = f.size();
    benchmark::DoNotOptimize(f.data());
  }
  state.counters["findings"] = static_cast<double>(findings);
}

// Rule evaluation on a fixture's object, decoded once.
void BM_Evaluate(benchmark::State& state, const std::string& name) {
  if (!have_fixture(state, name)) return;
  simdjson::dom::element root;
  if (core::thread_parser().parse(fixture(name)).get(root) != simdjson::SUCCESS) {
    state.SkipWithError("fixture does not parse");
    return;
  }
  evaluate_repeatedly(state, core::decode_element(root["request"]["object"].value_unsafe()));
}

// The rules on a pod of N containers that all bind 127.0.0.1:8080 and probe
// it (issue 10: 0.24 s at 1k containers, 67 s at 16k when each finding
// rescanned the pod). Built directly, past the decoder's 1,000-container
// cap: the per-container time must stay flat as N grows.
void BM_LoopbackProbes(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  evaluate_repeatedly(state, testing::wide_pod(n, /*with_proxies=*/false));
  // Containers per second: flat across N means linear.
  state.counters["containers"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_LoopbackProbes)->Arg(1000)->Arg(4000)->Arg(16384)->Unit(benchmark::kMillisecond);

}  // namespace

#define WIRECHECK_FIXTURE_BENCHES(name)                                                         \
  BENCHMARK_CAPTURE(BM_ParseOnly, name, #name);                                                 \
  BENCHMARK_CAPTURE(BM_DecodeObject, name, #name);                                              \
  BENCHMARK_CAPTURE(BM_Evaluate, name, #name);                                                  \
  BENCHMARK_CAPTURE(BM_Admission, name##_enforce, #name, wirecheck::admission::Mode::kEnforce); \
  BENCHMARK_CAPTURE(BM_Admission, name##_warn, #name, wirecheck::admission::Mode::kWarn);

WIRECHECK_FIXTURE_BENCHES(deployment)
WIRECHECK_FIXTURE_BENCHES(servicemonitor)
WIRECHECK_FIXTURE_BENCHES(service)
WIRECHECK_FIXTURE_BENCHES(large)

BENCHMARK_MAIN();
