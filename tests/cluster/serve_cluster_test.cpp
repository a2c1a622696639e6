// `wirecheck serve --cluster` as operators run it, against the fake API
// server: /readyz waits for the first sync, decisions use the cache, the
// cache's metrics and the skipped-rule counter are exported, and the
// decision log names skipped rules.
#include <catch2/catch.hpp>

#include "../server/child_process.hpp"
#include "fake_apiserver.hpp"

using namespace wirecheck;
using namespace wirecheck::clustertest;
using servertest::Child;
using servertest::eventually;
using servertest::TempDir;

namespace {

json service_review(const std::string& operation, const json& object, const json& old_object = nullptr,
                    const std::string& name = "web-metrics") {
  return {{"apiVersion", "admission.k8s.io/v1"},
          {"kind", "AdmissionReview"},
          {"request",
           {{"uid", "0b1c2d3e-0000-4000-8000-00000000000" + std::to_string(operation.size())},
            {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Service"}}},
            {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "services"}}},
            {"name", name},
            {"namespace", "apps"},
            {"operation", operation},
            {"userInfo", {{"username", "test"}}},
            {"object", object},
            {"oldObject", old_object}}}};
}

// A Service as the API server sends it in a review, selecting Deployment apps/web.
json with_kind(json item) {
  item["apiVersion"] = "v1";
  item["kind"] = "Service";
  item["spec"]["selector"] = {{"app", "web"}};
  return item;
}

struct ServeCluster {
  TempDir dir;
  FakeApiServer api{dir};
  std::unique_ptr<Child> server;
  int port = 0;
  int ops_port = 0;

  ServeCluster() {
    api.serve("/api/v1", {"services", "pods"});
    api.serve("/apis/apps/v1", {"deployments", "statefulsets", "daemonsets", "replicasets"});
    api.serve("/apis/batch/v1", {"jobs", "cronjobs"});
    api.serve("/apis/admissionregistration.k8s.io/v1",
              {"validatingwebhookconfigurations", "mutatingwebhookconfigurations"});
    for (const char* c : {"/api/v1/services", "/api/v1/pods", "/apis/apps/v1/statefulsets",
                          "/apis/apps/v1/daemonsets", "/apis/apps/v1/replicasets", "/apis/batch/v1/jobs",
                          "/apis/batch/v1/cronjobs", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
                          "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"}) {
      api.set_items(c, {}, "1");
    }
    api.set_items("/apis/apps/v1/deployments", {deployment_item("apps", "web", "metrics")}, "1");
    servertest::write_text(dir.file("kubeconfig"),
                           "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
                           "clusters: [{name: fake, cluster: {server: 'https://127.0.0.1:" + std::to_string(api.port()) +
                               "', certificate-authority: apiserver-ca.crt}}]\n"
                               "users: [{name: u, user: {token: t}}]\n"
                               "contexts: [{name: fake, context: {cluster: fake, user: u}}]\n");
    auto ca = servertest::TestCert::ca("webhook CA");
    ca->write(dir.path(), "webhook-ca");
    ca->issue("webhook", 3, "IP:127.0.0.1")->write(dir.path(), "tls");
  }
  void start(const std::string& mode) {
    server = std::make_unique<Child>(
        std::vector<std::string>{WIRECHECK_BINARY, "serve", "--cluster", "--kubeconfig", dir.file("kubeconfig"),
                                 "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0", "--mode", mode,
                                 "--tls-cert-file", dir.file("tls.crt"), "--tls-private-key-file", dir.file("tls.key")},
        dir.file("server.log"));
    REQUIRE(server->wait_serving(port, ops_port));
  }
  httplib::Result ops_get(const std::string& path) {
    httplib::Client ops("127.0.0.1", ops_port);
    return ops.Get(path);
  }
  json review(const json& body) {
    server::HttpsClientOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    o.ca_file = dir.file("webhook-ca.crt");
    server::HttpsClient client(o);
    server::HttpResponse res;
    REQUIRE(client.post("/validate", body.dump(), res));
    REQUIRE(res.status == 200);
    return json::parse(res.body)["response"];
  }
};

}  // namespace

TEST_CASE("serve --cluster: /readyz waits for the first sync, decisions then see the cluster",
          "[cluster][serve]") {
  ServeCluster s;
  s.api.hold_lists(true);
  s.start("enforce");
  auto not_ready = s.ops_get("/readyz");
  REQUIRE(not_ready);
  CHECK(not_ready->status == 503);
  CHECK_THAT(not_ready->body, Catch::Contains("cluster cache not synced"));

  s.api.hold_lists(false);
  REQUIRE(eventually([&] {
    auto r = s.ops_get("/readyz");
    return r && r->status == 200;
  }, std::chrono::milliseconds(10000)));

  // Deployment apps/web declares port "metrics" only: a Service targeting
  // "https" is denied, naming the rule and the fix.
  const json denied = s.review(service_review("CREATE", with_kind(service_item("apps", "web-metrics", "https"))));
  INFO(denied.dump());
  CHECK(denied["allowed"] == false);
  CHECK_THAT(denied["status"]["message"].get<std::string>(), Catch::Contains("[service-target-port-missing]"));
  CHECK_THAT(denied["status"]["message"].get<std::string>(), Catch::Contains("Fix:"));
  CHECK(s.review(service_review("CREATE", with_kind(service_item("apps", "web-metrics", "metrics"))))["allowed"] == true);

  // Monitoring and APIService/CRD APIs are not served here: their rules are
  // skipped, counted and logged, never failed.
  s.api.send_event("/api/v1/services", "ADDED", service_item("apps", "web-metrics", "metrics", "2"));
  REQUIRE(eventually([&] {
    auto m = s.ops_get("/metrics");
    return m && m->body.find("wirecheck_cluster_objects{kind=\"Service\"} 1") != std::string::npos;
  }));
  const json del = s.review(service_review("DELETE", nullptr, with_kind(service_item("apps", "web-metrics", "metrics")), ""));
  CHECK(del["allowed"] == true);
  auto metrics = s.ops_get("/metrics");
  REQUIRE(metrics);
  INFO(metrics->body);
  CHECK_THAT(metrics->body, Catch::Contains("wirecheck_cluster_objects{kind=\"Deployment\"} 1"));
  CHECK_THAT(metrics->body, Catch::Contains("wirecheck_cluster_sync_state{kind=\"Deployment\",state=\"synced\"} 1"));
  CHECK_THAT(metrics->body, Catch::Contains("wirecheck_cluster_api_not_served{kind=\"ServiceMonitor\"} 1"));
  CHECK_THAT(metrics->body,
             Catch::Contains("wirecheck_rules_skipped_total{rule=\"service-delete-breaks-webhook\",reason=\"api_not_served\"} 1"));
  CHECK_THAT(metrics->body, Catch::Contains("wirecheck_cluster_last_event_age_seconds{kind=\"Service\"}"));
  // The collection delete carried no request.name: the log names the object
  // from oldObject, and lists the skipped rule.
  const std::string log = s.server->log();
  INFO(log);
  CHECK(eventually([&] {
    const std::string l = s.server->log();
    return l.find(R"("operation":"DELETE")") != std::string::npos;
  }));
  CHECK_THAT(s.server->log(), Catch::Contains(R"("name":"web-metrics","operation":"DELETE")"));
  CHECK_THAT(s.server->log(), Catch::Contains(R"("skipped":["service-delete-breaks-webhook"])"));
  CHECK_THAT(s.server->log(), Catch::Contains("kind not served by the API server"));
}

TEST_CASE("serve --cluster: a kubeconfig that cannot be used stops start-up with the reason", "[cluster][serve]") {
  TempDir dir;
  servertest::write_text(dir.file("kubeconfig"), "current-context: nope\n");
  auto ca = servertest::TestCert::ca("webhook CA");
  ca->issue("webhook", 3, "IP:127.0.0.1")->write(dir.path(), "tls");
  Child server({WIRECHECK_BINARY, "serve", "--cluster", "--kubeconfig", dir.file("kubeconfig"), "--listen",
                "127.0.0.1:0", "--ops-listen", "127.0.0.1:0", "--tls-cert-file", dir.file("tls.crt"),
                "--tls-private-key-file", dir.file("tls.key")},
               dir.file("server.log"));
  CHECK(server.wait_exit(std::chrono::milliseconds(10000)) == 1);
  CHECK_THAT(server.log(), Catch::Contains("no context named"));
  Child flags({WIRECHECK_BINARY, "serve", "--kubeconfig", dir.file("kubeconfig"), "--tls-cert-file",
               dir.file("tls.crt")},
              dir.file("flags.log"));
  CHECK(flags.wait_exit(std::chrono::milliseconds(10000)) == 2);
  CHECK_THAT(flags.log(), Catch::Contains("need --cluster"));
}
