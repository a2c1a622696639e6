// ClusterCache: the admission server's view of the cluster. One Reflector
// per watched kind keeps a Store current; requests take an immutable
// Snapshot (a policy::Context) each. The cache is ready when every kind the
// API server serves has been listed once; kinds it does not serve are
// reported (log, metrics) and the rules needing them stay skipped.
//
// Thread-safety: start/stop from one thread; everything else from any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cluster/kube_config.hpp"
#include "cluster/reflector.hpp"
#include "cluster/store.hpp"

namespace wirecheck::cluster {

// One watched kind's state, for metrics.
struct KindStatus {
  core::Kind kind;
  KindState state;
  std::size_t objects;
  std::uint64_t watch_restarts;
  std::uint64_t relists;
  std::uint64_t malformed_events;
  std::int64_t last_event_unix_ms;  // 0: none yet
};

struct ClusterCacheOptions {
  ReflectorOptions reflector;
  // Kinds to watch; empty means every entry of watched_kinds().
  std::vector<core::Kind> kinds;
};

class ClusterCache {
 public:
  ClusterCache(KubeConfig config, ClusterCacheOptions options, LogFn log);
  ~ClusterCache();
  ClusterCache(const ClusterCache&) = delete;
  ClusterCache& operator=(const ClusterCache&) = delete;

  void start();
  void stop();

  std::shared_ptr<const Snapshot> snapshot() const { return store_.snapshot(); }
  Store& store() { return store_; }

  // "" when every served kind has synced once; else why not (for /readyz).
  std::string not_ready() const;
  // Every watched kind, in watched_kinds() order.
  std::vector<KindStatus> status() const;

 private:
  KubeConfig config_;
  Store store_;
  std::vector<std::unique_ptr<Reflector>> reflectors_;
};

}  // namespace wirecheck::cluster
