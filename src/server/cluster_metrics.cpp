#include "server/cluster_metrics.hpp"

#include <chrono>
#include <cstdio>

#include "server/metrics.hpp"

namespace wirecheck::server {
namespace {

void sample(std::string& out, std::string_view name, const cluster::KindStatus& k, std::string_view value,
            std::string_view state = {}) {
  out += name;
  out += "{kind=\"";
  out += core::kind_name(k.kind);
  if (!state.empty()) {
    out += "\",state=\"";
    out += state;
  }
  out += "\"} ";
  out += value;
  out += '\n';
}

}  // namespace

void render_cluster_metrics(const cluster::ClusterCache& cache, std::string& out) {
  using cluster::KindState;
  const auto kinds = cache.status();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const auto family = [&](std::string_view name, std::string_view type, std::string_view help, auto&& value) {
    metric_family(out, name, type, help);
    for (const auto& k : kinds) sample(out, name, k, value(k));
  };
  family("wirecheck_cluster_objects", "gauge", "Objects held in the cluster cache, by kind.",
         [](const auto& k) { return std::to_string(k.objects); });
  metric_family(out, "wirecheck_cluster_sync_state", "gauge",
                "1 for the state each watched kind is in (unknown, not_served, syncing, synced).");
  for (const auto& k : kinds) {
    for (KindState s : {KindState::kUnknown, KindState::kNotServed, KindState::kSyncing, KindState::kSynced}) {
      sample(out, "wirecheck_cluster_sync_state", k, s == k.state ? "1" : "0", cluster::kind_state_name(s));
    }
  }
  family("wirecheck_cluster_api_not_served", "gauge",
         "1 when the API server does not serve this kind (its rules stay skipped).",
         [](const auto& k) { return std::string(k.state == KindState::kNotServed ? "1" : "0"); });
  family("wirecheck_cluster_watch_restarts_total", "counter",
         "Watches re-established after a failure (dropped connection, malformed event, refused watch).",
         [](const auto& k) { return std::to_string(k.watch_restarts); });
  family("wirecheck_cluster_relists_total", "counter", "Full relists after the watch history expired (410 Gone).",
         [](const auto& k) { return std::to_string(k.relists); });
  family("wirecheck_cluster_malformed_events_total", "counter", "Watch events that could not be decoded.",
         [](const auto& k) { return std::to_string(k.malformed_events); });
  family("wirecheck_cluster_last_event_age_seconds", "gauge",
         "Seconds since the last list or watch event (bookmarks included) for this kind; -1 before the first.",
         [&](const auto& k) {
           char buf[32];
           std::snprintf(buf, sizeof buf, "%.3f",
                         k.last_event_unix_ms == 0 ? -1.0 : static_cast<double>(now_ms - k.last_event_unix_ms) / 1000.0);
           return std::string(buf);
         });
}

}  // namespace wirecheck::server
