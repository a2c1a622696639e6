// The webhook over real TLS on loopback: decisions in every mode, v1 and
// v1beta1, the captured kube-apiserver requests, DELETE and dryRun, and the
// internal-error paths. Assertions only rely on the rules RULES.md fixes for
// the test ServiceMonitor (servicemonitor-tls-servername: deny,
// servicemonitor-insecure-skip-verify: warn).
#include <catch2/catch.hpp>

#include <stdexcept>

#include "server_fixture.hpp"

using namespace wirecheck;
using namespace wirecheck::servertest;

namespace {

constexpr const char* kDenyRule = "servicemonitor-tls-servername";
constexpr const char* kWarnRule = "servicemonitor-insecure-skip-verify";

json post(server::HttpsClient& client, const std::string& path, const json& review,
          int expected_status = 200) {
  server::HttpResponse r;
  REQUIRE(client.post(path + "?timeout=10s", review.dump(), r));
  INFO(r.body);
  REQUIRE(r.status == expected_status);
  return response_of(r);
}

void check_common(const json& answer, const json& review) {
  CHECK(answer["apiVersion"] == review["apiVersion"]);
  CHECK(answer["kind"] == "AdmissionReview");
  CHECK(answer["response"]["uid"] == review["request"]["uid"]);
  for (const auto& w : answer["response"].value("warnings", json::array())) {
    CHECK(w.get<std::string>().size() < 256);
  }
}

}  // namespace

TEST_CASE("webhook: every mode x allowed/denied over TLS with uid and apiVersion echoed", "[server]") {
  Harness harness;
  auto client = harness.client();
  const json bad = servicemonitor_review(bad_endpoints(), "uid-bad");
  const json good = servicemonitor_review(good_endpoints(), "uid-good");

  SECTION("enforce: deny finding -> allowed=false, 403 naming rule, path and fix; warn findings still warned") {
    const json a = post(*client, "/validate/enforce", bad);
    check_common(a, bad);
    const json& r = a["response"];
    CHECK(r["allowed"] == false);
    CHECK(r["status"]["code"] == 403);
    CHECK(r["status"]["reason"] == "Forbidden");
    const std::string message = r["status"]["message"];
    CHECK_THAT(message, Catch::Contains(kDenyRule));
    CHECK_THAT(message, Catch::Contains("spec.endpoints[0]"));
    CHECK_THAT(message, Catch::Contains("Fix:"));
    CHECK(has_warning(r, std::string("wirecheck/") + kWarnRule + ": "));
    CHECK_FALSE(has_warning(r, std::string("wirecheck/") + kDenyRule));
    CHECK_FALSE(r.contains("auditAnnotations"));
  }
  SECTION("enforce: clean object -> allowed, code 200, no warnings") {
    const json a = post(*client, "/validate/enforce", good);
    check_common(a, good);
    CHECK(a["response"]["allowed"] == true);
    CHECK(a["response"]["status"]["code"] == 200);
    CHECK_FALSE(a["response"].contains("warnings"));
  }
  SECTION("warn: deny and warn findings become warnings, always allowed") {
    const json a = post(*client, "/validate/warn", bad);
    check_common(a, bad);
    CHECK(a["response"]["allowed"] == true);
    CHECK(a["response"]["status"]["code"] == 200);
    CHECK(has_warning(a["response"], std::string("wirecheck/") + kDenyRule + ": "));
    CHECK(has_warning(a["response"], std::string("wirecheck/") + kWarnRule + ": "));
    const json g = post(*client, "/validate/warn", good);
    CHECK(g["response"]["allowed"] == true);
    CHECK_FALSE(g["response"].contains("warnings"));
  }
  SECTION("audit: allowed, no warnings, findings as auditAnnotations") {
    const json a = post(*client, "/validate/audit", bad);
    check_common(a, bad);
    CHECK(a["response"]["allowed"] == true);
    CHECK_FALSE(a["response"].contains("warnings"));
    const json& annotations = a["response"]["auditAnnotations"];
    REQUIRE(annotations.is_object());
    CHECK(annotations.contains(kDenyRule));
    CHECK(annotations.contains(kWarnRule));
    const json g = post(*client, "/validate/audit", good);
    CHECK(g["response"]["allowed"] == true);
    CHECK_FALSE(g["response"].contains("auditAnnotations"));
  }
  SECTION("/validate uses the server's default mode (warn here)") {
    const json a = post(*client, "/validate", bad);
    CHECK(a["response"]["allowed"] == true);
    CHECK(has_warning(a["response"], std::string("wirecheck/") + kDenyRule));
  }
  CHECK(client->connected());  // keep-alive: every review on one connection
}

TEST_CASE("webhook: server default mode enforce applies to /validate", "[server]") {
  Harness harness(with_mode(admission::Mode::kEnforce));
  auto client = harness.client();
  const json bad = servicemonitor_review(bad_endpoints());
  CHECK(post(*client, "/validate", bad)["response"]["allowed"] == false);
  CHECK(post(*client, "/validate/warn", bad)["response"]["allowed"] == true);
}

TEST_CASE("webhook: v1beta1 AdmissionReview is answered as v1beta1", "[server]") {
  Harness harness;
  auto client = harness.client();
  json bad = servicemonitor_review(bad_endpoints(), "uid-beta");
  bad["apiVersion"] = "admission.k8s.io/v1beta1";
  const json a = post(*client, "/validate/enforce", bad);
  CHECK(a["apiVersion"] == "admission.k8s.io/v1beta1");
  CHECK(a["response"]["uid"] == "uid-beta");
  CHECK(a["response"]["allowed"] == false);

  const json captured = json::parse(admission_fixture("create-service-web.json"));
  json as_beta = captured;
  as_beta["apiVersion"] = "admission.k8s.io/v1beta1";
  const json b = post(*client, "/validate", as_beta);
  CHECK(b["apiVersion"] == "admission.k8s.io/v1beta1");
  CHECK(b["response"]["uid"] == captured["request"]["uid"]);
}

TEST_CASE("webhook: every captured kube-apiserver request on one keep-alive connection", "[server]") {
  Harness harness;
  auto client = harness.client();
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(admission_fixtures_dir())) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 31);
  for (const std::string& name : files) {
    INFO(name);
    const std::string body = admission_fixture(name);
    const json review = json::parse(body);
    server::HttpResponse r;
    // Exactly the apiserver's request line and headers.
    const std::string request = "POST /validate?timeout=10s HTTP/1.1\r\nHost: 127.0.0.1:" +
                                std::to_string(harness.port()) +
                                "\r\nUser-Agent: kube-apiserver-admission\r\nContent-Length: " +
                                std::to_string(body.size()) +
                                "\r\nAccept: application/json, */*\r\nContent-Type: application/json\r\n"
                                "Accept-Encoding: gzip\r\n\r\n" + body;
    REQUIRE(client->send_raw(request));
    REQUIRE(client->read_response(r));
    REQUIRE(r.status == 200);
    CHECK(r.header("content-encoding").empty());
    const json a = response_of(r);
    CHECK(a["apiVersion"] == "admission.k8s.io/v1");
    CHECK(a["response"]["uid"] == review["request"]["uid"]);
    CHECK(a["response"]["allowed"] == true);  // warn mode
    REQUIRE(client->connected());
  }
}

TEST_CASE("webhook: DELETE is judged only by delete rules and dryRun is decided the same", "[server]") {
  Harness harness(with_mode(admission::Mode::kEnforce));
  auto client = harness.client();
  const json bad = servicemonitor_review(bad_endpoints(), "uid-create");

  json del = bad;
  del["request"]["uid"] = "uid-delete";
  del["request"]["operation"] = "DELETE";
  del["request"]["oldObject"] = bad["request"]["object"];
  del["request"]["object"] = nullptr;
  del["request"]["options"] = {{"kind", "DeleteOptions"}, {"apiVersion", "meta.k8s.io/v1"}};
  const json d = post(*client, "/validate", del);
  CHECK(d["response"]["uid"] == "uid-delete");
  CHECK(d["response"]["allowed"] == true);
  CHECK_FALSE(d["response"].contains("warnings"));

  json dry = bad;
  dry["request"]["dryRun"] = true;
  const json wet_answer = post(*client, "/validate", bad);
  const json dry_answer = post(*client, "/validate", dry);
  CHECK(dry_answer["response"]["allowed"] == false);
  CHECK(dry_answer["response"]["status"] == wet_answer["response"]["status"]);
  CHECK(dry_answer["response"].value("warnings", json::array()) ==
        wet_answer["response"].value("warnings", json::array()));

  json update = bad;
  update["request"]["operation"] = "UPDATE";
  update["request"]["oldObject"] = servicemonitor_review(good_endpoints())["request"]["object"];
  CHECK(post(*client, "/validate", update)["response"]["allowed"] == false);
}

TEST_CASE("webhook: internal error -> fail-open allowed with a warning and the uid echoed and counted", "[server]") {
  HarnessOptions options;
  options.mode = admission::Mode::kEnforce;
  options.context = []() -> std::shared_ptr<const policy::Context> {
    throw std::runtime_error("cache snapshot unavailable");
  };
  Harness harness(options);
  auto client = harness.client();
  const json a = post(*client, "/validate", servicemonitor_review(bad_endpoints(), "uid-err"));
  CHECK(a["response"]["uid"] == "uid-err");
  CHECK(a["response"]["allowed"] == true);
  CHECK(has_warning(a["response"], "wirecheck: not checked: internal error while evaluating it (cache snapshot unavailable)"));
  CHECK_THAT(harness.metrics().render(), Catch::Contains("wirecheck_admission_not_checked_total{reason=\"internal_error\"} 1"));
  CHECK_THAT(harness.metrics().render(), Catch::Contains("wirecheck_admission_internal_errors_total 1"));
  CHECK_THAT(harness.metrics().render(), Catch::Contains("decision=\"error\""));
}

TEST_CASE("webhook: internal error with --fail-closed -> denied with code 500 and the uid echoed", "[server]") {
  HarnessOptions options;
  options.fail_closed = true;
  options.context = []() -> std::shared_ptr<const policy::Context> { throw std::bad_alloc(); };
  Harness harness(options);
  auto client = harness.client();
  const json a = post(*client, "/validate", servicemonitor_review(good_endpoints(), "uid-closed"));
  CHECK(a["response"]["uid"] == "uid-closed");
  CHECK(a["response"]["allowed"] == false);
  CHECK(a["response"]["status"]["code"] == 500);
}
