// The list/watch client against the in-process fake API server, for the
// faults a real one cannot produce on demand. Timings are bounded waits for
// an outcome, never assertions on speed.
#include <catch2/catch.hpp>

#include "cluster/cluster_cache.hpp"
#include "server/cluster_metrics.hpp"
#include "fake_apiserver.hpp"

using namespace wirecheck;
using namespace wirecheck::clustertest;
using core::Kind;
using servertest::eventually;
using servertest::TempDir;

namespace {

constexpr const char* kServices = "/api/v1/services";

cluster::ClusterCacheOptions fast_options(std::vector<Kind> kinds) {
  cluster::ClusterCacheOptions o;
  o.kinds = std::move(kinds);
  o.reflector.page_size = 2;
  o.reflector.backoff_min = std::chrono::milliseconds(20);
  o.reflector.backoff_max = std::chrono::milliseconds(100);
  o.reflector.rediscover_interval = std::chrono::milliseconds(200);
  o.reflector.watch_idle_timeout = std::chrono::milliseconds(3000);
  o.reflector.client.read_timeout = std::chrono::milliseconds(500);
  return o;
}

// A cache of Services over a fake serving /api/v1 services.
struct ServiceCache {
  TempDir dir;
  FakeApiServer api{dir};
  std::vector<std::string> logs;
  std::mutex log_mutex;
  std::unique_ptr<cluster::ClusterCache> cache;

  explicit ServiceCache(std::vector<json> items = {}, const std::string& rv = "10") {
    api.serve("/api/v1", {"services", "pods"});
    api.set_items(kServices, std::move(items), rv);
  }
  void start(cluster::KubeConfig cfg, std::vector<Kind> kinds = {Kind::kService}) {
    cache = std::make_unique<cluster::ClusterCache>(
        std::move(cfg), fast_options(std::move(kinds)),
        [this](cluster::LogLevel, std::string_view msg, Kind, std::string_view detail) {
          std::lock_guard<std::mutex> lock(log_mutex);
          logs.push_back(std::string(msg) + ": " + std::string(detail));
        });
    cache->start();
  }
  void start() { start(api.config()); }
  bool synced() { return cache->snapshot()->knows(Kind::kService); }
  const core::Object* find(const std::string& ns, const std::string& name) {
    snap = cache->snapshot();
    return snap->find(Kind::kService, ns, name);
  }
  bool has(const std::string& ns, const std::string& name) {
    return eventually([&] { return find(ns, name) != nullptr; }, std::chrono::milliseconds(3000));
  }
  bool gone(const std::string& ns, const std::string& name) {
    return eventually([&] { return find(ns, name) == nullptr; }, std::chrono::milliseconds(3000));
  }
  std::string metrics() {
    std::string out;
    server::render_cluster_metrics(*cache, out);
    return out;
  }
  std::shared_ptr<const cluster::Snapshot> snap;
};

}  // namespace

TEST_CASE("reflector: a paginated LIST is stored whole, then the kind is known", "[cluster][reflector]") {
  std::vector<json> items;
  for (int i = 0; i < 5; ++i) items.push_back(service_item("ns" + std::to_string(i % 2), "svc" + std::to_string(i), "https"));
  ServiceCache c(items);
  c.start();
  REQUIRE(eventually([&] { return c.synced(); }));
  const auto snap = c.cache->snapshot();
  CHECK(snap->count(Kind::kService) == 5);
  CHECK(snap->list(Kind::kService, "ns0").size() == 3);
  CHECK(snap->list_all(Kind::kService).size() == 5);
  const core::Object* svc = snap->find(Kind::kService, "ns1", "svc3");
  REQUIRE(svc != nullptr);
  REQUIRE(svc->service() != nullptr);
  CHECK(svc->service()->ports.at(0).target_port.str == "https");
  CHECK_FALSE(snap->complete());
  // limit=2 over 5 items: three pages, the later ones with the continue token.
  const auto lists = c.api.requests_for(kServices + std::string("?continue"));
  CHECK(lists.size() == 2);
  CHECK(c.cache->not_ready().empty());
}

TEST_CASE("reflector: watch events are applied, the watch starts at the list's resourceVersion", "[cluster][reflector]") {
  ServiceCache c(std::vector<json>{service_item("a", "one", "https")}, "42");
  c.start();
  REQUIRE(eventually([&] { return c.synced(); }));
  REQUIRE(eventually([&] { return !c.api.requests_for(std::string(kServices) + "?allowWatchBookmarks=true").empty(); }));
  const auto watch = c.api.requests_for(std::string(kServices) + "?allowWatchBookmarks=true").front();
  CHECK(watch.find("resourceVersion=42") != std::string::npos);
  CHECK(watch.find("watch=1") != std::string::npos);

  c.api.send_event(kServices, "ADDED", service_item("a", "two", "metrics", "43"));
  CHECK(c.has("a", "two"));
  c.api.send_event(kServices, "MODIFIED", service_item("a", "two", "web", "44"));
  CHECK(eventually([&] {
    const core::Object* o = c.find("a", "two");
    return o != nullptr && o->service()->ports[0].target_port.str == "web";
  }));
  c.api.send_event(kServices, "DELETED", service_item("a", "one", "https", "45"));
  CHECK(c.gone("a", "one"));
  c.api.send(kServices, R"({"type":"BOOKMARK","object":{"kind":"Service","metadata":{"resourceVersion":"50"}}})");
  // A bookmark moves the resume point: the next watch starts from it.
  c.api.drop_watches(kServices);
  CHECK(eventually([&] {
    for (const auto& r : c.api.requests_for(std::string(kServices) + "?allowWatchBookmarks=true")) {
      if (r.find("resourceVersion=50") != std::string::npos) return true;
    }
    return false;
  }));
}

TEST_CASE("reflector: a watch dropped mid-stream resumes from the last resourceVersion, no relist",
          "[cluster][reflector]") {
  ServiceCache c(std::vector<json>{service_item("a", "one", "https")}, "7");
  c.start();
  REQUIRE(eventually([&] { return c.synced(); }));
  c.api.send_event(kServices, "ADDED", service_item("a", "two", "https", "8"));
  REQUIRE(c.has("a", "two"));
  const auto lists_before = c.api.requests_for(std::string(kServices) + "?limit").size();
  c.api.send(kServices, R"({"type":"ADDED","object":{"metadata":{"name":"half)");  // cut inside an event
  c.api.drop_watches(kServices);
  CHECK(eventually([&] {
    for (const auto& r : c.api.requests_for(std::string(kServices) + "?allowWatchBookmarks=true")) {
      if (r.find("resourceVersion=8") != std::string::npos) return true;
    }
    return false;
  }));
  c.api.send_event(kServices, "ADDED", service_item("a", "three", "https", "9"));
  CHECK(c.has("a", "three"));
  CHECK(c.api.requests_for(std::string(kServices) + "?limit").size() == lists_before);
  CHECK(c.metrics().find("wirecheck_cluster_watch_restarts_total{kind=\"Service\"} 0") == std::string::npos);
}

TEST_CASE("reflector: 410 Gone relists (as an ERROR event and as the watch's status)", "[cluster][reflector]") {
  ServiceCache c(std::vector<json>{service_item("a", "one", "https")}, "5");
  c.start();
  REQUIRE(eventually([&] { return c.synced(); }));
  REQUIRE(eventually([&] { return !c.api.requests_for(std::string(kServices) + "?allowWatchBookmarks=true").empty(); }));

  // While the watch was away, "one" was deleted and "fresh" created.
  c.api.set_items(kServices, {service_item("a", "fresh", "https", "20")}, "20");
  SECTION("ERROR event with code 410") {
    c.api.send(kServices, R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})");
  }
  SECTION("watch answered 410") {
    c.api.fail_next_watch(kServices, 410);
    c.api.drop_watches(kServices);
  }
  CHECK(c.has("a", "fresh"));
  CHECK(c.gone("a", "one"));
  CHECK(eventually([&] { return c.metrics().find("wirecheck_cluster_relists_total{kind=\"Service\"} 1") != std::string::npos; }));
}

TEST_CASE("reflector: a malformed event restarts the watch and is counted, the cache stays usable",
          "[cluster][reflector]") {
  ServiceCache c(std::vector<json>{service_item("a", "one", "https")}, "5");
  c.start();
  REQUIRE(eventually([&] { return c.synced(); }));
  c.api.send(kServices, "this is not json");
  CHECK(eventually([&] { return c.metrics().find("wirecheck_cluster_malformed_events_total{kind=\"Service\"} 1") != std::string::npos; }));
  CHECK(eventually([&] { return c.metrics().find("wirecheck_cluster_watch_restarts_total{kind=\"Service\"} 1") != std::string::npos; }));
  c.api.send(kServices, R"({"type":"ADDED","object":"not an object"})");
  c.api.send_event(kServices, "ADDED", service_item("a", "after", "https", "6"));
  CHECK(c.has("a", "after"));
  CHECK(c.find("a", "one") != nullptr);
}

TEST_CASE("reflector: an event whose object has no metadata restarts the watch (it used to end the process)",
          "[cluster][reflector]") {
  ServiceCache c(std::vector<json>{service_item("a", "one", "https")}, "5");
  c.start();
  REQUIRE(eventually([&] { return c.synced(); }));
  c.api.send(kServices, R"({"type":"DELETED","object":{"kind":"Service"}})");
  CHECK(eventually([&] { return c.metrics().find("wirecheck_cluster_malformed_events_total{kind=\"Service\"} 1") != std::string::npos; }));
  c.api.send_event(kServices, "ADDED", service_item("a", "after", "https", "6"));
  CHECK(c.has("a", "after"));
  CHECK(c.find("a", "one") != nullptr);
}

TEST_CASE("reflector: a slow LIST times out and is retried, readiness waits for it", "[cluster][reflector]") {
  ServiceCache c(std::vector<json>{service_item("a", "one", "https")});
  c.api.set_list_delay(std::chrono::milliseconds(1500));  // read timeout is 500 ms
  c.start();
  CHECK(eventually([&] { return c.api.requests_for(std::string(kServices) + "?limit").size() >= 2; }));
  CHECK_FALSE(c.synced());
  CHECK(c.cache->not_ready().find("Service") != std::string::npos);
  c.api.set_list_delay(std::chrono::milliseconds(0));
  CHECK(eventually([&] { return c.synced(); }, std::chrono::milliseconds(5000)));
  CHECK(c.cache->not_ready().empty());
}

TEST_CASE("reflector: the bearer token is read again for each request (rotation)", "[cluster][reflector]") {
  ServiceCache c(std::vector<json>{service_item("a", "one", "https")});
  // As the kubelet does: the new token file replaces the old one atomically.
  const auto write_token = [&](const std::string& token) {
    servertest::write_text(c.dir.file("token.new"), token + "\n");
    std::filesystem::rename(c.dir.file("token.new"), c.dir.file("token"));
  };
  write_token("token-1");
  c.api.accept_tokens({"token-1"});
  auto cfg = c.api.config();
  cfg.token_file = c.dir.file("token");
  c.start(cfg);
  REQUIRE(eventually([&] { return c.synced(); }));
  CHECK(c.api.unauthorized() == 0);
  // Rotation: the new token is written, then the old one stops working and
  // the connection is cut. Only a client that reads the file again gets back in.
  c.api.accept_tokens({"token-1", "token-2"});
  write_token("token-2");
  c.api.accept_tokens({"token-2"});
  c.api.drop_watches(kServices);
  c.api.send_event(kServices, "ADDED", service_item("a", "two", "https", "11"));
  CHECK(c.has("a", "two"));
}

TEST_CASE("reflector: a server that fails TLS verification is never trusted", "[cluster][reflector]") {
  ServiceCache c(std::vector<json>{service_item("a", "one", "https")});
  TempDir other;
  auto cfg = c.api.config();
  cfg.ca_file.clear();
  cfg.ca_pem = servertest::TestCert::ca("some other CA")->pem().cert;
  c.start(cfg);
  CHECK(eventually([&] {
    std::lock_guard<std::mutex> lock(c.log_mutex);
    for (const auto& l : c.logs) {
      if (l.find("discovery failed") != std::string::npos) return true;
    }
    return false;
  }));
  CHECK(c.api.requests().empty());
  CHECK_FALSE(c.synced());
}

TEST_CASE("reflector: a kind the API server does not serve is reported, not waited for", "[cluster][reflector]") {
  ServiceCache c(std::vector<json>{service_item("a", "one", "https")});
  c.start(c.api.config(), {Kind::kService, Kind::kServiceMonitor});
  REQUIRE(eventually([&] { return c.cache->not_ready().empty(); }));
  const auto snap = c.cache->snapshot();
  CHECK(snap->knows(Kind::kService));
  CHECK_FALSE(snap->knows(Kind::kServiceMonitor));
  CHECK(snap->unknown_reason(Kind::kServiceMonitor) == "api_not_served");
  const std::string m = c.metrics();
  CHECK(m.find("wirecheck_cluster_api_not_served{kind=\"ServiceMonitor\"} 1") != std::string::npos);
  CHECK(m.find("wirecheck_cluster_sync_state{kind=\"Service\",state=\"synced\"} 1") != std::string::npos);
  CHECK(m.find("wirecheck_cluster_objects{kind=\"Service\"} 1") != std::string::npos);
  // Reported once, although discovery is repeated.
  REQUIRE(eventually([&] { return c.api.requests_for("/apis/monitoring.coreos.com/v1").size() >= 3; }));
  std::lock_guard<std::mutex> lock(c.log_mutex);
  CHECK(std::count_if(c.logs.begin(), c.logs.end(),
                      [](const std::string& l) { return l.find("kind not served") != std::string::npos; }) == 1);
}

TEST_CASE("reflector: Pods run by a cached controller are not stored, bare Pods are, annotations are trimmed",
          "[cluster][reflector]") {
  ServiceCache c;
  json owned = {{"metadata", {{"name", "web-abc"}, {"namespace", "a"},
                              {"ownerReferences", {{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"},
                                                    {"name", "web"}, {"controller", true}}}}}},
                {"spec", {{"containers", json::array()}}}};
  json bare = {{"metadata", {{"name", "debug"}, {"namespace", "a"},
                             {"annotations", {{"kubectl.kubernetes.io/last-applied-configuration", std::string(4000, 'x')},
                                              {"team", "x"}}}}},
               {"spec", {{"containers", {{{"name", "c"}, {"ports", {{{"name", "http"}, {"containerPort", 80}}}}}}}}}};
  c.api.set_items("/api/v1/pods", {owned, bare}, "3");
  c.start(c.api.config(), {Kind::kPod});
  REQUIRE(eventually([&] { return c.cache->snapshot()->knows(Kind::kPod); }));
  const auto snap = c.cache->snapshot();
  CHECK(snap->find(Kind::kPod, "a", "web-abc") == nullptr);
  const core::Object* pod = snap->find(Kind::kPod, "a", "debug");
  REQUIRE(pod != nullptr);
  CHECK(pod->kind == Kind::kPod);
  CHECK(pod->ref.api_version == "v1");
  CHECK(pod->pod_template()->containers.at(0).port_named("http") != nullptr);
  // Context objects keep no annotations (no rule reads them there)...
  CHECK(pod->meta.annotations.empty());
  CHECK(pod->meta.labels.empty());
}

TEST_CASE("cache_object: webhook configurations keep their CA-injection annotation, never last-applied",
          "[cluster][reflector]") {
  const json item = {{"metadata", {{"name", "hooks"},
                                   {"annotations", {{"cert-manager.io/inject-ca-from", "ops/hooks-cert"},
                                                    {"kubectl.kubernetes.io/last-applied-configuration", "{...}"}}}}},
                     {"webhooks", json::array()}};
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE(parser.parse(item.dump()).get(e) == simdjson::SUCCESS);
  const auto o = cluster::cache_object(e, Kind::kValidatingWebhookConfiguration, "admissionregistration.k8s.io/v1");
  REQUIRE(o != nullptr);
  CHECK(o->kind == Kind::kValidatingWebhookConfiguration);
  CHECK(o->annotation("cert-manager.io/inject-ca-from") != nullptr);
  CHECK(o->annotation("kubectl.kubernetes.io/last-applied-configuration") == nullptr);
}

TEST_CASE("cache_object: a container keeps env only when its command line references a variable",
          "[cluster][reflector]") {
  const auto container = [](const std::string& name, json args) {
    return json{{"name", name},
                {"args", std::move(args)},
                {"env", {{{"name", "HOST"}, {"value", "127.0.0.1"}}, {{"name", "LOG_LEVEL"}, {"value", "debug"}}}}};
  };
  const json item = {
      {"metadata", {{"name", "web"}, {"namespace", "a"}}},
      {"spec", {{"template", {{"spec", {{"containers", {container("plain", {"--port=8080"}),
                                                        container("expands", {"--bind-address=$(HOST):8443"})}}}}}}}}};
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  REQUIRE(parser.parse(item.dump()).get(e) == simdjson::SUCCESS);
  const auto o = cluster::cache_object(e, Kind::kDeployment, "apps/v1");
  REQUIRE(o != nullptr);
  const auto& containers = o->pod_template()->containers;
  REQUIRE(containers.size() == 2);
  // Nothing but `$(VAR)` expansion reads env: without a reference it is dropped...
  CHECK(containers[0].env.empty());
  CHECK(containers[0].env.capacity() == 0);
  // ...with one, all of it stays (later entries may be what the reference needs).
  CHECK(containers[1].env.size() == 2);
}
