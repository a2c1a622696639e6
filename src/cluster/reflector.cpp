#include "cluster/reflector.hpp"

#include <random>

#include "core/decode_dom.hpp"

namespace wirecheck::cluster {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;

constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view string_at(element e, std::string_view key) {
  std::string_view s;
  return e[key].get_string().get(s) == SUCCESS ? s : std::string_view();
}

// Whether the object is run by a controller whose own object is cached
// (a Deployment's ReplicaSets, a CronJob's Jobs, every controller's Pods):
// its template is already checked there, and caching it would multiply memory.
bool controlled_by_cached_workload(element item) {
  simdjson::dom::array owners;
  if (item["metadata"]["ownerReferences"].get_array().get(owners) != SUCCESS) return false;
  for (element owner : owners) {
    bool controller = false;
    if (owner["controller"].get_bool().get(controller) != SUCCESS || !controller) continue;
    const std::string_view api_version = string_at(owner, "apiVersion");
    const std::string_view group = api_version.substr(0, api_version.find('/') == std::string_view::npos
                                                             ? 0
                                                             : api_version.find('/'));
    if (core::is_workload(core::kind_from(group, string_at(owner, "kind")))) return true;
  }
  return false;
}

std::string url_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void shrink(core::Container& c) {
  c.command.shrink_to_fit();
  c.args.shrink_to_fit();
  c.env.shrink_to_fit();
  c.ports.shrink_to_fit();
}

// Cached objects are only ever context for rules (the object under review
// comes from the review itself), so what no rule reads of a context object is
// dropped: annotations, except on the kinds whose CA-injection annotations
// rules look up (webhook configurations, CRDs, APIServices), and never the
// last-applied copy of the whole object. Vectors lose their growth slack.
void compact(core::Object& object) {
  auto& annotations = object.meta.annotations;
  const bool keeps_annotations = object.kind == core::Kind::kValidatingWebhookConfiguration ||
                                 object.kind == core::Kind::kMutatingWebhookConfiguration ||
                                 object.kind == core::Kind::kCustomResourceDefinition ||
                                 object.kind == core::Kind::kAPIService;
  if (keeps_annotations) {
    annotations.erase(std::remove_if(annotations.begin(), annotations.end(),
                                     [](const auto& kv) { return kv.first == kLastApplied; }),
                      annotations.end());
  } else {
    annotations.clear();
  }
  annotations.shrink_to_fit();
  object.meta.labels.shrink_to_fit();
  if (auto* t = std::get_if<core::PodTemplate>(&object.spec)) {
    t->labels.shrink_to_fit();
    for (auto* list : {&t->containers, &t->init_containers}) {
      list->shrink_to_fit();
      for (core::Container& c : *list) shrink(c);
    }
  }
}

}  // namespace

ObjectPtr cache_object(element item, core::Kind kind, std::string_view api_version) {
  if (controlled_by_cached_workload(item)) return nullptr;
  core::Object object = core::decode_list_item(item, api_version, core::kind_name(kind));
  if (object.kind != kind) return nullptr;
  compact(object);
  return std::make_shared<const core::Object>(std::move(object));
}

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
  for (std::string_view version : kind_.versions) {
    auto res = client_.get(group_version_path(kind_.group, version));
    if (!res) {
      log(LogLevel::kWarn, "discovery failed", res.error());
      return false;
    }
    if (res->status == 404) continue;
    if (res->status != 200) {
      log(LogLevel::kWarn, "discovery failed", "HTTP " + std::to_string(res->status));
      return false;
    }
    element doc;
    simdjson::dom::array resources;
    if (parser_.parse(res->body).get(doc) != SUCCESS || doc["resources"].get_array().get(resources) != SUCCESS) {
      log(LogLevel::kWarn, "discovery answer is not an APIResourceList");
      return false;
    }
    for (element r : resources) {
      if (string_at(r, "name") == kind_.resource) {
        if (version_ != version) {
          log(LogLevel::kInfo, "kind served", version);
        }
        version_ = std::string(version);
        return true;
      }
    }
  }
  version_.clear();
  return true;
}

ObjectPtr Reflector::to_object(element item) const {
  return cache_object(item, kind_.kind, kind_.group.empty() ? version_ : std::string(kind_.group) + "/" + version_);
}

bool Reflector::list() {
  if (store_.snapshot()->state(kind_.kind) != KindState::kSynced) store_.set_state(kind_.kind, KindState::kSyncing);
  std::vector<ObjectPtr> objects;
  std::string cont;
  std::string rv;
  do {
    std::string path = collection_path() + "?limit=" + std::to_string(options_.page_size);
    if (!cont.empty()) path += "&continue=" + url_escape(cont);
    auto res = client_.get(path);
    if (stopping_) return false;
    if (!res) {
      log(LogLevel::kWarn, "list failed", res.error());
      return false;
    }
    if (res->status == 410 && !cont.empty()) {
      // The continue token expired between pages: start the list again.
      log(LogLevel::kInfo, "list continue token expired: listing again");
      objects.clear();
      cont.clear();
      continue;
    }
    if (res->status != 200) {
      log(LogLevel::kWarn, "list failed", "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 200));
      return false;
    }
    element doc;
    simdjson::dom::array items;
    if (parser_.parse(res->body).get(doc) != SUCCESS || !doc.is_object()) {
      log(LogLevel::kWarn, "list answer is not JSON");
      return false;
    }
    rv = std::string(string_at(doc["metadata"], "resourceVersion"));
    cont = std::string(string_at(doc["metadata"], "continue"));
    if (doc["items"].get_array().get(items) == SUCCESS) {
      for (element item : items) {
        if (ObjectPtr o = to_object(item)) objects.push_back(std::move(o));
      }
    }
  } while (!cont.empty() && !stopping_);
  if (stopping_) return false;
  // The parser grew to the largest page; watch events are small. Give the
  // buffers back rather than hold a few MB per watched kind.
  if (parser_.capacity() > (1u << 20)) parser_ = simdjson::dom::parser{};
  const std::size_t count = objects.size();
  store_.replace(kind_.kind, std::move(objects));
  resource_version_ = rv;
  backoff_ = std::chrono::milliseconds(0);
  stats_.last_event_unix_ms.store(now_unix_ms(), std::memory_order_relaxed);
  if (reported_state_ != KindState::kSynced) {
    log(LogLevel::kInfo, "kind synced", std::to_string(count) + " objects at resourceVersion " + rv);
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
  element event;
  element object;
  std::string_view type;
  if (parser_.parse(line.data(), line.size()).get(event) != SUCCESS ||
      event["type"].get_string().get(type) != SUCCESS || event["object"].get(object) != SUCCESS ||
      !object.is_object()) {
    stats_.malformed_events.fetch_add(1, std::memory_order_relaxed);
    log(LogLevel::kWarn, "malformed watch event: restarting the watch", line.substr(0, 200));
    return false;
  }
  stats_.events.fetch_add(1, std::memory_order_relaxed);
  stats_.last_event_unix_ms.store(now_unix_ms(), std::memory_order_relaxed);
  if (type == "ERROR") {
    std::int64_t code = 0;
    if (object["code"].get_int64().get(code) == SUCCESS && code == 410) {
      end = WatchEnd::kExpired;
      return true;
    }
    log(LogLevel::kWarn, "watch error event: restarting the watch", string_at(object, "message"));
    return false;
  }
  const std::string_view rv = string_at(object["metadata"], "resourceVersion");
  if (type == "BOOKMARK") {
    if (!rv.empty()) resource_version_ = std::string(rv);
    return true;
  }
  if (type == "ADDED" || type == "MODIFIED") {
    if (ObjectPtr o = to_object(object)) {
      store_.upsert(std::move(o));
    } else {
      store_.erase(kind_.kind, string_at(object["metadata"], "namespace"), string_at(object["metadata"], "name"));
    }
  } else if (type == "DELETED") {
    store_.erase(kind_.kind, string_at(object["metadata"], "namespace"), string_at(object["metadata"], "name"));
  } else {
    stats_.malformed_events.fetch_add(1, std::memory_order_relaxed);
    log(LogLevel::kWarn, "unknown watch event type: restarting the watch", type);
    return false;
  }
  if (!rv.empty()) resource_version_ = std::string(rv);
  backoff_ = std::chrono::milliseconds(0);
  return true;
}

}  // namespace wirecheck::cluster
