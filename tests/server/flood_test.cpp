// Connection floods (issue 21): 5,000 connections that never send a request,
// from one loopback source address or from a hundred, reopened as soon as
// the server closes them, against the real webhook with its default cap
// (2048) and deadlines. Meanwhile a well-behaved client does what the API
// server does: a few keep-alive connections posting reviews, and a new
// connection for a review every 100 ms; every decision must arrive within
// 1 s. Each prints "[flood] <attack>: ...". Bounded: 3 s of flood per case,
// loopback only, every socket closed at the end.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.hpp"

using namespace wirecheck;
using namespace std::chrono_literals;
using servertest::Harness;

namespace {

using Clock = std::chrono::steady_clock;

void raise_nofile() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::size_t nofile() {
  rlimit lim{};
  return getrlimit(RLIMIT_NOFILE, &lim) == 0 ? static_cast<std::size_t>(lim.rlim_cur) : 1024;
}

std::string review(const std::string& uid) {
  return R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":")" + uid +
         R"(","kind":{"group":"","version":"v1","kind":"ConfigMap"},"operation":"CREATE","object":{}}})";
}

// A non-blocking connect to 127.0.0.1:port from `source`; -1 on failure.
int open_silent(int port, in_addr_t source) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  int one = 1;
  // The port is chosen at connect time for the full 4-tuple, so thousands of
  // reconnects from one address do not run out of ephemeral ports.
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = source;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// `slots` connections that never send a byte, spread round-robin over
// `sources` addresses from 127.0.0.2 up; each one the server closes is
// opened again on the next round (every 20 ms), until stopped.
class Flood {
 public:
  Flood(int port, std::size_t slots, int sources) : port_(port), fds_(slots, -1) {
    for (int i = 0; i < sources; ++i) sources_.push_back(htonl(INADDR_LOOPBACK + 2 + static_cast<in_addr_t>(i)));
    thread_ = std::thread([this] { run(); });
  }
  ~Flood() { finish(); }
  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int& fd : fds_) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }
  std::size_t opened() const { return opened_; }
  std::size_t closed_by_server() const { return closed_; }
  std::size_t held() const { return held_; }

 private:
  void run() {
    std::vector<pollfd> polled(fds_.size());
    while (!stop_) {
      for (std::size_t i = 0; i < fds_.size() && !stop_; ++i) {
        if (fds_[i] >= 0) continue;
        fds_[i] = open_silent(port_, sources_[i % sources_.size()]);
        if (fds_[i] >= 0) ++opened_;
      }
      for (std::size_t i = 0; i < fds_.size(); ++i) polled[i] = pollfd{fds_[i], POLLIN, 0};
      if (::poll(polled.data(), polled.size(), 20) > 0) {
        for (std::size_t i = 0; i < fds_.size(); ++i) {
          if (fds_[i] < 0 || (polled[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
          char buf[64];
          const ssize_t n = ::recv(fds_[i], buf, sizeof buf, MSG_DONTWAIT);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            ::close(fds_[i]);
            fds_[i] = -1;
            ++closed_;
          }
        }
      }
      std::size_t held = 0;
      for (int fd : fds_) held += fd >= 0 ? 1 : 0;
      held_ = held;
    }
  }

  int port_;
  std::vector<int> fds_;
  std::vector<in_addr_t> sources_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> opened_{0};
  std::atomic<std::size_t> closed_{0};
  std::atomic<std::size_t> held_{0};
  std::thread thread_;
};

// The goal: every decision within 1 s. Under ASan every handshake costs
// several times more CPU on the same two cores as the flood, so the
// sanitizer tier checks that decisions keep coming with a looser bound; the
// 1 s bound holds in the plain build (make test).
#if defined(__SANITIZE_ADDRESS__)
constexpr auto kDecisionBound = 3000ms;
#else
constexpr auto kDecisionBound = 1000ms;
#endif

// The API server's pattern: `keep_alive` connections each posting a review
// every 100 ms, and one new connection per review every 100 ms. Counts the
// decisions that came back (200, a JSON answer) within 1 s.
class ApiServerLike {
 public:
  ApiServerLike(const Harness& harness, int keep_alive) : options_(harness.client_options()) {
    options_.timeout = kDecisionBound;
    for (int i = 0; i < keep_alive; ++i) {
      threads_.emplace_back([this, i] {
        server::HttpsClient client(options_);
        run([&] { return &client; }, "keep-alive-" + std::to_string(i), max_keep_ms_);
      });
    }
    threads_.emplace_back([this] {
      std::unique_ptr<server::HttpsClient> client;
      run([&] {
        client = std::make_unique<server::HttpsClient>(options_);
        return client.get();
      }, "new", max_new_ms_);
    });
  }
  ~ApiServerLike() { finish(); }
  void finish() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int sent() const { return sent_; }
  int answered() const { return answered_; }
  std::string summary() const {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "API-server-like client %d/%d decisions within the bound, slowest %.1f ms on a keep-alive "
                  "connection, %.1f ms on a new one",
                  answered_.load(), sent_.load(), max_keep_ms_.load(), max_new_ms_.load());
    return buf;
  }

 private:
  template <typename GetClient>
  void run(GetClient get_client, const std::string& name, std::atomic<double>& max_ms) {
    for (int n = 0; !stop_; ++n) {
      server::HttpsClient* client = get_client();
      server::HttpResponse r;
      const auto start = Clock::now();
      ++sent_;
      const bool ok = client->post("/validate", review(name + "-" + std::to_string(n)), r) && r.status == 200 &&
                      r.body.find("\"allowed\"") != std::string::npos;
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      if (ok && ms <= std::chrono::duration<double, std::milli>(kDecisionBound).count()) ++answered_;
      double seen = max_ms.load();
      while (ms > seen && !max_ms.compare_exchange_weak(seen, ms)) {
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  server::HttpsClientOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
  std::atomic<int> answered_{0};
  std::atomic<double> max_keep_ms_{0};
  std::atomic<double> max_new_ms_{0};
  std::vector<std::thread> threads_;
};

void run_flood(int sources) {
  raise_nofile();
  constexpr std::size_t kFlood = 5000;
  // The flood's sockets, the server's (cap 2048 + per-source limit), the client's.
  if (nofile() < kFlood + 2048 + 1024) {
    WARN("descriptor limit " << nofile() << " is below what a 5,000-connection flood needs; skipped");
    return;
  }
  Harness harness;  // default cap (2048), per-source limit (512) and deadlines (10 s head)
  Flood flood(harness.port(), kFlood, sources);
  // Let the flood reach its size before the client starts.
  servertest::eventually([&] { return flood.opened() >= kFlood; }, 3000ms);
  ApiServerLike client(harness, 3);
  std::this_thread::sleep_for(3s);
  client.finish();
  const auto& t = harness.metrics().webhook_transport();
  const std::size_t opened = flood.opened();
  const std::size_t closed = flood.closed_by_server();
  const std::size_t held = flood.held();
  flood.finish();
  std::printf("[flood] %zu connections that never send a request from %d loopback address%s: %zu opened, "
              "%zu closed by the server (cap %llu, per-source %llu, head deadline %llu), %zu held at the end, "
              "%llu refused; %s\n",
              kFlood, sources, sources == 1 ? "" : "es", opened, closed,
              static_cast<unsigned long long>(t.pending_closes(server::PendingClose::kCap)),
              static_cast<unsigned long long>(t.pending_closes(server::PendingClose::kSourceLimit)),
              static_cast<unsigned long long>(t.deadlines(server::Deadline::kHead)), held,
              static_cast<unsigned long long>(t.refused()), client.summary().c_str());
  std::fflush(stdout);
  CHECK(client.sent() >= 40);  // 4 clients x ~10 per second x 3 s, with margin
  CHECK(client.answered() == client.sent());
  CHECK(t.idle_evictions() == 0);  // the keep-alive connections were never closed to make room
  CHECK(t.refused() == 0);
  CHECK(closed > 0);  // the flood was over the limits and paid for it with its own connections
}

}  // namespace

TEST_CASE("flood: 5,000 connections that never send a request from one address do not delay a single decision", "[abuse][flood]") {
  run_flood(1);
}

TEST_CASE("flood: 5,000 connections that never send a request from 100 addresses do not delay a single decision", "[abuse][flood]") {
  run_flood(100);
}
