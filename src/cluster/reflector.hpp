// Reflector: keeps one kind of the Store in step with the API server, the
// way client-go's reflector does: discovery (is the kind served, at which
// version), a paginated LIST (`limit` + `continue`), then a WATCH from the
// list's resourceVersion with bookmarks, applying each newline-delimited
// event to the Store. A watch that ends is resumed from the last
// resourceVersion seen; a dropped connection or a malformed event restarts it
// after a jittered backoff; `410 Gone` (history compacted) relists. A kind
// that is not served is re-checked now and then (a CRD may be installed later).
//
// One thread per reflector. Counters are atomics read by the metrics.
#pragma once

#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/api_client.hpp"
#include "cluster/lister.hpp"
#include "cluster/store.hpp"
#include "cluster/watched_kinds.hpp"

namespace wirecheck::cluster {

// Where the cluster module's messages go (the server wires it to its JSON log).
enum class LogLevel { kDebug, kInfo, kWarn, kError };
using LogFn = std::function<void(LogLevel, std::string_view message, core::Kind kind, std::string_view detail)>;


struct ReflectorOptions {
  std::size_t page_size = 500;
  std::chrono::milliseconds backoff_min{250};
  std::chrono::milliseconds backoff_max{10000};
  // Asked of the server per watch (it ends the watch then; we resume).
  std::chrono::seconds watch_timeout{300};
  // Silence on a watch longer than this means a dead connection. Bookmarks
  // arrive about once a minute, so this is above that.
  std::chrono::milliseconds watch_idle_timeout{90000};
  // Longest wait between two discoveries of a kind that is not served.
  std::chrono::milliseconds rediscover_interval{60000};
  // A kind that was served and then vanishes from discovery is retried this
  // long before it counts as not served: a restarting API server answers 404
  // for custom resources until it has loaded their CRDs again.
  std::chrono::milliseconds vanish_grace{30000};
  ApiClientOptions client;
};

struct ReflectorStats {
  std::atomic<std::uint64_t> watch_restarts{0};
  std::atomic<std::uint64_t> relists{0};
  std::atomic<std::uint64_t> malformed_events{0};
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::int64_t> last_event_unix_ms{0};  // 0: none yet
};

class Reflector {
 public:
  Reflector(const WatchedKind& kind, const KubeConfig& config, Store& store, ReflectorOptions options, LogFn log);
  ~Reflector();
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  void start();
  void stop();

  const WatchedKind& kind() const { return kind_; }
  const ReflectorStats& stats() const { return stats_; }

 private:
  enum class WatchEnd { kTimeout, kExpired, kFailed, kStopped };

  void run();
  // True when discovery answered; sets version_ ("" when not served).
  bool discover();
  // True when the kind was listed and stored; sets resource_version_.
  bool list();
  WatchEnd watch();
  // Applies one event line; false when it is malformed (the watch restarts).
  bool apply_event(std::string_view line, WatchEnd& end);
  // "v1", "apps/v1", "monitoring.coreos.com/v1": what cached objects carry.
  std::string api_version() const;
  // Waits `d` or until stop(); false when stopping.
  bool sleep_for(std::chrono::milliseconds d);
  std::chrono::milliseconds next_backoff();
  std::string collection_path() const;
  void log(LogLevel level, std::string_view message, std::string_view detail = {}) const;

  WatchedKind kind_;
  Store& store_;
  ReflectorOptions options_;
  LogFn log_;
  ApiClient client_;
  simdjson::dom::parser parser_;
  std::string version_;
  std::string resource_version_;
  std::chrono::milliseconds backoff_{0};
  ReflectorStats stats_;
  KindState reported_state_ = KindState::kUnknown;
  std::chrono::steady_clock::time_point vanished_since_{};
  std::chrono::milliseconds not_served_wait_{0};

  std::atomic<bool> stopping_{false};
  std::atomic<bool> exited_{true};
  std::mutex sleep_mutex_;
  std::condition_variable sleep_cv_;
  std::thread thread_;
};

}  // namespace wirecheck::cluster
