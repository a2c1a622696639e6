#include "cluster/reflector.hpp"

#include <random>

#include "cluster/lister.hpp"
#include "cluster/watch_event.hpp"
#include "core/decode_dom.hpp"

namespace wirecheck::cluster {
namespace {

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Reflector::Reflector(const WatchedKind& kind, const KubeConfig& config, Store& store, ReflectorOptions options,
                     LogFn log)
    : kind_(kind), store_(store), options_(options), log_(std::move(log)), client_(config, options.client) {}

Reflector::~Reflector() { stop(); }

void Reflector::start() {
  stopping_ = false;
  exited_ = false;
  thread_ = std::thread([this] {
    run();
    exited_ = true;
  });
}

void Reflector::stop() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stopping_ = true;
  }
  sleep_cv_.notify_all();
  if (!thread_.joinable()) return;
  // A request may begin just after a cancel: keep cancelling until the
  // thread has seen stopping_, so stop never waits out a watch timeout.
  while (!exited_) {
    client_.cancel();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  thread_.join();
}

void Reflector::log(LogLevel level, std::string_view message, std::string_view detail) const {
  if (log_) log_(level, message, kind_.kind, detail);
}

bool Reflector::sleep_for(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(sleep_mutex_);
  sleep_cv_.wait_for(lock, d, [this] { return stopping_.load(); });
  return !stopping_;
}

std::chrono::milliseconds Reflector::next_backoff() {
  backoff_ = backoff_.count() == 0 ? options_.backoff_min : std::min(backoff_ * 2, options_.backoff_max);
  // Full jitter over the upper half: many replicas must not reconnect in step.
  thread_local std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<std::int64_t> dist(backoff_.count() / 2, backoff_.count());
  return std::chrono::milliseconds(dist(rng));
}

std::string Reflector::collection_path() const {
  return group_version_path(kind_.group, version_) + "/" + std::string(kind_.resource);
}

void Reflector::run() {
  while (!stopping_) {
    if (!discover()) {
      if (!sleep_for(next_backoff())) return;
      continue;
    }
    if (version_.empty() && reported_state_ == KindState::kSynced) {
      const auto now = std::chrono::steady_clock::now();
      if (vanished_since_ == std::chrono::steady_clock::time_point{}) vanished_since_ = now;
      if (now - vanished_since_ < options_.vanish_grace) {
        if (!sleep_for(next_backoff())) return;
        continue;
      }
      // Gone for good (CRD deleted): forget its objects.
      store_.replace(kind_.kind, {});
    }
    vanished_since_ = {};
    if (!version_.empty()) not_served_wait_ = std::chrono::milliseconds(0);
    if (version_.empty()) {
      if (reported_state_ != KindState::kNotServed) {
        log(LogLevel::kWarn, "kind not served by the API server: rules that need it stay skipped");
        reported_state_ = KindState::kNotServed;
      }
      store_.set_state(kind_.kind, KindState::kNotServed);
      // Asked again soon at first (an API server that is starting answers 404
      // for custom resources until it has loaded their CRDs), then rarely.
      not_served_wait_ = std::min(options_.rediscover_interval,
                                  not_served_wait_.count() == 0 ? options_.backoff_min : not_served_wait_ * 2);
      if (!sleep_for(not_served_wait_)) return;
      continue;
    }
    if (!list()) {
      if (!sleep_for(next_backoff())) return;
      continue;
    }
    bool relist = false;
    while (!stopping_ && !relist) {
      switch (watch()) {
        case WatchEnd::kStopped:
          return;
        case WatchEnd::kTimeout:
          break;  // the server ended the watch as asked; resume at once
        case WatchEnd::kExpired:
          stats_.relists.fetch_add(1, std::memory_order_relaxed);
          log(LogLevel::kInfo, "watch expired (410 Gone): relisting", resource_version_);
          relist = true;
          break;
        case WatchEnd::kFailed:
          stats_.watch_restarts.fetch_add(1, std::memory_order_relaxed);
          if (!sleep_for(next_backoff())) return;
          break;
      }
    }
  }
}

bool Reflector::discover() {
  auto version = discover_version(client_, kind_, parser_);
  if (!version) {
    log(LogLevel::kWarn, "discovery failed", version.error());
    return false;
  }
  if (!version->empty() && version_ != *version) log(LogLevel::kInfo, "kind served", *version);
  version_ = std::move(version).value();
  return true;
}

std::string Reflector::api_version() const {
  return kind_.group.empty() ? version_ : std::string(kind_.group) + "/" + version_;
}

bool Reflector::list() {
  if (store_.snapshot()->state(kind_.kind) != KindState::kSynced) store_.set_state(kind_.kind, KindState::kSyncing);
  auto listed = list_kind(client_, kind_, version_, options_.page_size, parser_, &stopping_);
  if (stopping_) return false;
  if (!listed) {
    log(LogLevel::kWarn, "list failed", listed.error());
    return false;
  }
  // The parser grew to the largest page; watch events are small. Give the
  // buffers back rather than hold a few MB per watched kind.
  if (parser_.capacity() > (1u << 20)) parser_ = simdjson::dom::parser{};
  const std::size_t count = listed->objects.size();
  store_.replace(kind_.kind, std::move(listed->objects));
  resource_version_ = listed->resource_version;
  backoff_ = std::chrono::milliseconds(0);
  stats_.last_event_unix_ms.store(now_unix_ms(), std::memory_order_relaxed);
  if (reported_state_ != KindState::kSynced) {
    log(LogLevel::kInfo, "kind synced", std::to_string(count) + " objects at resourceVersion " + resource_version_);
    reported_state_ = KindState::kSynced;
  }
  return true;
}

Reflector::WatchEnd Reflector::watch() {
  const std::string path = collection_path() + "?watch=1&allowWatchBookmarks=true&resourceVersion=" +
                           url_escape(resource_version_) +
                           "&timeoutSeconds=" + std::to_string(options_.watch_timeout.count());
  std::string pending;
  WatchEnd end = WatchEnd::kTimeout;
  bool malformed = false;
  std::string error_body;
  auto status = client_.stream(
      path, options_.watch_idle_timeout,
      [&](std::string_view chunk) {
        pending.append(chunk);
        std::size_t start = 0;
        for (std::size_t nl = pending.find('\n', start); nl != std::string::npos; nl = pending.find('\n', start)) {
          const std::string_view line(pending.data() + start, nl - start);
          start = nl + 1;
          if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
          if (!apply_event(line, end)) {
            malformed = true;
            return false;
          }
          if (end == WatchEnd::kExpired) return false;
        }
        pending.erase(0, start);
        return !stopping_;
      },
      &error_body);
  if (stopping_) return WatchEnd::kStopped;
  if (malformed) return WatchEnd::kFailed;
  if (end == WatchEnd::kExpired) return end;
  if (!status) {
    log(LogLevel::kWarn, "watch broke", status.error());
    return WatchEnd::kFailed;
  }
  if (*status == 410) return WatchEnd::kExpired;
  if (*status != 200) {
    log(LogLevel::kWarn, "watch refused", "HTTP " + std::to_string(*status) + ": " + error_body.substr(0, 200));
    return WatchEnd::kFailed;
  }
  if (!pending.empty() && pending.find_first_not_of(" \r\n\t") != std::string::npos) {
    // The stream ended inside an event: the connection was cut.
    log(LogLevel::kWarn, "watch cut mid-event");
    return WatchEnd::kFailed;
  }
  backoff_ = std::chrono::milliseconds(0);
  return WatchEnd::kTimeout;
}

bool Reflector::apply_event(std::string_view line, WatchEnd& end) {
  using Result = WatchEventOutcome::Result;
  const WatchEventOutcome event = apply_watch_event(parser_, line, kind_, api_version(), store_);
  switch (event.result) {
    case Result::kMalformed:
      stats_.malformed_events.fetch_add(1, std::memory_order_relaxed);
      log(LogLevel::kWarn, "malformed watch event: restarting the watch", line.substr(0, 200));
      return false;
    case Result::kUnknownType:
      stats_.malformed_events.fetch_add(1, std::memory_order_relaxed);
      log(LogLevel::kWarn, "unknown watch event type: restarting the watch", event.detail);
      return false;
    default:
      break;
  }
  stats_.events.fetch_add(1, std::memory_order_relaxed);
  stats_.last_event_unix_ms.store(now_unix_ms(), std::memory_order_relaxed);
  switch (event.result) {
    case Result::kExpired:
      end = WatchEnd::kExpired;
      return true;
    case Result::kError:
      log(LogLevel::kWarn, "watch error event: restarting the watch", event.detail);
      return false;
    case Result::kApplied:
      backoff_ = std::chrono::milliseconds(0);
      break;
    default:
      break;
  }
  if (!event.resource_version.empty()) resource_version_ = event.resource_version;
  return true;
}

}  // namespace wirecheck::cluster
