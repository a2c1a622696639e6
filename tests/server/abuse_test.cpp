// Abuse tests (issue 10): each attack runs against the real server with its
// default connection settings on loopback while a well-behaved client posts a
// review every 100 ms on a new connection, as a fresh API server would; every
// one of its decisions must arrive within 1 s. Each prints
// "[abuse] <attack>: N tried, N held; probe ..." (held = attack connections
// the server still had open at the end). Bounded in count and time: a few
// seconds each. Deadline cuts are shown with short deadlines (the defaults
// are 10 s and 30 s); long soaks belong to `make bench`.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "server_fixture.hpp"

using namespace wirecheck;
using namespace std::chrono_literals;
using servertest::Harness;
using servertest::HarnessOptions;
using servertest::tcp_connect;

namespace {

using Clock = std::chrono::steady_clock;

void raise_nofile() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// Whether the server has closed `fd` (EOF or reset), without blocking.
// What it sent first (a TLS session ticket) is read past.
bool closed_by_peer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
  }
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// A raw TLS client connection (no verification: the attacker does not care).
struct TlsConn {
  int fd = -1;
  SSL* ssl = nullptr;
  ~TlsConn() {
    if (ssl != nullptr) SSL_free(ssl);
    if (fd >= 0) ::close(fd);
  }
};

SSL_CTX* client_ctx() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    return c;
  }();
  return ctx;
}

std::unique_ptr<TlsConn> tls_connect(int port) {
  auto conn = std::make_unique<TlsConn>();
  conn->fd = tcp_connect(port);
  if (conn->fd < 0) return nullptr;
  conn->ssl = SSL_new(client_ctx());
  SSL_set_fd(conn->ssl, conn->fd);
  if (SSL_connect(conn->ssl) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return conn;
}

std::string small_review(const std::string& uid = "abuse-probe") {
  return R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":")" + uid +
         R"(","kind":{"group":"","version":"v1","kind":"ConfigMap"},"operation":"CREATE","object":{}}})";
}

std::string post_head(std::size_t length) {
  return "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(length) + "\r\n\r\n";
}

// The well-behaved client: a new connection and one review every 100 ms.
class Probe {
 public:
  explicit Probe(const Harness& harness) : options_(harness.client_options()) {
    options_.timeout = 1000ms;
    thread_ = std::thread([this] { run(); });
  }
  ~Probe() { finish(); }
  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int sent() const { return sent_; }
  int answered() const { return answered_; }
  double max_ms() const { return max_ms_; }
  std::string summary() const {
    char buf[128];
    std::snprintf(buf, sizeof buf, "probe %d/%d answered within 1 s, slowest %.1f ms", answered_.load(),
                  sent_.load(), max_ms_.load());
    return buf;
  }

 private:
  void run() {
    while (!stop_) {
      server::HttpsClient client(options_);
      server::HttpResponse r;
      const auto start = Clock::now();
      ++sent_;
      const bool ok = client.post("/validate", small_review(), r) && r.status == 200;
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (ok && ms <= 1000) ++answered_;
      if (ms > max_ms_) max_ms_ = ms;
      std::this_thread::sleep_for(100ms);
    }
  }
  server::HttpsClientOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
  std::atomic<int> answered_{0};
  std::atomic<double> max_ms_{0};
  std::thread thread_;
};

void report(const char* attack, std::size_t tried, std::size_t held, const Probe& probe) {
  std::printf("[abuse] %s: %zu tried, %zu held; %s\n", attack, tried, held, probe.summary().c_str());
  std::fflush(stdout);
}

template <typename Conns, typename Fd>
std::size_t count_held(const Conns& conns, Fd fd_of) {
  std::size_t held = 0;
  for (const auto& c : conns) held += closed_by_peer(fd_of(c)) ? 0 : 1;
  return held;
}

void require_probe_all_answered(const Probe& probe) {
  CHECK(probe.sent() >= 5);
  CHECK(probe.answered() == probe.sent());
}

}  // namespace

TEST_CASE("abuse: 1,000 idle TLS + 1,000 idle TCP + 70 idle keep-alive connections do not stall the webhook or the ops listener", "[abuse]") {
  // Per source address the limit on connections without a request would
  // close most of these (they all come from 127.0.0.1): lifted, so that the
  // cap itself is what this test fills.
  raise_nofile();
  HarnessOptions options;  // default cap (2048) and deadlines
  options.max_pending_per_source = 0;
  Harness harness(options);
  const int ops_port = harness.ops().port();
  std::vector<std::unique_ptr<TlsConn>> tls;
  std::vector<int> tcp;
  std::vector<int> ops_idle;
  for (int i = 0; i < 1000; ++i) {
    if (auto c = tls_connect(harness.port())) tls.push_back(std::move(c));
  }
  for (int i = 0; i < 1000; ++i) {
    if (const int fd = tcp_connect(harness.port()); fd >= 0) tcp.push_back(fd);
  }
  for (int i = 0; i < 20; ++i) {
    if (const int fd = tcp_connect(ops_port); fd >= 0) ops_idle.push_back(fd);
  }
  // What an API server's keep-alive pool looks like: one review, then idle.
  std::vector<std::unique_ptr<server::HttpsClient>> pool;
  for (int i = 0; i < 70; ++i) {
    auto c = harness.client();
    server::HttpResponse r;
    if (c->post("/validate", small_review(), r) && r.status == 200) pool.push_back(std::move(c));
  }
  CHECK(tls.size() == 1000);
  CHECK(tcp.size() == 1000);
  CHECK(pool.size() == 70);

  Probe probe(harness);
  int ready_ok = 0;
  for (int i = 0; i < 10; ++i) {
    httplib::Client ops("127.0.0.1", ops_port);
    ops.set_connection_timeout(1);
    ops.set_read_timeout(1);
    const auto r = ops.Get("/readyz");
    ready_ok += r && r->status == 200 ? 1 : 0;
    std::this_thread::sleep_for(200ms);
  }
  probe.finish();
  const std::size_t held = count_held(tls, [](const auto& c) { return c->fd; }) +
                           count_held(tcp, [](int fd) { return fd; });
  report("1000 idle TLS + 1000 idle TCP", tls.size() + tcp.size(), held, probe);
  std::printf("[abuse] ops listener with %zu idle connections: /readyz 200 %d/10\n", ops_idle.size(), ready_ok);
  // Over the cap of 2048, the oldest connections that never sent a request
  // made room for the keep-alive pool and the probe; the pool was never
  // touched. (On a loaded machine setting up 2,000 connections can outlast
  // the 10 s head deadline, which then cuts the first ones: counted too.)
  const auto& t = harness.metrics().webhook_transport();
  CHECK(held + t.pending_closes(server::PendingClose::kCap) + t.deadlines(server::Deadline::kHead) == 2000);
  CHECK(t.idle_evictions() == 0);
  CHECK(t.refused() == 0);
  CHECK(ready_ok == 10);
  require_probe_all_answered(probe);
  for (int fd : tcp) ::close(fd);
  for (int fd : ops_idle) ::close(fd);
}

TEST_CASE("abuse: 200 slowloris connections (one byte per TLS record) and one-record dribblers do not stall the webhook", "[abuse]") {
  raise_nofile();
  Harness harness;
  std::vector<std::unique_ptr<TlsConn>> loris;
  for (int i = 0; i < 200; ++i) {
    if (auto c = tls_connect(harness.port())) loris.push_back(std::move(c));
  }
  REQUIRE(loris.size() == 200);
  // 20 more: the whole request in one TLS record, its ciphertext sent 1 byte at a time.
  std::vector<std::pair<std::unique_ptr<TlsConn>, std::string>> dribblers;
  for (int i = 0; i < 20; ++i) {
    auto c = tls_connect(harness.port());
    REQUIRE(c);
    BIO* mem = BIO_new(BIO_s_mem());
    SSL_set0_wbio(c->ssl, mem);  // records now go to memory, not the socket
    const std::string body = small_review();
    const std::string request = post_head(body.size()) + body;
    REQUIRE(SSL_write(c->ssl, request.data(), static_cast<int>(request.size())) > 0);
    char* data = nullptr;
    const long n = BIO_get_mem_data(mem, &data);
    dribblers.emplace_back(std::move(c), std::string(data, static_cast<std::size_t>(n)));
  }
  const std::string head = "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  Probe probe(harness);
  const auto until = Clock::now() + 3s;
  std::size_t step = 0;
  while (Clock::now() < until) {
    for (auto& c : loris) SSL_write(c->ssl, head.data() + (step % head.size()), 1);
    for (auto& [c, record] : dribblers) {
      if (step < record.size()) send_all(c->fd, std::string_view(record).substr(step, 1));
    }
    ++step;
    std::this_thread::sleep_for(100ms);
  }
  probe.finish();
  const std::size_t held = count_held(loris, [](const auto& c) { return c->fd; }) +
                           count_held(dribblers, [](const auto& d) { return d.first->fd; });
  report("200 slowloris (1 byte/record) + 20 one-record dribblers", loris.size() + dribblers.size(), held, probe);
  require_probe_all_answered(probe);
}

TEST_CASE("abuse: deadlines from accept cut a ClientHello, a one-record request and a header dribble", "[abuse]") {
  HarnessOptions o;
  o.head_timeout = 1000ms;
  o.request_timeout = 2000ms;
  Harness harness(o);

  // A ClientHello sent 1 byte per 100 ms (it is ~250 bytes: 25 s at this pace).
  SSL* hello_ssl = SSL_new(client_ctx());
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(hello_ssl, rbio, wbio);
  SSL_connect(hello_ssl);
  ERR_clear_error();
  char* hello = nullptr;
  const long hello_len = BIO_get_mem_data(wbio, &hello);
  const std::string client_hello(hello, static_cast<std::size_t>(hello_len));
  SSL_free(hello_ssl);

  const int hello_fd = tcp_connect(harness.port());
  auto loris = tls_connect(harness.port());
  REQUIRE(loris);
  REQUIRE(hello_fd >= 0);
  const std::string head = "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const auto start = Clock::now();
  double hello_cut_s = 0;
  double loris_cut_s = 0;
  for (std::size_t i = 0; Clock::now() - start < 5s && (hello_cut_s == 0 || loris_cut_s == 0); ++i) {
    const double t = std::chrono::duration<double>(Clock::now() - start).count();
    if (hello_cut_s == 0 && (closed_by_peer(hello_fd) ||
                             !send_all(hello_fd, std::string_view(client_hello).substr(i % client_hello.size(), 1)))) {
      hello_cut_s = t;
    }
    if (loris_cut_s == 0 && (closed_by_peer(loris->fd) || SSL_write(loris->ssl, head.data() + (i % head.size()), 1) <= 0)) {
      loris_cut_s = t;
    }
    std::this_thread::sleep_for(100ms);
  }
  ::close(hello_fd);
  std::printf("[abuse] ClientHello at 10 bytes/s cut after %.1f s; header dribble cut after %.1f s (head deadline 1 s)\n",
              hello_cut_s, loris_cut_s);
  CHECK(hello_cut_s >= 0.9);
  CHECK(hello_cut_s < 2.5);
  CHECK(loris_cut_s >= 0.9);
  CHECK(loris_cut_s < 2.5);
  const std::string metrics = harness.metrics().render();
  CHECK_THAT(metrics, Catch::Contains(
                          R"(wirecheck_http_deadline_exceeded_total{listener="webhook",deadline="handshake_and_head"} 2)"));
}

TEST_CASE("abuse: slow readers holding large answers do not stall the webhook; the write deadline cuts them", "[abuse]") {
  raise_nofile();
  HarnessOptions o;
  o.write_timeout = 2000ms;
  Harness harness(o);
  // The uid is echoed: a 6 MB uid makes a 6 MB answer that nobody reads,
  // more than the loopback socket buffers take.
  const std::string body = small_review(std::string(6u << 20, 'u'));
  const std::string request = post_head(body.size()) + body;
  std::vector<std::unique_ptr<TlsConn>> readers;
  for (int i = 0; i < 10; ++i) {
    auto c = tls_connect(harness.port());
    REQUIRE(c);
    int small = 4096;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    REQUIRE(SSL_write(c->ssl, request.data(), static_cast<int>(request.size())) > 0);
    readers.push_back(std::move(c));
  }
  Probe probe(harness);
  std::this_thread::sleep_for(1500ms);
  probe.finish();
  const std::size_t held = count_held(readers, [](const auto& c) { return c->fd; });
  report("10 slow readers of 6 MB answers", readers.size(), held, probe);
  require_probe_all_answered(probe);
  CHECK(servertest::eventually([&] {
    return harness.metrics().webhook_transport().deadlines(server::Deadline::kWrite) == readers.size();
  }, 5000ms));
}

TEST_CASE("abuse: header and request-line floods are refused with 431/414 and memory stays bounded", "[abuse]") {
  raise_nofile();
  Harness harness;
  const long rss_before = rss_kb();
  Probe probe(harness);
  std::size_t refused = 0;
  std::size_t tried = 0;
  std::vector<std::thread> floods;
  std::atomic<std::size_t> refused_count{0};
  for (int t = 0; t < 4; ++t) {
    floods.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto c = tls_connect(harness.port());
        if (!c) continue;
        std::string flood;
        if ((i + t) % 3 == 0) {
          flood = "GET /" + std::string(1u << 20, 'a') + " HTTP/1.1\r\n";  // 1 MiB request line
        } else if ((i + t) % 3 == 1) {
          flood = "POST /validate HTTP/1.1\r\n";
          for (int h = 0; h < 30000; ++h) flood += "X-F" + std::to_string(h) + ": v\r\n";  // 30,000 headers
        } else {
          flood = "POST /validate HTTP/1.1\r\n";
          for (int h = 0; h < 64; ++h) flood += "X-Big: " + std::string(8192, 'b') + "\r\n";  // 64 x 8 KB
        }
        SSL_write(c->ssl, flood.data(), static_cast<int>(flood.size()));
        char buf[512];
        const int n = SSL_read(c->ssl, buf, sizeof buf - 1);
        if (n > 0) {
          const std::string answer(buf, static_cast<std::size_t>(n));
          if (answer.rfind("HTTP/1.1 431", 0) == 0 || answer.rfind("HTTP/1.1 414", 0) == 0) ++refused_count;
        }
        ERR_clear_error();
      }
    });
  }
  for (auto& f : floods) f.join();
  tried = 100;
  refused = refused_count.load();
  // The floods are refused within a few hundred milliseconds: keep the probe
  // going until it has made enough requests to say something.
  CHECK(servertest::eventually([&] { return probe.sent() >= 5; }, 5000ms));
  probe.finish();
  const long grown_mb = (rss_kb() - rss_before) / 1024;
  std::printf("[abuse] header/request-line floods: %zu tried, %zu refused with 431/414, 0 held; RSS grew %ld MB (bound 64 MB); %s\n",
              tried, refused, grown_mb, probe.summary().c_str());
  CHECK(refused == tried);
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps freed memory in quarantine and adds shadow and redzones, so
  // RSS says nothing about the server's own footprint there (289 MB seen);
  // the figure is printed, the bound holds in the plain build (make test).
#else
  CHECK(grown_mb < 64);
#endif
  require_probe_all_answered(probe);
}

TEST_CASE("abuse: pipelined requests are all answered at once", "[abuse]") {
  Harness harness;
  auto c = tls_connect(harness.port());
  REQUIRE(c);
  std::string batch;
  for (int i = 0; i < 20; ++i) {
    const std::string body = small_review("pipelined-" + std::to_string(i));
    batch += post_head(body.size()) + body;
  }
  const auto start = Clock::now();
  REQUIRE(SSL_write(c->ssl, batch.data(), static_cast<int>(batch.size())) > 0);
  std::string received;
  timeval tv{2, 0};
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (received.find("pipelined-19") == std::string::npos) {
    char buf[16384];
    const int n = SSL_read(c->ssl, buf, sizeof buf);
    if (n <= 0) break;
    received.append(buf, static_cast<std::size_t>(n));
  }
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::size_t answers = 0;
  for (std::size_t at = received.find("HTTP/1.1 200"); at != std::string::npos; at = received.find("HTTP/1.1 200", at + 1)) ++answers;
  std::printf("[abuse] pipelined: 20 tried, %zu answered in %.1f ms\n", answers, ms);
  CHECK(answers == 20);
  CHECK(ms < 1000);
}

TEST_CASE("abuse: certificate rotation under continuous load fails no request", "[abuse]") {
  Harness harness;
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&, t] {
      int n = 0;
      while (!stop) {
        // Some clients keep their connection, some reconnect every few requests.
        auto client = harness.client();
        for (int i = 0; i < (t % 2 == 0 ? 1000 : 3) && !stop; ++i, ++n) {
          server::HttpResponse r;
          if (client->post("/validate", small_review(), r) && r.status == 200) ++ok;
          else ++failed;
        }
      }
    });
  }
  for (long serial = 2; serial <= 6; ++serial) {
    std::this_thread::sleep_for(300ms);
    harness.ca().issue("wirecheck test server", serial, "DNS:localhost,IP:127.0.0.1")->write(harness.dir().path(), "tls");
    REQUIRE(harness.certs().reload().ok());
  }
  std::this_thread::sleep_for(300ms);
  stop = true;
  for (auto& t : load) t.join();
  std::printf("[abuse] certificate rotation x5 under load: %d requests, %d failed\n", ok.load() + failed.load(), failed.load());
  CHECK(failed.load() == 0);
  CHECK(ok.load() > 50);
}
