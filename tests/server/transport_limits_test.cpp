// Connection limits of the webhook listener: the open-connection cap (idle
// keep-alive connections closed first, the excess refused and counted, and
// /readyz saying so), head caps (431/414), request smuggling shapes refused,
// TLS handshake failures counted by reason, and answers under way written
// completely when the server stops.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "server_fixture.hpp"

using namespace wirecheck;
using namespace std::chrono_literals;
using servertest::Harness;
using servertest::HarnessOptions;
using servertest::tcp_connect;

namespace {

bool closed_within(int fd, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, static_cast<short>(0)};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  char buf[256];
  return ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0;
}

std::string review(const std::string& uid = "limits") {
  return R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":")" + uid +
         R"(","kind":{"group":"","version":"v1","kind":"ConfigMap"},"operation":"CREATE","object":{}}})";
}

std::string raw_status(Harness& harness, const std::string& request) {
  auto client = harness.client();
  REQUIRE(client->send_raw(request));
  server::HttpResponse r;
  if (!client->read_response(r)) return "no answer";
  return std::to_string(r.status);
}

}  // namespace

TEST_CASE("limits: at the connection cap idle keep-alive connections are closed first, then new ones refused", "[server][limits]") {
  HarnessOptions o;
  o.max_connections = 4;
  Harness harness(o);
  std::vector<std::unique_ptr<server::HttpsClient>> idle;
  for (int i = 0; i < 4; ++i) {
    auto c = harness.client();
    server::HttpResponse r;
    REQUIRE(c->post("/validate", review(), r));
    idle.push_back(std::move(c));
  }
  // A fifth client is served: the oldest idle connection made room.
  auto fifth = harness.client();
  server::HttpResponse r;
  REQUIRE(fifth->post("/validate", review(), r));
  CHECK(r.status == 200);
  CHECK(idle[0]->peer_closed(2000ms));
  CHECK_THAT(harness.metrics().render(),
             Catch::Contains(R"(wirecheck_http_idle_connections_closed_total{listener="webhook",reason="cap"} 1)"));

  // Now fill the cap with connections that never start TLS: nothing is idle,
  // so a new connection is refused at accept, counted, and /readyz says why.
  idle.clear();
  fifth.reset();
  REQUIRE(servertest::eventually([&] { return harness.metrics().webhook_transport().open() == 0; }));
  std::vector<int> silent;
  for (int i = 0; i < 4; ++i) silent.push_back(tcp_connect(harness.port()));
  REQUIRE(servertest::eventually([&] { return harness.metrics().webhook_transport().open() == 4; }));
  const int refused = tcp_connect(harness.port());
  CHECK(closed_within(refused, 2000ms));
  CHECK(harness.metrics().webhook_transport().refused() == 1);
  // What `serve` hands to /readyz.
  CHECK_THAT(harness.webhook().not_ready_reason(), Catch::Contains("cap of 4"));
  for (int fd : silent) ::close(fd);
  ::close(refused);
  CHECK(servertest::eventually([&] { return harness.webhook().not_ready_reason().empty(); }));
}

TEST_CASE("limits: oversized heads get 431 or 414 and smuggling shapes 400, then the connection closes", "[server][limits]") {
  Harness harness;
  const std::string tail = "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  SECTION("request line over 4 KiB -> 414") {
    CHECK(raw_status(harness, "POST /validate?" + std::string(5000, 'q') + " HTTP/1.1\r\nHost: a\r\n" + tail) == "414");
  }
  SECTION("a 1 MiB request line -> 414 without reading it all") {
    CHECK(raw_status(harness, "POST /" + std::string(1u << 20, 'a')) == "414");
  }
  SECTION("over 100 header fields -> 431") {
    std::string head = "POST /validate HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 150; ++i) head += "X-H" + std::to_string(i) + ": v\r\n";
    CHECK(raw_status(harness, head + tail) == "431");
  }
  SECTION("a head over 16 KiB -> 431") {
    std::string head = "POST /validate HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 4; ++i) head += "X-Big: " + std::string(5000, 'b') + "\r\n";
    CHECK(raw_status(harness, head + tail) == "431");
  }
  SECTION("Content-Length with Transfer-Encoding, or two lengths -> refused") {
    const std::string both = raw_status(harness,
        "POST /validate HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    CHECK((both == "400" || both == "411"));
    CHECK(raw_status(harness,
                     "POST /validate HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                     "Content-Length: 3\r\n\r\n{}") == "400");
  }
}

TEST_CASE("limits: TLS handshake failures are counted by reason", "[server][limits][tls]") {
  HarnessOptions o;
  o.client_auth = true;
  Harness harness(o);
  const auto failures = [&](server::HandshakeFailure f) { return harness.metrics().webhook_transport().handshakes(f); };

  SECTION("no client certificate") {
    auto client = harness.client();
    server::HttpResponse r;
    CHECK_FALSE(client->post("/validate", review(), r));
    CHECK(servertest::eventually([&] { return failures(server::HandshakeFailure::kNoClientCertificate) == 1; }));
  }
  SECTION("the client does not trust the serving certificate") {
    auto other_ca = servertest::TestCert::ca("some other CA");
    other_ca->write(harness.dir().path(), "other-ca");
    auto options = harness.client_options();
    options.ca_file = harness.dir().file("other-ca.crt");
    server::HttpsClient client(options);
    CHECK_FALSE(client.connect());
    CHECK(servertest::eventually([&] { return failures(server::HandshakeFailure::kUnknownCa) == 1; }));
  }
  SECTION("plain HTTP on the TLS port") {
    const int fd = tcp_connect(harness.port());
    const std::string get = "GET /validate HTTP/1.1\r\nHost: a\r\n\r\n";
    REQUIRE(::send(fd, get.data(), get.size(), MSG_NOSIGNAL) > 0);
    CHECK(closed_within(fd, 2000ms));
    ::close(fd);
    CHECK(servertest::eventually([&] { return failures(server::HandshakeFailure::kNotTls) == 1; }));
  }
  SECTION("TLS 1.1") {
    CHECK_FALSE(servertest::tls11_handshake_succeeds(harness.port()));
    CHECK(servertest::eventually([&] { return failures(server::HandshakeFailure::kProtocolVersion) == 1; }));
  }
}

TEST_CASE("limits: stopping writes an answer under way completely to a slow reader", "[server][limits]") {
  Harness harness(servertest::with_body_limit(64u << 20));
  auto client = harness.client();
  REQUIRE(client->connect());
  // The uid is echoed: a 24 MB answer, more than loopback socket buffers hold.
  const std::string uid(24u << 20, 'u');
  const std::string body = review(uid);
  REQUIRE(client->send_raw("POST /validate HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body));
  std::this_thread::sleep_for(200ms);  // the answer is being written, the reader is not reading
  CHECK(harness.webhook().in_flight() == 1);
  harness.webhook().begin_drain();
  harness.webhook().stop(/*join=*/false);
  server::HttpResponse r;
  const bool read = client->read_response(r);
  CHECK(harness.webhook().wait_idle(5000ms));
  REQUIRE(read);
  CHECK(r.status == 200);
  CHECK(r.body.size() > uid.size());
  CHECK(servertest::json::parse(r.body)["response"]["uid"] == uid);
}

TEST_CASE("limits: large bodies over the shared body budget wait their turn and are all answered", "[server][limits]") {
  HarnessOptions o;
  o.max_body_bytes_in_flight = 1u << 20;  // room for one 900 KB body at a time
  Harness harness(o);
  const std::string uid(900u << 10, 'u');
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back([&] {
      auto client = harness.client();
      server::HttpResponse r;
      if (client->post("/validate", review(uid), r) && r.status == 200) ++ok;
    });
  }
  for (auto& t : clients) t.join();
  CHECK(ok.load() == 6);
  CHECK(harness.metrics().webhook_transport().deadlines(server::Deadline::kRequest) == 0);
}
