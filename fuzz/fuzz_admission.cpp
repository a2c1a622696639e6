// AdmissionReview bodies -> the whole decision (parse, decode, engine,
// response) in every mode, and the answer is always a JSON body with status
// 200 or 400. What an unauthenticated caller of the webhook controls.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "admission/handler.hpp"
#include "wirecheck/engine.hpp"

using namespace wirecheck;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const policy::Engine engine;
  static const admission::AdmissionHandler handler(engine, admission::empty_context_source(), {});
  const simdjson::padded_string body(reinterpret_cast<const char*>(data), size);
  for (const auto mode : {admission::Mode::kEnforce, admission::Mode::kWarn, admission::Mode::kAudit}) {
    admission::Outcome out;
    handler.handle(body.data(), body.size(), mode, out);
    if (out.http_status != 200 && out.http_status != 400) std::abort();
    if (out.body.empty() || out.body.front() != '{') std::abort();
  }
  return 0;
}
