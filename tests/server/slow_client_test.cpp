// Slow clients cannot pin the webhook's worker threads: a request that takes
// longer than --request-timeout to arrive is cut, an idle keep-alive
// connection (the API server keeps them 90 s) is not, and the server goes on
// answering others.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "server_fixture.hpp"

using namespace wirecheck;
using namespace std::chrono_literals;
using servertest::Harness;
using servertest::HarnessOptions;

namespace {

HarnessOptions deadline_options(std::chrono::milliseconds limit, std::size_t threads) {
  HarnessOptions o;
  o.request_timeout = limit;
  o.threads = threads;
  return o;
}

std::string review_body() {
  return R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u-1",)"
         R"("kind":{"group":"","version":"v1","kind":"ConfigMap"},"operation":"CREATE","object":{}}})";
}

}  // namespace

TEST_CASE("slow client: a request trickling in past the deadline is cut and others are still served") {
  // One worker thread: while the trickler holds it, nobody else is served.
  Harness harness(deadline_options(1000ms, 1));
  auto slow = harness.client();
  REQUIRE(slow->connect());
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(slow->send_raw("POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
  bool cut = false;
  // One byte every 200 ms: each read is well inside httplib's read timeout.
  for (int i = 0; i < 40 && !cut; ++i) {
    if (!slow->send_raw("a") || slow->peer_closed(200ms)) cut = true;
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE(cut);
  CHECK(elapsed >= 900ms);
  CHECK(elapsed < 4s);

  // The thread is free again: a normal review is answered.
  auto normal = harness.client();
  server::HttpResponse r;
  REQUIRE(normal->post("/validate", review_body(), r));
  CHECK(r.status == 200);
  CHECK_THAT(harness.metrics().render(),
             Catch::Contains("wirecheck_http_deadline_exceeded_total{listener=\"webhook\",deadline=\"request\"} 1\n"));
}

TEST_CASE("slow client: idle time between keep-alive requests does not count against the deadline") {
  Harness harness(deadline_options(500ms, 2));
  auto client = harness.client();
  server::HttpResponse r;
  REQUIRE(client->post("/validate", review_body(), r));
  CHECK(r.status == 200);
  std::this_thread::sleep_for(1200ms);  // idle longer than the deadline
  REQUIRE(client->post("/validate", review_body(), r));
  CHECK(r.status == 200);
  std::this_thread::sleep_for(700ms);
  REQUIRE(client->post("/validate", review_body(), r));
  CHECK(r.status == 200);
  CHECK_THAT(harness.metrics().render(),
             Catch::Contains("wirecheck_http_deadline_exceeded_total{listener=\"webhook\",deadline=\"request\"} 0\n"));
}
