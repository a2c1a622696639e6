// Bounded admission: objects past the decode limits, evaluations past the
// time budget and allocation failures are answered on the fail-open /
// fail-closed path, never silently; the answer and the log line stay small
// whatever the request carried. In-process (no TLS): what is tested here is
// the handler and the log format, not the transport.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>

#include "admission/handler.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"
#include "wirecheck/decode.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/rule.hpp"

using namespace wirecheck;
using nlohmann::json;

namespace {

// A Deployment that breaks probe-targets-loopback-port (deny), padded with
// `padding` empty containers.
json violating_deployment(std::size_t padding) {
  json containers = json::array();
  containers.push_back({{"name", "app"},
                        {"args", {"--metrics-bind-address=127.0.0.1:8080"}},
                        {"readinessProbe", {{"httpGet", {{"port", 8080}}}}}});
  for (std::size_t i = 0; i < padding; ++i) containers.push_back(json::object());
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", "web"}, {"namespace", "demo"}}},
          {"spec", {{"template", {{"spec", {{"containers", containers}}}}}}}};
}

std::string review(const json& object, const std::string& operation = "CREATE") {
  const bool is_delete = operation == "DELETE";
  return json{{"apiVersion", "admission.k8s.io/v1"},
              {"kind", "AdmissionReview"},
              {"request",
               {{"uid", "uid-1"},
                {"kind", {{"group", "apps"}, {"version", "v1"}, {"kind", "Deployment"}}},
                {"name", "web"},
                {"namespace", "demo"},
                {"operation", operation},
                {"userInfo", {{"username", "alice"}}},
                {"object", is_delete ? json(nullptr) : object},
                {"oldObject", is_delete ? object : json(nullptr)}}}}
      .dump();
}

struct Answer {
  admission::Outcome outcome;
  json response;
};

Answer handle(const std::string& body, admission::HandlerOptions options,
              admission::Mode mode = admission::Mode::kEnforce) {
  static const policy::Engine engine;
  const admission::AdmissionHandler handler(engine, admission::empty_context_source(), options);
  const simdjson::padded_string padded(body);
  Answer a;
  handler.handle(padded.data(), padded.size(), mode, a.outcome);
  a.response = json::parse(a.outcome.body)["response"];
  return a;
}

std::string warnings_of(const json& response) {
  std::string all;
  for (const auto& w : response.value("warnings", json::array())) all += w.get<std::string>() + "\n";
  return all;
}

}  // namespace

TEST_CASE("admission: a violating Deployment within the limits is denied in enforce", "[admission][limits]") {
  const Answer a = handle(review(violating_deployment(10)), {});
  CHECK(a.response["allowed"] == false);
  CHECK(a.response["status"]["code"] == 403);
  CHECK(a.outcome.not_checked.empty());
}

TEST_CASE("admission: padded past the container cap -> not checked, allowed with a warning and annotation (fail-open)",
          "[admission][limits]") {
  const Answer a = handle(review(violating_deployment(core::kDecodeLimits.containers)), {});
  CHECK(a.response["uid"] == "uid-1");
  CHECK(a.response["allowed"] == true);
  CHECK_THAT(warnings_of(a.response),
             Catch::Contains("wirecheck: not checked: it holds at least 1001 containers, over wirecheck's limit of "
                             "1000 per object; allowed without checks (fail-open)"));
  CHECK_THAT(a.response["auditAnnotations"]["not-checked"].get<std::string>(), Catch::Contains("1001 containers"));
  CHECK(a.outcome.not_checked == "object_limit");
  CHECK_FALSE(a.outcome.internal_error);
}

TEST_CASE("admission: padded past the container cap with --fail-closed -> denied 500 naming the limit",
          "[admission][limits]") {
  admission::HandlerOptions options;
  options.fail_closed = true;
  const Answer a = handle(review(violating_deployment(core::kDecodeLimits.containers)), options);
  CHECK(a.response["allowed"] == false);
  CHECK(a.response["status"]["code"] == 500);
  CHECK_THAT(a.response["status"]["message"].get<std::string>(),
             Catch::StartsWith("wirecheck: Deployment demo/web denied (fail-closed): not checked: it holds at "
                               "least 1001 containers"));
}

TEST_CASE("admission: DELETE of an object past its limits is allowed even fail-closed (else it could never go)",
          "[admission][limits]") {
  admission::HandlerOptions options;
  options.fail_closed = true;
  const Answer a = handle(review(violating_deployment(core::kDecodeLimits.containers), "DELETE"), options);
  CHECK(a.response["allowed"] == true);
}

TEST_CASE("admission: an evaluation past its budget -> not checked (fail-open warns, fail-closed denies)",
          "[admission][limits]") {
  admission::HandlerOptions options;
  options.evaluation_budget = std::chrono::milliseconds(0);
  const Answer open = handle(review(violating_deployment(0)), options);
  CHECK(open.response["allowed"] == true);
  CHECK_THAT(warnings_of(open.response), Catch::Contains("wirecheck: not checked: evaluation ran past its time budget"));
  CHECK(open.outcome.not_checked == "budget");

  options.fail_closed = true;
  const Answer closed = handle(review(violating_deployment(0)), options);
  CHECK(closed.response["allowed"] == false);
  CHECK(closed.response["status"]["code"] == 500);
}

TEST_CASE("admission: audit mode records a not-checked object only as an audit annotation", "[admission][limits]") {
  const Answer a = handle(review(violating_deployment(core::kDecodeLimits.containers)), {}, admission::Mode::kAudit);
  CHECK(a.response["allowed"] == true);
  CHECK_FALSE(a.response.contains("warnings"));
  CHECK(a.response["auditAnnotations"].contains("not-checked"));
}

TEST_CASE("admission: allocation failure follows --fail-closed and is counted as out_of_memory", "[admission][limits]") {
  static const policy::Engine engine;
  const auto throwing = []() -> std::shared_ptr<const policy::Context> { throw std::bad_alloc(); };
  const std::string body = review(violating_deployment(0));
  const simdjson::padded_string padded(body);
  server::Metrics metrics({});
  for (const bool fail_closed : {false, true}) {
    const admission::AdmissionHandler handler(engine, throwing, {fail_closed});
    admission::Outcome out;
    handler.handle(padded.data(), padded.size(), admission::Mode::kEnforce, out);
    const json response = json::parse(out.body)["response"];
    CHECK(out.internal_error);
    CHECK(out.not_checked == "out_of_memory");
    CHECK(response["allowed"] == !fail_closed);
    if (fail_closed) {
      CHECK(response["status"]["code"] == 500);
    } else {
      CHECK_THAT(warnings_of(response), Catch::Contains("internal error while evaluating it (out of memory)"));
    }
    metrics.record_review(out, std::chrono::nanoseconds(1000));
  }
  CHECK_THAT(metrics.render(), Catch::Contains("wirecheck_admission_not_checked_total{reason=\"out_of_memory\"} 2"));
  CHECK_THAT(metrics.render(), Catch::Contains("wirecheck_admission_not_checked_total{reason=\"object_limit\"} 0"));
}

TEST_CASE("admission: thousands of findings make an answer of a few KB", "[admission][limits]") {
  json deployment = violating_deployment(0);
  json& containers = deployment["spec"]["template"]["spec"]["containers"];
  for (int i = 1; i < 900; ++i) {
    json c = containers[0];
    c["name"] = "app" + std::to_string(i);
    containers.push_back(c);
  }
  const Answer enforce = handle(review(deployment), {});
  CHECK(enforce.response["allowed"] == false);
  CHECK(enforce.outcome.body.size() < 16 * 1024);
  CHECK(std::count(enforce.outcome.body.begin(), enforce.outcome.body.end(), '[') < 64);

  const Answer warn = handle(review(deployment), {}, admission::Mode::kWarn);
  CHECK(warn.response["allowed"] == true);
  CHECK(warn.outcome.body.size() < 16 * 1024);
  CHECK(warn.response["warnings"].size() <= 21);
  const Answer audit = handle(review(deployment), {}, admission::Mode::kAudit);
  CHECK(audit.outcome.body.size() < 16 * 1024);
}

namespace {

// What `line` writes through the default logger, with the message as the
// whole pattern.
std::string logged(const server::LogLine& line) {
  std::ostringstream sink_text;
  auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(sink_text));
  logger->set_pattern(R"({"msg":%v})");
  const auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);
  line.emit(spdlog::level::info);
  spdlog::set_default_logger(previous);
  return sink_text.str();
}

}  // namespace

TEST_CASE("log: client-supplied fields are cut to a bounded length, the line stays valid JSON", "[admission][limits]") {
  const std::string huge_name(50u << 20, 'n');
  const std::string uid(7u << 20, 'u');
  const std::string line = logged(server::LogLine("admission decision")
                                      .str("uid", uid)
                                      .str("name", huge_name)
                                      .str("user", "alice")
                                      .list("rules", std::vector<std::string>(16384, "probe-targets-loopback-port")));
  CHECK(line.size() < 4096);
  const json parsed = json::parse(line);
  CHECK(parsed["user"] == "alice");
  CHECK_THAT(parsed["name"].get<std::string>(), Catch::EndsWith("...(52428800 bytes)"));
  CHECK(parsed["name"].get<std::string>().size() <= server::kMaxLogValueBytes + 20);
  CHECK(parsed["rules"].size() == server::kMaxLogListItems + 1);
  CHECK(parsed["rules"].back() == "+16352 more");
}

TEST_CASE("log: the line is written as built (braces are text) and numbers as printf's %.6g", "[admission][limits]") {
  const std::string line = logged(server::LogLine("admission decision")
                                      .str("name", "a{}b{0}\"c\\\n\x01\xff")
                                      .real("small", 51.0)
                                      .real("fraction", 12.3456789)
                                      .real("big", 1234567.0));
  CHECK_THAT(line, Catch::Contains(R"("name":"a{}b{0}\"c\\\n\u0001)" "\xEF\xBF\xBD\""));
  CHECK_THAT(line, Catch::Contains(R"("small":51,"fraction":12.3457,"big":1.23457e+06)"));
  CHECK(json::parse(line)["name"] == "a{}b{0}\"c\\\n\x01\xEF\xBF\xBD");
}
