// A small in-process stand-in for kube-apiserver, for the faults a real one
// cannot be made to produce on demand: a watch dropped mid-stream, `410
// Gone`, malformed events, slow answers, a token that rotates, tiny pages.
// Everything a real API server does on its own (the e2e tier) is not here.
//
// It serves HTTPS on 127.0.0.1:<any> with a test CA, discovery documents for
// the resources it is given, paginated LISTs of JSON items and WATCH streams
// fed by the test line by line.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../server/server_fixture.hpp"
#include "cluster/kube_config.hpp"

namespace wirecheck::clustertest {

using nlohmann::json;
using servertest::TempDir;
using servertest::TestCert;

class FakeApiServer {
 public:
  explicit FakeApiServer(const TempDir& dir) : ca_(TestCert::ca("fake apiserver CA")) {
    ca_file_ = ca_->write(dir.path(), "apiserver-ca");
    ca_->issue("fake apiserver", 2, "IP:127.0.0.1")->write(dir.path(), "apiserver");
    server_ = std::make_unique<httplib::SSLServer>(dir.file("apiserver.crt").c_str(),
                                                   dir.file("apiserver.key").c_str());
    REQUIRE(server_->is_valid());
    // Every reflector holds a watch open: more threads than httplib's default.
    server_->new_task_queue = [] { return new httplib::ThreadPool(64); };
    server_->Get(".*", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    port_ = server_->bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    REQUIRE(servertest::eventually([this] { return server_->is_running(); }));
  }
  ~FakeApiServer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  cluster::KubeConfig config() const {
    cluster::KubeConfig cfg;
    REQUIRE(cluster::parse_server("https://127.0.0.1:" + std::to_string(port_), cfg).ok());
    cfg.ca_file = ca_file_;
    return cfg;
  }
  int port() const { return port_; }
  const std::string& ca_file() const { return ca_file_; }

  // Discovery: `group_version_path` ("/api/v1", "/apis/apps/v1") serves `resources`.
  void serve(const std::string& group_version_path, std::vector<std::string> resources) {
    std::lock_guard<std::mutex> lock(mutex_);
    discovery_[group_version_path] = std::move(resources);
  }
  // The items a LIST of `collection` ("/api/v1/services") returns, at `rv`.
  void set_items(const std::string& collection, std::vector<json> items, const std::string& rv) {
    std::lock_guard<std::mutex> lock(mutex_);
    collections_[collection].items = std::move(items);
    collections_[collection].rv = rv;
  }
  // One event line for watches of `collection`; "\n" is added. Like the API
  // server's watch cache, a line whose object has a resourceVersion is
  // delivered to every watch that starts below it (a resumed watch gets what
  // it missed); a line without one (malformed) is delivered once.
  void send(const std::string& collection, const std::string& line) {
    long rv = 0;
    const json parsed = json::parse(line, nullptr, false);
    if (parsed.is_object() && parsed.contains("object") && parsed["object"].is_object()) {
      const json& meta = parsed["object"].value("metadata", json::object());
      if (meta.is_object() && meta.contains("resourceVersion")) rv = std::stol(meta["resourceVersion"].get<std::string>());
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      collections_[collection].lines.push_back({line + "\n", rv, false});
    }
    cv_.notify_all();
  }
  void send_event(const std::string& collection, const std::string& type, const json& object) {
    send(collection, json{{"type", type}, {"object", object}}.dump());
  }
  // Cuts open watches of `collection` mid-stream (no final chunk).
  void drop_watches(const std::string& collection) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++collections_[collection].drops;
    }
    cv_.notify_all();
  }
  // The next watch request of `collection` is answered with this status.
  void fail_next_watch(const std::string& collection, int status) {
    std::lock_guard<std::mutex> lock(mutex_);
    collections_[collection].next_watch_status = status;
  }
  // LIST answers wait this long before the first byte.
  void set_list_delay(std::chrono::milliseconds d) {
    std::lock_guard<std::mutex> lock(mutex_);
    list_delay_ = d;
  }
  // Requests need "Authorization: Bearer <one of tokens>" (none = anything goes).
  void accept_tokens(std::set<std::string> tokens) {
    std::lock_guard<std::mutex> lock(mutex_);
    tokens_ = std::move(tokens);
  }
  // Holds LIST answers until released (readiness tests).
  void hold_lists(bool hold) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      hold_lists_ = hold;
    }
    cv_.notify_all();
  }

  // Paths (with query) of requests received so far, in order.
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::vector<std::string> requests_for(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& r : requests()) {
      if (r.rfind(prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }
  int unauthorized() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return unauthorized_;
  }

 private:
  struct Collection {
    std::vector<json> items;
    std::string rv = "1";
    struct Line {
      std::string text;
      long rv;
      bool delivered;
    };
    std::vector<Line> lines;
    int drops = 0;
    int next_watch_status = 0;
    int watch_seq = 0;  // the newest watch gets the lines; older ones end
  };

  static std::string with_query(const httplib::Request& req) {
    std::string out = req.path;
    char sep = '?';
    for (const auto& [k, v] : req.params) {
      out += sep;
      out += k + "=" + v;
      sep = '&';
    }
    return out;
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(mutex_);
    requests_.push_back(with_query(req));
    const std::string auth = req.get_header_value("Authorization");
    if (!tokens_.empty() && (auth.rfind("Bearer ", 0) != 0 || tokens_.count(auth.substr(7)) == 0)) {
      ++unauthorized_;
      res.status = 401;
      res.set_content(R"({"kind":"Status","code":401,"reason":"Unauthorized"})", "application/json");
      return;
    }
    if (const auto it = discovery_.find(req.path); it != discovery_.end()) {
      json resources = json::array();
      for (const auto& r : it->second) resources.push_back({{"name", r}, {"namespaced", true}});
      res.set_content(json{{"kind", "APIResourceList"}, {"resources", resources}}.dump(), "application/json");
      return;
    }
    const auto it = collections_.find(req.path);
    if (it == collections_.end()) {
      res.status = 404;
      res.set_content(R"({"kind":"Status","code":404,"reason":"NotFound"})", "application/json");
      return;
    }
    if (req.has_param("watch")) return watch(req, res, it->first, lock);
    const auto delay = list_delay_;
    cv_.wait(lock, [this] { return !hold_lists_ || stopping_; });
    lock.unlock();
    std::this_thread::sleep_for(delay);
    lock.lock();
    list(req, res, it->second);
  }

  static void list(const httplib::Request& req, httplib::Response& res, const Collection& c) {
    const std::size_t limit = req.has_param("limit") ? std::stoul(req.get_param_value("limit")) : 0;
    const std::size_t start = req.has_param("continue") ? std::stoul(req.get_param_value("continue")) : 0;
    const std::size_t end = limit == 0 ? c.items.size() : std::min(c.items.size(), start + limit);
    json items = json::array();
    for (std::size_t i = start; i < end; ++i) items.push_back(c.items[i]);
    json meta = {{"resourceVersion", c.rv}};
    if (end < c.items.size()) meta["continue"] = std::to_string(end);
    res.set_content(json{{"kind", "List"}, {"apiVersion", "v1"}, {"metadata", meta}, {"items", items}}.dump(),
                    "application/json");
  }

  void watch(const httplib::Request& req, httplib::Response& res, const std::string& path,
             std::unique_lock<std::mutex>& lock) {
    Collection& c = collections_[path];
    if (c.next_watch_status != 0) {
      res.status = c.next_watch_status;
      c.next_watch_status = 0;
      res.set_content(R"({"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"})",
                      "application/json");
      return;
    }
    const int drops_at_start = c.drops;
    const int id = ++c.watch_seq;
    const long from_rv = req.has_param("resourceVersion") ? std::stol(req.get_param_value("resourceVersion")) : 0;
    lock.unlock();
    auto cursor = std::make_shared<std::size_t>(0);
    res.set_chunked_content_provider("application/json", [this, path, drops_at_start, id, from_rv, cursor](
                                                             std::size_t, httplib::DataSink& sink) {
      std::unique_lock<std::mutex> l(mutex_);
      Collection& col = collections_[path];
      cv_.wait_for(l, std::chrono::milliseconds(50),
                   [&] { return stopping_ || *cursor < col.lines.size() || col.drops != drops_at_start; });
      if (stopping_) {
        sink.done();
        return true;
      }
      // Cut mid-stream, or superseded by a newer watch (the client gave this one up).
      if (col.drops != drops_at_start || col.watch_seq != id) return false;
      for (; *cursor < col.lines.size(); ++*cursor) {
        auto& line = col.lines[*cursor];
        if (line.rv > 0 ? line.rv <= from_rv : line.delivered) continue;
        line.delivered = true;
        if (!sink.write(line.text.data(), line.text.size())) return false;
      }
      return true;
    });
  }

  std::unique_ptr<TestCert> ca_;
  std::string ca_file_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool hold_lists_ = false;
  std::map<std::string, std::vector<std::string>> discovery_;
  std::map<std::string, Collection> collections_;
  std::vector<std::string> requests_;
  std::chrono::milliseconds list_delay_{0};
  std::set<std::string> tokens_;
  int unauthorized_ = 0;
};

// Minimal objects as the API server returns them in a LIST (no kind/apiVersion).
inline json service_item(const std::string& ns, const std::string& name, const std::string& target_port,
                         const std::string& rv = "1") {
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", rv}}},
          {"spec", {{"selector", {{"app", name}}}, {"ports", {{{"name", "metrics"}, {"port", 8443}, {"targetPort", target_port}}}}}}};
}

inline json deployment_item(const std::string& ns, const std::string& name, const std::string& port_name,
                            const std::string& rv = "1") {
  return {{"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", rv}}},
          {"spec",
           {{"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", {{{"name", "main"}, {"image", "x"}, {"ports", {{{"name", port_name}, {"containerPort", 8443}}}}}}}}}}}}}};
}

}  // namespace wirecheck::clustertest
