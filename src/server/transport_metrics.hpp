// TransportMetrics: what the connection layer of one listener (webhook or
// ops) counts: open connections, connections refused at the cap, every
// connection the server closes for a cap or a deadline by reason (idle ones
// and ones that never sent a request, closed to make room, over the
// per-source limit or at shutdown; each deadline), TLS handshake failures by
// reason, and the decision workers' occupancy. Rendered by Metrics with a
// `listener` label.
//
// Thread-safety: all methods may be called concurrently (relaxed atomics).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace wirecheck::server {

enum class Deadline { kHead, kRequest, kWrite, kLinger, kCount };
// Why a connection that had not sent a complete request head yet was closed
// by the server before its head deadline.
enum class PendingClose { kCap, kSourceLimit, kShutdown, kCount };
enum class HandshakeFailure { kNoClientCertificate, kUnknownCa, kProtocolVersion, kNotTls, kOther, kCount };

std::string_view deadline_name(Deadline d);
std::string_view handshake_failure_name(HandshakeFailure f);
std::string_view pending_close_name(PendingClose r);

class TransportMetrics {
 public:
  void connection_opened() { open_.fetch_add(1, std::memory_order_relaxed); accepted_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { open_.fetch_sub(1, std::memory_order_relaxed); }
  void connection_refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  void idle_closed_for_room() { evicted_.fetch_add(1, std::memory_order_relaxed); }
  void idle_timed_out() { idle_timeouts_.fetch_add(1, std::memory_order_relaxed); }
  void idle_closed_at_shutdown() { idle_shutdown_.fetch_add(1, std::memory_order_relaxed); }
  void pending_closed(PendingClose r) { pending_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed); }
  void deadline_exceeded(Deadline d) { deadlines_[static_cast<std::size_t>(d)].fetch_add(1, std::memory_order_relaxed); }
  void handshake_failed(HandshakeFailure f) { handshakes_[static_cast<std::size_t>(f)].fetch_add(1, std::memory_order_relaxed); }
  void set_workers(std::int64_t total) { workers_.store(total, std::memory_order_relaxed); }
  void worker_busy(int delta) { busy_.fetch_add(delta, std::memory_order_relaxed); }

  std::int64_t open() const { return open_.load(std::memory_order_relaxed); }
  std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }
  std::uint64_t deadlines(Deadline d) const { return deadlines_[static_cast<std::size_t>(d)].load(std::memory_order_relaxed); }
  std::uint64_t handshakes(HandshakeFailure f) const { return handshakes_[static_cast<std::size_t>(f)].load(std::memory_order_relaxed); }
  std::uint64_t pending_closes(PendingClose r) const { return pending_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed); }
  std::uint64_t idle_evictions() const { return evicted_.load(std::memory_order_relaxed); }

  // Appends every series for the listeners given (name, metrics), in the
  // Prometheus text format, one HELP/TYPE block per metric.
  static void render(std::string& out, std::string_view name_a, const TransportMetrics& a,
                     std::string_view name_b, const TransportMetrics& b);

 private:
  using Counter = std::atomic<std::uint64_t>;
  std::atomic<std::int64_t> open_{0};
  Counter accepted_{0};
  Counter refused_{0};
  Counter evicted_{0};
  Counter idle_timeouts_{0};
  Counter idle_shutdown_{0};
  std::array<Counter, static_cast<std::size_t>(PendingClose::kCount)> pending_{};
  std::array<Counter, static_cast<std::size_t>(Deadline::kCount)> deadlines_{};
  std::array<Counter, static_cast<std::size_t>(HandshakeFailure::kCount)> handshakes_{};
  std::atomic<std::int64_t> workers_{0};
  std::atomic<std::int64_t> busy_{0};
};

}  // namespace wirecheck::server
