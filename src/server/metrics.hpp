// Metrics: the server's Prometheus counters, rendered in the text exposition
// format (version 0.0.4) by hand. Label sets are bounded by construction
// (operations x known kinds x modes x decisions; registered rule ids), so a
// request can never create a new series: every counter is a preallocated
// atomic and recording is lock-free.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "admission/handler.hpp"
#include "wirecheck/object.hpp"
#include "server/transport_metrics.hpp"

namespace wirecheck::server {

// Appends the `# HELP` and `# TYPE` lines of one metric family.
void metric_family(std::string& out, std::string_view name, std::string_view type, std::string_view help);

class Metrics {
 public:
  // `rule_ids`: every rule that can report (the registry), in any order.
  explicit Metrics(std::vector<std::string> rule_ids);

  // One answered AdmissionReview (parsed or not), with the server's own time.
  void record_review(const admission::Outcome& outcome, std::chrono::nanoseconds own_time);
  // A request refused by the transport before any decision (400, 404, 405, 411, 413, 414, 415, 431).
  void record_rejected(int http_status);
  // Connection-level counters of each listener (rendered with a listener label).
  TransportMetrics& webhook_transport() { return webhook_transport_; }
  TransportMetrics& ops_transport() { return ops_transport_; }
  void record_certificate(bool reload_ok, std::int64_t not_after_unix);
  void add_in_flight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }

  std::string render() const;

  // Appends more families to every render (the cluster cache's gauges).
  // Set once before the ops listener starts.
  using Section = std::function<void(std::string&)>;
  void add_section(Section section) { sections_.push_back(std::move(section)); }

  // Why a rule was skipped (wirecheck_rules_skipped_total{reason}).
  static constexpr std::array<std::string_view, 4> kSkipReasons = {
      "no_cluster_view", "api_not_served", "not_synced", "other"};

  // Most reviews take 2-25 us of server time (docs/performance.md): the
  // lowest buckets resolve that range.
  static constexpr std::array<double, 14> kLatencyBuckets = {
      0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
      0.001,    0.0025,  0.005,    0.01,    0.025,  0.1,     1.0};

 private:
  static constexpr std::size_t kOps = 4;
  static constexpr std::size_t kKinds = core::kKindCount;
  static constexpr std::size_t kModes = 3;
  static constexpr std::size_t kDecisions = 3;  // allowed, denied, error
  static constexpr std::size_t kSeverities = 3;
  static constexpr std::size_t kActions = 5;
  using Counter = std::atomic<std::uint64_t>;

  std::vector<std::string> rules_;
  std::unordered_map<std::string, std::size_t> rule_index_;
  std::unique_ptr<Counter[]> requests_;   // ops x kinds x modes x decisions
  std::unique_ptr<Counter[]> findings_;   // rules x severities x actions
  std::unique_ptr<Counter[]> exemptions_; // rules
  std::unique_ptr<Counter[]> skipped_;    // rules x skip reasons
  std::vector<Section> sections_;
  std::array<Counter, kLatencyBuckets.size() + 1> latency_buckets_{};
  Counter latency_sum_ns_{0};
  Counter latency_count_{0};
  Counter invalid_reviews_{0};
  Counter internal_errors_{0};
  std::array<Counter, 4> not_checked_{};  // kNotCheckedReasons (metrics.cpp)
  std::array<Counter, 9> rejected_{};  // 400 404 405 411 413 414 415 431 other
  TransportMetrics webhook_transport_;
  TransportMetrics ops_transport_;
  Counter reload_ok_{0};
  Counter reload_failed_{0};
  std::atomic<std::int64_t> cert_not_after_{0};
  std::atomic<std::int64_t> in_flight_{0};
};

}  // namespace wirecheck::server
