#include "server/transport_metrics.hpp"

#include "server/metrics.hpp"

namespace wirecheck::server {

std::string_view deadline_name(Deadline d) {
  switch (d) {
    case Deadline::kHead: return "handshake_and_head";
    case Deadline::kRequest: return "request";
    case Deadline::kWrite: return "write";
    case Deadline::kLinger: return "linger";
    default: return "other";
  }
}

std::string_view handshake_failure_name(HandshakeFailure f) {
  switch (f) {
    case HandshakeFailure::kNoClientCertificate: return "no_client_certificate";
    case HandshakeFailure::kUnknownCa: return "unknown_ca";
    case HandshakeFailure::kProtocolVersion: return "protocol_version";
    case HandshakeFailure::kNotTls: return "not_tls";
    default: return "other";
  }
}

std::string_view pending_close_name(PendingClose r) {
  switch (r) {
    case PendingClose::kCap: return "cap";
    case PendingClose::kSourceLimit: return "source_limit";
    case PendingClose::kShutdown: return "shutdown";
    default: return "other";
  }
}

void TransportMetrics::render(std::string& out, std::string_view name_a, const TransportMetrics& a,
                              std::string_view name_b, const TransportMetrics& b) {
  const std::pair<std::string_view, const TransportMetrics*> listeners[] = {{name_a, &a}, {name_b, &b}};
  const auto block = [&](std::string_view metric, std::string_view type, std::string_view help,
                         auto&& each) {
    metric_family(out, metric, type, help);
    for (const auto& listener : listeners) {
      // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
      const auto& name = listener.first;
      const auto* m = listener.second;
      each(*m, [&](std::string_view extra_labels, std::int64_t value) {
        out += metric;
        out += "{listener=\"";
        out += name;
        out += '"';
        if (!extra_labels.empty()) {
          out += ',';
          out += extra_labels;
        }
        out += "} ";
        out += std::to_string(value);
        out += '\n';
      });
    }
  };
  const auto u = [](const Counter& c) { return static_cast<std::int64_t>(c.load(std::memory_order_relaxed)); };

  block("wirecheck_http_open_connections", "gauge", "Connections open now.",
        [&](const TransportMetrics& m, auto emit) { emit("", m.open_.load(std::memory_order_relaxed)); });
  block("wirecheck_http_connections_accepted_total", "counter", "Connections accepted.",
        [&](const TransportMetrics& m, auto emit) { emit("", u(m.accepted_)); });
  block("wirecheck_http_connections_refused_total", "counter",
        "Connections refused at accept because the open-connection cap was reached and none could be closed to make room.",
        [&](const TransportMetrics& m, auto emit) { emit("", u(m.refused_)); });
  block("wirecheck_http_idle_connections_closed_total", "counter",
        "Idle keep-alive connections closed, by reason (idle timeout, to make room at the cap, at shutdown).",
        [&](const TransportMetrics& m, auto emit) {
          emit("reason=\"timeout\"", u(m.idle_timeouts_));
          emit("reason=\"cap\"", u(m.evicted_));
          emit("reason=\"shutdown\"", u(m.idle_shutdown_));
        });
  block("wirecheck_http_pending_connections_closed_total", "counter",
        "Connections closed before they sent a complete request head (and before their head deadline), by "
        "reason: the oldest made room at the open-connection cap, the oldest of a source over its limit, "
        "or still silent at shutdown.",
        [&](const TransportMetrics& m, auto emit) {
          for (std::size_t r = 0; r < m.pending_.size(); ++r) {
            emit("reason=\"" + std::string(pending_close_name(static_cast<PendingClose>(r))) + "\"", u(m.pending_[r]));
          }
        });
  block("wirecheck_http_deadline_exceeded_total", "counter",
        "Connections cut because a phase overran its deadline (handshake and head, whole request, response "
        "write, linger: the peer neither closed nor stopped sending after a final answer).",
        [&](const TransportMetrics& m, auto emit) {
          for (std::size_t d = 0; d < m.deadlines_.size(); ++d) {
            emit("deadline=\"" + std::string(deadline_name(static_cast<Deadline>(d))) + "\"", u(m.deadlines_[d]));
          }
        });
  block("wirecheck_tls_handshake_failures_total", "counter", "TLS handshakes that failed, by reason.",
        [&](const TransportMetrics& m, auto emit) {
          for (std::size_t f = 0; f < m.handshakes_.size(); ++f) {
            emit("reason=\"" + std::string(handshake_failure_name(static_cast<HandshakeFailure>(f))) + "\"",
                 u(m.handshakes_[f]));
          }
        });
  block("wirecheck_http_workers", "gauge",
        "Decision workers by state (large reviews are decided on workers; small ones on the I/O thread).",
        [&](const TransportMetrics& m, auto emit) {
          const std::int64_t busy = m.busy_.load(std::memory_order_relaxed);
          emit("state=\"busy\"", busy);
          emit("state=\"idle\"", m.workers_.load(std::memory_order_relaxed) - busy);
        });
}

}  // namespace wirecheck::server
