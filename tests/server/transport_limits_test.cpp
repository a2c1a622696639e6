// Connection limits of the webhook listener: the open-connection cap (the
// oldest connection without a request closed first, then idle keep-alive
// ones, the excess refused and counted, and /readyz saying so), head caps (431/414), request smuggling shapes refused,
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

  // Now fill the cap with connections in the middle of a request (head sent,
  // body not): none may be closed to make room, so a new connection is
  // refused at accept, counted, and /readyz says why.
  idle.clear();
  fifth.reset();
  REQUIRE(servertest::eventually([&] { return harness.metrics().webhook_transport().open() == 0; }));
  std::vector<std::unique_ptr<server::HttpsClient>> busy;
  for (int i = 0; i < 4; ++i) {
    auto c = harness.client();
    REQUIRE(c->send_raw("POST /validate HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"));
    busy.push_back(std::move(c));
  }
  REQUIRE(servertest::eventually([&] { return harness.webhook().in_flight() == 4; }));
  const int refused = tcp_connect(harness.port());
  CHECK(closed_within(refused, 2000ms));
  CHECK(harness.metrics().webhook_transport().refused() == 1);
  // What `serve` hands to /readyz.
  CHECK_THAT(harness.webhook().not_ready_reason(), Catch::Contains("cap of 4"));
  busy.clear();
  ::close(refused);
  CHECK(servertest::eventually([&] { return harness.webhook().not_ready_reason().empty(); }));
}

TEST_CASE("limits: at the cap the oldest connection that never sent a request makes room, before any idle one", "[server][limits]") {
  HarnessOptions o;
  o.max_connections = 4;
  Harness harness(o);
  // One idle keep-alive connection (served once), then three silent ones.
  auto served = harness.client();
  server::HttpResponse r;
  REQUIRE(served->post("/validate", review(), r));
  std::vector<int> silent;
  for (int i = 0; i < 3; ++i) {
    silent.push_back(tcp_connect(harness.port()));
    REQUIRE(servertest::eventually([&] { return harness.metrics().webhook_transport().open() == 2 + i; }));
  }
  // Two new clients (kept open, idle after their answer): each closes the
  // oldest silent connection, never an idle one.
  std::vector<std::unique_ptr<server::HttpsClient>> clients;
  for (int i = 0; i < 2; ++i) {
    clients.push_back(harness.client());
    REQUIRE(clients.back()->post("/validate", review(), r));
    CHECK(r.status == 200);
  }
  CHECK(closed_within(silent[0], 2000ms));
  CHECK(closed_within(silent[1], 2000ms));
  CHECK_FALSE(closed_within(silent[2], 100ms));
  CHECK(served->post("/validate", review(), r));  // the same connection, still open
  CHECK(harness.metrics().webhook_transport().pending_closes(server::PendingClose::kCap) == 2);
  CHECK(harness.metrics().webhook_transport().idle_evictions() == 0);
  CHECK(harness.metrics().webhook_transport().refused() == 0);
  for (int fd : silent) ::close(fd);
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

TEST_CASE("limits: one source address holds at most its share of connections without a request; other sources are untouched", "[server][limits]") {
  HarnessOptions o;
  o.max_pending_per_source = 3;
  Harness harness(o);
  std::vector<int> other;
  for (int i = 0; i < 3; ++i) other.push_back(servertest::tcp_connect_from(harness.port(), "127.0.0.3"));
  std::vector<int> flood;
  for (int i = 0; i < 5; ++i) {
    flood.push_back(servertest::tcp_connect_from(harness.port(), "127.0.0.2"));
    REQUIRE(flood.back() >= 0);
  }
  // 127.0.0.2's two oldest went; 127.0.0.3's three stay.
  CHECK(closed_within(flood[0], 2000ms));
  CHECK(closed_within(flood[1], 2000ms));
  CHECK(servertest::eventually([&] {
    return harness.metrics().webhook_transport().pending_closes(server::PendingClose::kSourceLimit) == 2;
  }));
  for (int fd : {flood[2], flood[3], flood[4], other[0], other[1], other[2]}) CHECK_FALSE(closed_within(fd, 50ms));
  // A client from a third address is served.
  auto client = harness.client();
  server::HttpResponse r;
  CHECK(client->post("/validate", review(), r));
  CHECK(r.status == 200);
  CHECK_THAT(harness.metrics().render(),
             Catch::Contains(R"(wirecheck_http_pending_connections_closed_total{listener="webhook",reason="source_limit"} 2)"));
  for (int fd : flood) ::close(fd);
  for (int fd : other) ::close(fd);
}

namespace {

// Answers 200 "ok"; a request for /block holds the I/O thread for 500 ms
// first, so that connections made meanwhile wait in the accept backlog.
class BlockingRoutes final : public server::HttpRoutes {
 public:
  std::atomic<bool> blocking{false};
  bool accept_head(const server::HttpHead&, server::HttpAnswer&) override { return true; }
  void respond(const server::HttpHead& head, std::string&, server::HttpAnswer& answer) override {
    if (head.path() == "/block") {
      blocking = true;
      std::this_thread::sleep_for(500ms);
    }
    answer.content_type = "text/plain";
    answer.body = "ok\n";
  }
  void refuse(int status, std::string_view, std::string_view message, server::HttpAnswer& answer) override {
    answer.status = status;
    answer.body = std::string(message);
  }
};

// Everything the peer sends until it closes; `reset` when that was a reset.
std::string read_to_end(int fd, bool& reset) {
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  reset = false;
  for (;;) {
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == ECONNRESET) reset = true;
    return out;
  }
}

}  // namespace

TEST_CASE("limits: at stop, connections waiting in the accept backlog are answered and later ones refused, none reset", "[server][limits]") {
  BlockingRoutes routes;
  server::TransportMetrics metrics;
  server::HttpListenerOptions o;
  o.name = "test";
  o.host = "127.0.0.1";
  o.port = 0;
  server::HttpListener listener(routes, metrics, o);
  REQUIRE(listener.bind().ok());
  listener.start();
  const int port = listener.port();
  const std::string get = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";

  const int blocker = tcp_connect(port);
  REQUIRE(blocker >= 0);
  REQUIRE(::send(blocker, "GET /block HTTP/1.1\r\nHost: a\r\n\r\n", 33, MSG_NOSIGNAL) == 33);
  REQUIRE(servertest::eventually([&] { return routes.blocking.load(); }));
  // The I/O thread is busy: these connections complete in the kernel and
  // wait in the backlog with their request sent.
  std::vector<int> waiting;
  for (int i = 0; i < 20; ++i) {
    const int fd = tcp_connect(port);
    REQUIRE(fd >= 0);
    REQUIRE(::send(fd, get.data(), get.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(get.size()));
    waiting.push_back(fd);
  }
  listener.begin_drain();
  listener.stop(/*join=*/false);  // runs on the I/O thread once /block is answered

  int answered = 0;
  int resets = 0;
  for (int fd : waiting) {
    bool reset = false;
    const std::string answer = read_to_end(fd, reset);
    answered += answer.rfind("HTTP/1.1 200", 0) == 0 && answer.find("Connection: close") != std::string::npos ? 1 : 0;
    resets += reset ? 1 : 0;
    ::close(fd);
  }
  bool reset = false;
  CHECK(read_to_end(blocker, reset).rfind("HTTP/1.1 200", 0) == 0);
  ::close(blocker);
  std::printf("[limits] stop with 20 connections in the accept backlog: %d answered, %d reset\n", answered, resets);
  CHECK(answered == 20);
  CHECK(resets == 0);
  CHECK(listener.wait_closed(5000ms));
  // The port is closed now: a new connection is refused, it is never accepted and cut.
  errno = 0;
  CHECK(tcp_connect(port) < 0);
  CHECK(errno == ECONNREFUSED);
}
