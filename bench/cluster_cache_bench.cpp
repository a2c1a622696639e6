// The cluster cache's two budgets (issue 8), printed for `make bench`:
//  1. memory: 50,000 objects of realistic size and mix (workloads with two
//     containers, probes, env and args; Services; ServiceMonitors;
//     Certificates; webhook configurations...) decoded exactly as the
//     reflector stores them, in a process that also holds the engine and
//     rules: RSS before and after, bytes per object;
//  2. event latency: one watch event line (parse + decode + copy-on-write
//     publish) applied to that 50,000-object store, while two readers take
//     snapshots and look objects up, as admission requests do.
// Its own process (not the Google Benchmark binary), so that RSS is this
// cache's alone.
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cluster/reflector.hpp"
#include "cluster/store.hpp"
#include "wirecheck/engine.hpp"

namespace {

using namespace wirecheck;
using core::Kind;
using nlohmann::json;

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

json metadata(const std::string& ns, const std::string& name, int i) {
  return {{"name", name},
          {"namespace", ns},
          {"uid", "6f1c2a7e-0000-4000-8000-" + std::to_string(100000000000 + i)},
          {"resourceVersion", std::to_string(1000 + i)},
          {"labels", {{"app.kubernetes.io/name", name}, {"app.kubernetes.io/part-of", "shop"},
                      {"app.kubernetes.io/managed-by", "Helm"}, {"team", "payments"}}},
          {"annotations", {{"meta.helm.sh/release-name", "shop"}, {"meta.helm.sh/release-namespace", ns},
                           {"kubectl.kubernetes.io/last-applied-configuration", std::string(1500, 'x')}}},
          {"managedFields", json::array({{{"manager", "helm"}, {"operation", "Update"}, {"fieldsV1", {{"f:spec", std::string(800, 'y')}}}}})}};
}

json container(const std::string& name, int port) {
  json probe = {{"httpGet", {{"path", "/healthz"}, {"port", "http"}, {"scheme", "HTTP"}}}, {"periodSeconds", 10}};
  json env = json::array();
  for (int e = 0; e < 6; ++e) env.push_back({{"name", "SETTING_" + std::to_string(e)}, {"value", "value-" + std::to_string(e)}});
  return {{"name", name},
          {"image", "registry.example.com/shop/" + name + ":1.24.3"},
          {"args", {"--metrics-bind-address=:" + std::to_string(port + 1), "--health-probe-bind-address=:8081", "--leader-elect"}},
          {"env", env},
          {"ports", {{{"name", "http"}, {"containerPort", port}, {"protocol", "TCP"}},
                     {{"name", "metrics"}, {"containerPort", port + 1}, {"protocol", "TCP"}}}},
          {"livenessProbe", probe},
          {"readinessProbe", probe},
          {"resources", {{"limits", {{"cpu", "500m"}, {"memory", "256Mi"}}}}}};
}

json workload(const std::string& ns, const std::string& name, int i) {
  return {{"metadata", metadata(ns, name, i)},
          {"spec", {{"replicas", 2},
                    {"selector", {{"matchLabels", {{"app.kubernetes.io/name", name}}}}},
                    {"template", {{"metadata", {{"labels", {{"app.kubernetes.io/name", name}, {"team", "payments"}}}}},
                                  {"spec", {{"containers", {container(name, 8080), container("kube-rbac-proxy", 8443)}}}}}}}},
          {"status", {{"replicas", 2}, {"readyReplicas", 2}}}};
}

json cronjob(const std::string& ns, const std::string& name, int i) {
  json w = workload(ns, name, i);
  return {{"metadata", w["metadata"]},
          {"spec", {{"schedule", "*/5 * * * *"}, {"jobTemplate", {{"spec", {{"template", w["spec"]["template"]}}}}}}}};
}

json service(const std::string& ns, const std::string& name, int i) {
  return {{"metadata", metadata(ns, name, i)},
          {"spec", {{"type", "ClusterIP"}, {"clusterIP", "10.96.0." + std::to_string(i % 250)},
                    {"selector", {{"app.kubernetes.io/name", name}}},
                    {"ports", {{{"name", "http"}, {"port", 80}, {"targetPort", "http"}, {"protocol", "TCP"}},
                               {{"name", "metrics"}, {"port", 8443}, {"targetPort", "metrics"}, {"protocol", "TCP"}}}}}}};
}

json service_monitor(const std::string& ns, const std::string& name, int i) {
  return {{"metadata", metadata(ns, name, i)},
          {"spec", {{"selector", {{"matchLabels", {{"app.kubernetes.io/name", name}}}}},
                    {"endpoints", {{{"port", "metrics"}, {"scheme", "https"}, {"path", "/metrics"},
                                    {"tlsConfig", {{"serverName", name + "." + ns + ".svc"},
                                                   {"ca", {{"secret", {{"name", name + "-tls"}, {"key", "ca.crt"}}}}}}}}}}}}};
}

json certificate(const std::string& ns, const std::string& name, int i) {
  return {{"metadata", metadata(ns, name, i)},
          {"spec", {{"secretName", name + "-tls"}, {"dnsNames", {name, name + "." + ns + ".svc", name + "." + ns + ".svc.cluster.local"}},
                    {"issuerRef", {{"name", "selfsigned"}, {"kind", "ClusterIssuer"}}}}}};
}

json webhook_configuration(const std::string& name, int i) {
  json m = metadata("", name, i);
  m.erase("namespace");
  return {{"metadata", m},
          {"webhooks", {{{"name", name + ".example.com"},
                         {"clientConfig", {{"service", {{"namespace", "ops"}, {"name", name}, {"path", "/validate"}}},
                                           {"caBundle", std::string(1500, 'Q')}}},
                         {"rules", {{{"operations", {"CREATE", "UPDATE"}}, {"apiGroups", {"apps"}},
                                     {"apiVersions", {"v1"}}, {"resources", {"deployments"}}}}},
                         {"failurePolicy", "Fail"}, {"sideEffects", "None"}}}}};
}

struct Mix {
  Kind kind;
  std::string api_version;
  int count;
  json (*make)(const std::string& ns, const std::string& name, int i);
};

simdjson::dom::parser& parser() {
  static simdjson::dom::parser p;
  return p;
}

cluster::ObjectPtr decode(const std::string& text, Kind kind, const std::string& api_version) {
  simdjson::dom::element e;
  if (parser().parse(text).get(e) != simdjson::SUCCESS) return nullptr;
  return cluster::cache_object(e, kind, api_version);
}

}  // namespace

int main() {
  constexpr int kNamespaces = 500;
  const policy::Engine engine;  // the server holds one too
  malloc_trim(0);
  const long before = rss_kb();

  const std::vector<Mix> mix = {
      {Kind::kDeployment, "apps/v1", 12000, workload},
      {Kind::kStatefulSet, "apps/v1", 3000, workload},
      {Kind::kDaemonSet, "apps/v1", 1000, workload},
      {Kind::kCronJob, "batch/v1", 3000, cronjob},
      {Kind::kService, "v1", 22000, service},
      {Kind::kServiceMonitor, "monitoring.coreos.com/v1", 5000, service_monitor},
      {Kind::kCertificate, "cert-manager.io/v1", 3500, certificate},
      {Kind::kValidatingWebhookConfiguration, "admissionregistration.k8s.io/v1", 500,
       [](const std::string&, const std::string& name, int i) { return webhook_configuration(name, i); }},
  };
  // The API JSON is written by a child process, so that building it leaves
  // nothing in this process's heap: what RSS grows by is the cache.
  char path[] = "/tmp/wirecheck-cluster-bench-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return 1;
  ::close(fd);
  if (const pid_t child = fork(); child == 0) {
    std::ofstream out(path);
    for (std::size_t k = 0; k < mix.size(); ++k) {
      for (int i = 0; i < mix[k].count; ++i) {
        const std::string ns = "team-" + std::to_string(i % kNamespaces);
        out << k << ' ' << mix[k].make(ns, "app-" + std::to_string(i), i).dump() << '\n';
      }
    }
    std::_Exit(out.good() ? 0 : 1);
  } else {
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  cluster::Store store;
  std::size_t total = 0;
  std::size_t json_bytes = 0;
  {
    std::vector<std::vector<cluster::ObjectPtr>> objects(mix.size());
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      const std::size_t space = line.find(' ');
      const std::size_t k = std::stoul(line.substr(0, space));
      json_bytes += line.size() - space - 1;
      if (auto o = decode(line.substr(space + 1), mix[k].kind, mix[k].api_version)) objects[k].push_back(std::move(o));
    }
    for (std::size_t k = 0; k < mix.size(); ++k) {
      total += objects[k].size();
      store.replace(mix[k].kind, std::move(objects[k]));
    }
  }
  std::remove(path);
  parser() = simdjson::dom::parser{};
  malloc_trim(0);
  const long after = rss_kb();
  std::printf("cluster cache memory: %zu objects (%.0f MB of API JSON, incl. managedFields and "
              "last-applied) in %.1f MB RSS (%.0f bytes/object); process RSS %.1f MB (budget: 60 MB for the whole server)\n",
              total, static_cast<double>(json_bytes) / 1e6, static_cast<double>(after - before) / 1024.0,
              static_cast<double>(after - before) * 1024.0 / static_cast<double>(total),
              static_cast<double>(after) / 1024.0);

  // Event latency: MODIFIED events for Deployments spread over namespaces,
  // while two readers take snapshots and look objects up.
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        const auto snap = store.snapshot();
        const auto* o = snap->find(Kind::kService, "team-7", "app-7");
        if (o == nullptr) std::abort();
        (void)snap->list(Kind::kDeployment, "team-7");
        reads.fetch_add(1, std::memory_order_relaxed);
        // About 10,000 requests a second each: a busy webhook, not a spin loop
        // that would starve the writer of a CPU on a 2-core machine.
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    });
  }
  constexpr int kEvents = 20000;
  std::vector<double> us;
  us.reserve(kEvents);
  std::vector<std::string> lines;
  for (int i = 0; i < 200; ++i) {
    lines.push_back(workload("team-" + std::to_string(i % kNamespaces), "app-" + std::to_string(i), 5000 + i).dump());
  }
  for (int i = 0; i < kEvents; ++i) {
    const std::string& text = lines[static_cast<std::size_t>(i) % lines.size()];
    const auto t0 = std::chrono::steady_clock::now();
    store.upsert(decode(text, Kind::kDeployment, "apps/v1"));
    const auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  stop = true;
  for (auto& t : readers) t.join();
  std::sort(us.begin(), us.end());
  const auto pct = [&](double p) { return us[static_cast<std::size_t>(p * static_cast<double>(us.size() - 1))]; };
  std::printf("cluster cache event latency (parse + decode + publish, store of %zu, 2 concurrent readers): "
              "p50 %.1f us, p99 %.1f us, max %.1f us over %d events; %ld reader snapshots meanwhile\n",
              total, pct(0.5), pct(0.99), us.back(), kEvents, reads.load());
  return 0;
}
