#include "server/metrics.hpp"

#include <algorithm>
#include <cstdio>

#include "wirecheck/object.hpp"
#include "wirecheck/severity.hpp"

namespace wirecheck::server {
namespace {

constexpr std::array<int, 8> kRejectedCodes = {400, 404, 405, 411, 413, 414, 415, 431};
// admission::Outcome::not_checked values.
constexpr std::array<std::string_view, 4> kNotCheckedReasons = {"object_limit", "budget", "out_of_memory",
                                                                "internal_error"};

std::string_view decision_name(std::size_t d) {
  switch (d) {
    case 0: return "allowed";
    case 1: return "denied";
    default: return "error";
  }
}

std::string_view kind_label(std::size_t k) {
  const std::string_view name = core::kind_name(static_cast<core::Kind>(k));
  return name.empty() ? std::string_view("other") : name;
}

void append_escaped_label(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  metric_family(out, name, type, help);
}

void append_double(std::string& out, double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", value);
  out += buf;
}

}  // namespace

void metric_family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

Metrics::Metrics(std::vector<std::string> rule_ids) : rules_(std::move(rule_ids)) {
  for (std::size_t i = 0; i < rules_.size(); ++i) rule_index_.emplace(rules_[i], i);
  requests_ = std::make_unique<Counter[]>(kOps * kKinds * kModes * kDecisions);
  findings_ = std::make_unique<Counter[]>(std::max<std::size_t>(1, rules_.size()) * kSeverities * kActions);
  exemptions_ = std::make_unique<Counter[]>(std::max<std::size_t>(1, rules_.size()));
  skipped_ = std::make_unique<Counter[]>(std::max<std::size_t>(1, rules_.size()) * kSkipReasons.size());
}

void Metrics::record_review(const admission::Outcome& outcome, std::chrono::nanoseconds own_time) {
  const auto ns = static_cast<std::uint64_t>(own_time.count() < 0 ? 0 : own_time.count());
  const double seconds = static_cast<double>(ns) / 1e9;
  std::size_t bucket = 0;
  while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
  latency_buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);

  if (outcome.internal_error) internal_errors_.fetch_add(1, std::memory_order_relaxed);
  if (!outcome.not_checked.empty()) {
    std::size_t i = 0;
    while (i + 1 < kNotCheckedReasons.size() && kNotCheckedReasons[i] != outcome.not_checked) ++i;
    not_checked_[i].fetch_add(1, std::memory_order_relaxed);
  }
  if (!outcome.parsed) {
    invalid_reviews_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const auto op = policy::parse_operation(outcome.operation);
  const std::size_t o = op ? static_cast<std::size_t>(*op) : 0;
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(outcome.kind_id), kKinds - 1);
  const std::size_t m = static_cast<std::size_t>(outcome.mode);
  const std::size_t d = outcome.internal_error ? 2 : (outcome.allowed ? 0 : 1);
  requests_[((o * kKinds + k) * kModes + m) * kDecisions + d].fetch_add(1, std::memory_order_relaxed);

  for (const policy::Finding& f : outcome.findings) {
    const auto it = rule_index_.find(f.rule);
    if (it == rule_index_.end()) continue;
    const std::size_t r = it->second;
    const auto s = static_cast<std::size_t>(f.severity);
    const auto a = static_cast<std::size_t>(admission::action_for(f, outcome.mode));
    findings_[(r * kSeverities + s) * kActions + a].fetch_add(1, std::memory_order_relaxed);
    if (f.exempted) exemptions_[r].fetch_add(1, std::memory_order_relaxed);
  }
  for (const policy::SkippedRule& s : outcome.skipped) {
    const auto it = rule_index_.find(std::string(s.rule));
    if (it == rule_index_.end()) continue;
    std::size_t reason = 0;
    while (reason + 1 < kSkipReasons.size() && kSkipReasons[reason] != s.reason) ++reason;
    skipped_[it->second * kSkipReasons.size() + reason].fetch_add(1, std::memory_order_relaxed);
  }
}

void Metrics::record_rejected(int http_status) {
  std::size_t i = 0;
  while (i < kRejectedCodes.size() && kRejectedCodes[i] != http_status) ++i;
  rejected_[i].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::record_certificate(bool reload_ok, std::int64_t not_after_unix) {
  (reload_ok ? reload_ok_ : reload_failed_).fetch_add(1, std::memory_order_relaxed);
  if (reload_ok) cert_not_after_.store(not_after_unix, std::memory_order_relaxed);
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(8192);
  const auto load = [](const Counter& c) { return std::to_string(c.load(std::memory_order_relaxed)); };

  header(out, "wirecheck_admission_requests_total", "counter",
         "AdmissionReview requests answered, by operation, kind, mode and decision.");
  for (std::size_t o = 0; o < kOps; ++o) {
    for (std::size_t k = 0; k < kKinds; ++k) {
      for (std::size_t m = 0; m < kModes; ++m) {
        for (std::size_t d = 0; d < kDecisions; ++d) {
          const auto v = requests_[((o * kKinds + k) * kModes + m) * kDecisions + d].load(std::memory_order_relaxed);
          if (v == 0) continue;
          out += "wirecheck_admission_requests_total{operation=\"";
          out += policy::operation_name(static_cast<policy::Operation>(o));
          out += "\",kind=\"";
          out += kind_label(k);
          out += "\",mode=\"";
          out += admission::mode_name(static_cast<admission::Mode>(m));
          out += "\",decision=\"";
          out += decision_name(d);
          out += "\"} ";
          out += std::to_string(v);
          out += '\n';
        }
      }
    }
  }

  header(out, "wirecheck_admission_invalid_reviews_total", "counter",
         "Bodies that were not a usable AdmissionReview (answered 400).");
  out += "wirecheck_admission_invalid_reviews_total " + load(invalid_reviews_) + "\n";

  header(out, "wirecheck_admission_internal_errors_total", "counter",
         "Internal errors while evaluating (answered fail-open or fail-closed).");
  out += "wirecheck_admission_internal_errors_total " + load(internal_errors_) + "\n";

  header(out, "wirecheck_admission_not_checked_total", "counter",
         "Objects answered without being checked (fail-open or fail-closed), by reason.");
  for (std::size_t i = 0; i < kNotCheckedReasons.size(); ++i) {
    out += "wirecheck_admission_not_checked_total{reason=\"";
    out += kNotCheckedReasons[i];
    out += "\"} " + load(not_checked_[i]) + "\n";
  }

  TransportMetrics::render(out, "webhook", webhook_transport_, "ops", ops_transport_);

  header(out, "wirecheck_http_rejected_requests_total", "counter",
         "Requests refused before decoding, by HTTP status code.");
  for (std::size_t i = 0; i < rejected_.size(); ++i) {
    out += "wirecheck_http_rejected_requests_total{code=\"";
    out += i < kRejectedCodes.size() ? std::to_string(kRejectedCodes[i]) : std::string("other");
    out += "\"} " + load(rejected_[i]) + "\n";
  }

  header(out, "wirecheck_admission_duration_seconds", "histogram",
         "Server time per AdmissionReview from body received to answer built (excludes TLS and network).");
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b <= kLatencyBuckets.size(); ++b) {
    cumulative += latency_buckets_[b].load(std::memory_order_relaxed);
    out += "wirecheck_admission_duration_seconds_bucket{le=\"";
    if (b < kLatencyBuckets.size()) append_double(out, kLatencyBuckets[b]);
    else out += "+Inf";
    out += "\"} " + std::to_string(cumulative) + "\n";
  }
  out += "wirecheck_admission_duration_seconds_sum ";
  append_double(out, static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  out += "\nwirecheck_admission_duration_seconds_count " + std::to_string(cumulative) + "\n";

  header(out, "wirecheck_findings_total", "counter",
         "Findings reported at admission, by rule, severity and what they led to.");
  for (std::size_t r = 0; r < rules_.size(); ++r) {
    for (std::size_t s = 0; s < kSeverities; ++s) {
      for (std::size_t a = 0; a < kActions; ++a) {
        const auto v = findings_[(r * kSeverities + s) * kActions + a].load(std::memory_order_relaxed);
        if (v == 0) continue;
        out += "wirecheck_findings_total{rule=\"";
        append_escaped_label(out, rules_[r]);
        out += "\",severity=\"";
        out += policy::severity_name(static_cast<policy::Severity>(s));
        out += "\",action=\"";
        out += admission::action_name(static_cast<admission::Action>(a));
        out += "\"} " + std::to_string(v) + "\n";
      }
    }
  }

  header(out, "wirecheck_exemptions_total", "counter",
         "Findings suppressed by an ignore.wirecheck.dev/<rule> annotation, by rule.");
  for (std::size_t r = 0; r < rules_.size(); ++r) {
    const auto v = exemptions_[r].load(std::memory_order_relaxed);
    if (v == 0) continue;
    out += "wirecheck_exemptions_total{rule=\"";
    append_escaped_label(out, rules_[r]);
    out += "\"} " + std::to_string(v) + "\n";
  }

  header(out, "wirecheck_rules_skipped_total", "counter",
         "Rules that matched a request but did not run because the cluster view lacks a kind they need, "
         "by rule and reason.");
  for (std::size_t r = 0; r < rules_.size(); ++r) {
    for (std::size_t reason = 0; reason < kSkipReasons.size(); ++reason) {
      const auto v = skipped_[r * kSkipReasons.size() + reason].load(std::memory_order_relaxed);
      if (v == 0) continue;
      out += "wirecheck_rules_skipped_total{rule=\"";
      append_escaped_label(out, rules_[r]);
      out += "\",reason=\"";
      out += kSkipReasons[reason];
      out += "\"} " + std::to_string(v) + "\n";
    }
  }

  header(out, "wirecheck_admission_in_flight_requests", "gauge", "AdmissionReview requests being handled.");
  out += "wirecheck_admission_in_flight_requests " +
         std::to_string(in_flight_.load(std::memory_order_relaxed)) + "\n";

  header(out, "wirecheck_certificate_not_after_seconds", "gauge",
         "Expiry (Unix time) of the serving certificate in use.");
  out += "wirecheck_certificate_not_after_seconds " +
         std::to_string(cert_not_after_.load(std::memory_order_relaxed)) + "\n";

  header(out, "wirecheck_certificate_reloads_total", "counter",
         "Serving certificate loads, by result (a failed load keeps the previous pair).");
  out += "wirecheck_certificate_reloads_total{result=\"success\"} " + load(reload_ok_) + "\n";
  out += "wirecheck_certificate_reloads_total{result=\"failure\"} " + load(reload_failed_) + "\n";

  header(out, "wirecheck_build_info", "gauge", "Build information; always 1.");
  out += "wirecheck_build_info{version=\"";
  append_escaped_label(out, WIRECHECK_VERSION);
  out += "\"} 1\n";
  for (const Section& section : sections_) section(out);
  return out;
}

}  // namespace wirecheck::server
