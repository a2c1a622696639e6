// `wirecheck trace` as a user runs it: the real binary on fixture files,
// link by link, text and JSON, exit codes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support.hpp"

using nlohmann::json;
using wirecheck::testing::contains;
using wirecheck::testing::fixtures_dir;
using wirecheck::testing::run_command;
using wirecheck::testing::wirecheck_binary;

namespace {

std::string trace(const std::string& args) {
  return wirecheck_binary() + " trace " + args + " --no-color 2>&1";
}

std::string fixture(const std::string& name) { return fixtures_dir() + "/trace/" + name; }

}  // namespace

TEST_CASE("trace cli: a working chain prints every link ok and exits 0") {
  const auto r = run_command(trace("servicemonitor shop/shop-operator -f " + fixture("working.yaml")));
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "ServiceMonitor shop/shop-operator\n"));
  CHECK(contains(r.out, "selected by Prometheus monitoring/k8s (serviceMonitorSelector release=kube-prom, "
                        "serviceMonitorNamespaceSelector {} (everything))"));
  CHECK(contains(r.out, "ServiceAccount monitoring/prometheus-k8s may list and watch"));
  CHECK(contains(r.out, "selects Service shop/shop-operator-metrics"));
  CHECK(contains(r.out, "port https -> Service shop/shop-operator-metrics port 8443 -> targetPort https"));
  CHECK(contains(r.out, "Deployment shop/shop-operator container kube-rbac-proxy port 8443"));
  CHECK(contains(r.out, "8443 listening (--secure-listen-address=0.0.0.0:8443 in kube-rbac-proxy)"));
  CHECK(contains(r.out, "https, serverName shop-operator-metrics.shop.svc, CA from ConfigMap shop-operator-ca"));
  CHECK(contains(r.out, "not probed (use --probe)"));
  CHECK(contains(r.out, "kube-rbac-proxy (kube-rbac-proxy); the scrape sends a bearer token"));
  CHECK(contains(r.out, "every link holds"));
  CHECK_FALSE(contains(r.out, "BROKEN"));
}

TEST_CASE("trace cli: links print in chain order") {
  const auto r = run_command(trace("servicemonitor shop/shop-operator -f " + fixture("working.yaml")));
  std::size_t at = 0;
  for (const char* link : {"prometheus", "namespace", "service selection", "port", "endpoints",
                           "container port/bind", "tls ", "tls (live)", "authorization"}) {
    const std::size_t found = r.out.find(link, at);
    INFO(link << "\n" << r.out);
    REQUIRE(found != std::string::npos);
    at = found;
  }
}

TEST_CASE("trace cli: a broken chain names the rule, message and fix of each break, exit 1") {
  const auto r = run_command(trace("servicemonitor shop/shop-operator -f " + fixture("broken.yaml")));
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.out, "BROKEN     prometheus"));
  CHECK(contains(r.out, "monitor-not-selected (warn)"));
  CHECK(contains(r.out, "fix: add to the ServiceMonitor's metadata.labels: release: kube-prom"));
  CHECK(contains(r.out, "BROKEN     authorization"));
  CHECK(contains(r.out, "scrape-unauthorized (warn)"));
  CHECK(contains(r.out, "2 links are broken"));
}

TEST_CASE("trace cli: --format json carries every link with status and findings") {
  const auto r = run_command(wirecheck_binary() + " trace servicemonitor shop/shop-operator --format json -f " +
                             fixture("broken.yaml") + " 2>/dev/null");
  CHECK(r.exit_code == 1);
  const json out = json::parse(r.out);
  CHECK(out["result"] == "broken");
  CHECK(out["object"]["name"] == "shop-operator");
  REQUIRE(out["links"].is_array());
  CHECK(out["links"][0]["link"] == "prometheus");
  CHECK(out["links"][0]["status"] == "BROKEN");
  CHECK(out["links"][0]["findings"][0]["rule"] == "monitor-not-selected");
  CHECK(out["links"][0]["findings"][0]["fix"] == "add to the ServiceMonitor's metadata.labels: release: kube-prom");
  bool tls_live = false;
  for (const json& l : out["links"]) {
    if (l["link"] == "tls (live)") tls_live = l["status"] == "not probed";
    CHECK(l.contains("resolved"));
  }
  CHECK(tls_live);
}

TEST_CASE("trace cli: a name not found exits 2 and names the closest") {
  const auto r = run_command(trace("servicemonitor shop/shop-operater -f " + fixture("working.yaml")));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.out, "servicemonitor shop/shop-operater not found; closest: shop/shop-operator"));
}

TEST_CASE("trace cli: usage errors exit 2") {
  CHECK(run_command(trace("servicemonitor")).exit_code == 2);
  CHECK(run_command(trace("deployment shop/x -f " + fixture("working.yaml"))).exit_code == 2);
  CHECK(run_command(trace("servicemonitor shop/shop-operator --format yaml -f " + fixture("working.yaml"))).exit_code ==
        2);
  CHECK(run_command(trace("servicemonitor shop/shop-operator -f /nonexistent.yaml")).exit_code == 2);
}

TEST_CASE("trace cli: a Service traces its selection, ports and binds") {
  const auto r = run_command(trace("service shop/shop-operator-metrics -f " + fixture("working.yaml")));
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(contains(r.out, "selects shop/shop-operator"));
  CHECK(contains(r.out, "port 8443 -> targetPort https: Deployment shop/shop-operator container kube-rbac-proxy"));
}
