#include "cluster/cluster_cache.hpp"

#include <algorithm>

namespace wirecheck::cluster {

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

std::vector<KindStatus> ClusterCache::status() const {
  const auto snap = store_.snapshot();
  std::vector<KindStatus> out;
  out.reserve(reflectors_.size());
  for (const auto& r : reflectors_) {
    const core::Kind kind = r->kind().kind;
    const ReflectorStats& stats = r->stats();
    out.push_back({kind, snap->state(kind), snap->count(kind), stats.watch_restarts.load(), stats.relists.load(),
                   stats.malformed_events.load(), stats.last_event_unix_ms.load()});
  }
  return out;
}

}  // namespace wirecheck::cluster
