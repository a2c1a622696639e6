// The API server calls matching webhooks in parallel, on parallel keep-alive
// connections: every answer must carry its own request's uid and decision.
#include <catch2/catch.hpp>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "server_fixture.hpp"

using namespace wirecheck;
using servertest::Harness;

namespace {

// A ServiceMonitor scraping https with a CA but no serverName: denied in enforce.
std::string monitor_review(const std::string& uid, bool broken) {
  nlohmann::json tls = {{"ca", {{"secret", {{"name", "metrics-cert"}, {"key", "ca.crt"}}}}}};
  if (!broken) tls["serverName"] = "metrics.demo.svc";
  const nlohmann::json review = {
      {"kind", "AdmissionReview"},
      {"apiVersion", "admission.k8s.io/v1"},
      {"request",
       {{"uid", uid},
        {"kind", {{"group", "monitoring.coreos.com"}, {"version", "v1"}, {"kind", "ServiceMonitor"}}},
        {"operation", "CREATE"},
        {"namespace", "demo"},
        {"name", "web"},
        {"object",
         {{"apiVersion", "monitoring.coreos.com/v1"},
          {"kind", "ServiceMonitor"},
          {"metadata", {{"name", "web"}, {"namespace", "demo"}}},
          {"spec",
           {{"selector", {{"matchLabels", {{"app", "web"}}}}},
            {"endpoints", {{{"port", "https"}, {"scheme", "https"}, {"tlsConfig", tls}}}}}}}}}}};
  return review.dump();
}

}  // namespace

TEST_CASE("webhook: parallel keep-alive connections each get their own uid and decision") {
  Harness harness(servertest::with_mode(admission::Mode::kEnforce));
  constexpr int kConnections = 8;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kConnections; ++c) {
    threads.emplace_back([&, c] {
      auto client = harness.client();
      for (int i = 0; i < kRequests; ++i) {
        const std::string uid = "uid-" + std::to_string(c) + "-" + std::to_string(i);
        const bool broken = (i + c) % 2 == 0;
        server::HttpResponse r;
        if (!client->post("/validate?timeout=10s", monitor_review(uid, broken), r) || r.status != 200) {
          ++wrong;
          continue;
        }
        const auto answer = nlohmann::json::parse(r.body, nullptr, false);
        const bool right = !answer.is_discarded() && answer["response"]["uid"] == uid &&
                           answer["response"]["allowed"] == !broken;
        ++(right ? ok : wrong);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wrong.load() == 0);
  CHECK(ok.load() == kConnections * kRequests);
}
