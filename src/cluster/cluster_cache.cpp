#include "cluster/cluster_cache.hpp"

#include <chrono>
#include <cstdio>

namespace wirecheck::cluster {
namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
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

void sample(std::string& out, std::string_view name, std::string_view kind, std::string_view value,
            std::string_view extra_label = {}, std::string_view extra_value = {}) {
  out += name;
  out += "{kind=\"";
  out += kind;
  if (!extra_label.empty()) {
    out += "\",";
    out += extra_label;
    out += "=\"";
    out += extra_value;
  }
  out += "\"} ";
  out += value;
  out += '\n';
}

}  // namespace

ClusterCache::ClusterCache(KubeConfig config, ClusterCacheOptions options, LogFn log) : config_(std::move(config)) {
  for (const WatchedKind& w : watched_kinds()) {
    if (!options.kinds.empty() &&
        std::find(options.kinds.begin(), options.kinds.end(), w.kind) == options.kinds.end()) {
      continue;
    }
    reflectors_.push_back(std::make_unique<Reflector>(w, config_, store_, options.reflector, log));
  }
}

ClusterCache::~ClusterCache() { stop(); }

void ClusterCache::start() {
  for (auto& r : reflectors_) r->start();
}

void ClusterCache::stop() {
  for (auto& r : reflectors_) r->stop();
}

std::string ClusterCache::not_ready() const {
  const auto snap = store_.snapshot();
  std::string waiting;
  for (const auto& r : reflectors_) {
    const KindState state = snap->state(r->kind().kind);
    if (state == KindState::kSynced || state == KindState::kNotServed) continue;
    if (!waiting.empty()) waiting += ", ";
    waiting += core::kind_name(r->kind().kind);
  }
  return waiting.empty() ? std::string() : "cluster cache not synced yet: " + waiting;
}

void ClusterCache::render_metrics(std::string& out) const {
  const auto snap = store_.snapshot();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const auto each = [&](auto&& fn) {
    for (const auto& r : reflectors_) fn(core::kind_name(r->kind().kind), *r);
  };

  family(out, "wirecheck_cluster_objects", "gauge", "Objects held in the cluster cache, by kind.");
  each([&](std::string_view kind, const Reflector& r) {
    sample(out, "wirecheck_cluster_objects", kind, std::to_string(snap->count(r.kind().kind)));
  });
  family(out, "wirecheck_cluster_sync_state", "gauge",
         "1 for the state each watched kind is in (unknown, not_served, syncing, synced).");
  each([&](std::string_view kind, const Reflector& r) {
    const KindState current = snap->state(r.kind().kind);
    for (KindState s : {KindState::kUnknown, KindState::kNotServed, KindState::kSyncing, KindState::kSynced}) {
      sample(out, "wirecheck_cluster_sync_state", kind, s == current ? "1" : "0", "state", kind_state_name(s));
    }
  });
  family(out, "wirecheck_cluster_api_not_served", "gauge",
         "1 when the API server does not serve this kind (its rules stay skipped).");
  each([&](std::string_view kind, const Reflector& r) {
    sample(out, "wirecheck_cluster_api_not_served", kind,
           snap->state(r.kind().kind) == KindState::kNotServed ? "1" : "0");
  });
  family(out, "wirecheck_cluster_watch_restarts_total", "counter",
         "Watches re-established after a failure (dropped connection, malformed event, refused watch).");
  each([&](std::string_view kind, const Reflector& r) {
    sample(out, "wirecheck_cluster_watch_restarts_total", kind, std::to_string(r.stats().watch_restarts.load()));
  });
  family(out, "wirecheck_cluster_relists_total", "counter",
         "Full relists after the watch history expired (410 Gone).");
  each([&](std::string_view kind, const Reflector& r) {
    sample(out, "wirecheck_cluster_relists_total", kind, std::to_string(r.stats().relists.load()));
  });
  family(out, "wirecheck_cluster_malformed_events_total", "counter", "Watch events that could not be decoded.");
  each([&](std::string_view kind, const Reflector& r) {
    sample(out, "wirecheck_cluster_malformed_events_total", kind, std::to_string(r.stats().malformed_events.load()));
  });
  family(out, "wirecheck_cluster_last_event_age_seconds", "gauge",
         "Seconds since the last list or watch event (bookmarks included) for this kind; -1 before the first.");
  each([&](std::string_view kind, const Reflector& r) {
    const auto last = r.stats().last_event_unix_ms.load();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", last == 0 ? -1.0 : static_cast<double>(now_ms - last) / 1000.0);
    sample(out, "wirecheck_cluster_last_event_age_seconds", kind, buf);
  });
}

}  // namespace wirecheck::cluster
