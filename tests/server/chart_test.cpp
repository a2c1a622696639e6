// charts/wirecheck, checked with the real helm (scripts/install-deps.sh
// --helm puts it in ~/.cache/wirecheck; `make test` runs that first; without
// it these tests fail rather than pass unchecked): `helm lint --strict`,
// `helm template` of every ci/ values file linted clean by wirecheck itself,
// values.schema.json rejecting typos, the self-managed certificate, and the
// same objects as the kustomize overlays for the same choices (kinds, names,
// namespaces, webhook entries, failurePolicy, selectors, arguments, RBAC).
// tests/e2e/helm_install_test.sh installs the chart into a real API server.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <set>

#include "server_fixture.hpp"
#include "support.hpp"
#include "wirecheck/manifest.hpp"

using namespace wirecheck::servertest;

namespace {

const std::string kSource = WIRECHECK_SOURCE_DIR;
const std::string kChart = kSource + "/charts/wirecheck";
const std::string kDeploy = kSource + "/deploy";

int run(const std::string& command, std::string& output) {
  const auto result = wirecheck::testing::run_command(command + " 2>&1");
  output += result.out;
  return result.exit_code;
}

std::string helm() {
  if (const char* env = std::getenv("WIRECHECK_HELM"); env != nullptr && *env != '\0') return env;
  std::string cache;
  if (const char* dir = std::getenv("WIRECHECK_CACHE_DIR"); dir != nullptr && *dir != '\0') {
    cache = dir;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    cache = std::string(xdg) + "/wirecheck";
  } else {
    const char* home = std::getenv("HOME");
    cache = std::string(home != nullptr ? home : "") + "/.cache/wirecheck";
  }
  const std::string path = cache + "/helm-v4.1.4/helm";
  if (!fs::exists(path)) {
    FAIL("helm is not installed at " << path << ": run scripts/install-deps.sh --helm (make test does)");
  }
  return path;
}

// `helm template wirecheck charts/wirecheck -n NS ARGS` into FILE.
std::string helm_template(const std::string& args, const std::string& file, const std::string& ns = "wirecheck-system") {
  std::string out;
  const std::string command = helm() + " template wirecheck " + kChart + " --namespace " + ns + " " + args;
  INFO(command);
  const int code = run(command + " > " + file, out);
  INFO(out << read_text(file));
  REQUIRE(code == 0);
  return read_text(file);
}

// `kubectl kustomize` of deploy/overlays/MODE with COMPONENTS added by an
// overlay over it (as a user would), into FILE.
std::string kustomize(const TempDir& tmp, const std::string& mode, const std::vector<std::string>& components,
                      const std::string& file) {
  const std::string dir = tmp.file("kustomize-" + mode + "-" + std::to_string(components.size()));
  fs::create_directories(dir);
  const std::string rel = fs::relative(kDeploy, dir).string() + "/";
  std::string text = "namespace: wirecheck-system\nresources:\n  - " + rel + "overlays/" + mode + "\n";
  if (!components.empty()) {
    text += "components:\n";
    for (const auto& c : components) text += "  - " + rel + "components/" + c + "\n";
  }
  text += "transformers:\n  - " + rel + "namespace\n";
  write_text(dir + "/kustomization.yaml", text);
  std::string out;
  const int code = run("kubectl kustomize " + dir + " > " + file, out);
  INFO(out);
  REQUIRE(code == 0);
  return read_text(file);
}

void require_clean_lint(const std::string& file) {
  std::string out;
  const int code = run(std::string(WIRECHECK_BINARY) + " lint --no-color --fail-on warn -f " + file, out);
  INFO(out);
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("0 deny, 0 warn"));
}

std::vector<json> load(const std::string& yaml) {
  wirecheck::core::ManifestSet set;
  set.keep_json = true;
  wirecheck::core::load_stream(yaml, "rendered", set);
  REQUIRE(set.errors.empty());
  std::vector<json> objects;
  for (const auto& text : set.json) objects.push_back(json::parse(text));
  return objects;
}

using Key = std::tuple<std::string, std::string, std::string>;  // kind, namespace, name

std::map<Key, json> by_key(const std::vector<json>& objects) {
  std::map<Key, json> out;
  for (const auto& o : objects) {
    out[{o["kind"], o["metadata"].value("namespace", ""), o["metadata"]["name"]}] = o;
  }
  return out;
}

// A label selector's matchLabels without the chart's release label (helm
// selects by name and instance, so that two releases never share pods).
json without_instance(json labels) {
  labels.erase("app.kubernetes.io/instance");
  return labels;
}

// What a webhook entry does, whatever else it carries.
json entry_behaviour(json w) {
  w.erase("clientConfig");
  return w;
}

// Compares the chart's rendering with kustomize's for the same choices.
void compare(const std::string& what, const std::vector<json>& chart, const std::vector<json>& kustomized) {
  INFO(what);
  auto c = by_key(chart);
  auto k = by_key(kustomized);
  // helm installs into a namespace that exists (--create-namespace): the
  // Namespace object is kustomize's only.
  CHECK(k.erase({"Namespace", "", "wirecheck-system"}) == 1);
  std::set<Key> chart_keys, kustomize_keys;
  for (const auto& [key, o] : c) chart_keys.insert(key);
  for (const auto& [key, o] : k) kustomize_keys.insert(key);
  CHECK(chart_keys == kustomize_keys);

  for (const auto& [key, ko] : k) {
    if (c.count(key) == 0) continue;
    const json& co = c.at(key);
    const std::string& kind = std::get<0>(key);
    INFO(kind << " " << std::get<2>(key));
    CHECK(co["apiVersion"] == ko["apiVersion"]);
    const json k_annotations = ko["metadata"].value("annotations", json::object());
    CHECK(co["metadata"].value("annotations", json::object()) == k_annotations);
    if (kind == "ValidatingWebhookConfiguration") {
      REQUIRE(co["webhooks"].size() == ko["webhooks"].size());
      for (std::size_t i = 0; i < ko["webhooks"].size(); ++i) {
        const json& cw = co["webhooks"][i];
        const json& kw = ko["webhooks"][i];
        INFO(kw["name"]);
        CHECK(entry_behaviour(cw) == entry_behaviour(kw));  // name, rules, failurePolicy, selectors, timeouts
        CHECK(cw["clientConfig"]["service"] == kw["clientConfig"]["service"]);
        CHECK(cw["clientConfig"].value("caBundle", "") == kw["clientConfig"].value("caBundle", ""));
      }
    } else if (kind == "Deployment") {
      CHECK(without_instance(co["spec"]["selector"]["matchLabels"]) == ko["spec"]["selector"]["matchLabels"]);
      json cs = co["spec"];
      json ks = ko["spec"];
      for (json* s : {&cs, &ks}) {
        s->erase("selector");
        (*s)["template"].erase("metadata");
        for (auto& t : (*s)["template"]["spec"]["topologySpreadConstraints"]) {
          t["labelSelector"]["matchLabels"] = without_instance(t["labelSelector"]["matchLabels"]);
        }
      }
      CHECK(cs == ks);  // replicas, strategy, args, probes, resources, security, volumes
    } else if (kind == "Service") {
      CHECK(without_instance(co["spec"]["selector"]) == ko["spec"]["selector"]);
      CHECK(co["spec"]["ports"] == ko["spec"]["ports"]);
    } else if (kind == "PodDisruptionBudget") {
      CHECK(without_instance(co["spec"]["selector"]["matchLabels"]) == ko["spec"]["selector"]["matchLabels"]);
      CHECK(co["spec"]["maxUnavailable"] == ko["spec"]["maxUnavailable"]);
    } else if (kind == "NetworkPolicy") {
      json cs = co["spec"];
      cs["podSelector"]["matchLabels"] = without_instance(cs["podSelector"]["matchLabels"]);
      CHECK(cs == ko["spec"]);
    } else if (kind == "ServiceMonitor") {
      json cs = co["spec"];
      cs["selector"]["matchLabels"] = without_instance(cs["selector"]["matchLabels"]);
      CHECK(cs == ko["spec"]);
    } else if (kind == "ConfigMap") {
      CHECK(co["data"] == ko["data"]);
      CHECK(co["metadata"]["labels"]["grafana_dashboard"] == ko["metadata"]["labels"]["grafana_dashboard"]);
    } else if (kind == "ClusterRole" || kind == "Role") {
      CHECK(co["rules"] == ko["rules"]);
    } else if (kind == "ClusterRoleBinding" || kind == "RoleBinding") {
      CHECK(co["roleRef"] == ko["roleRef"]);
      CHECK(co["subjects"] == ko["subjects"]);
    } else if (kind == "ServiceAccount") {
      CHECK(co.value("automountServiceAccountToken", true) == ko.value("automountServiceAccountToken", true));
    } else if (ko.contains("spec")) {  // Certificates, Issuers, ResourceQuota, PrometheusRule
      CHECK(co["spec"] == ko["spec"]);
    }
  }
}

const std::vector<std::string> kCiFiles = {"cert-manager", "self-managed", "audit-only", "no-cluster",
                                           "per-entry", "existing-secret"};

}  // namespace

TEST_CASE("chart: helm lint --strict passes with the defaults and with every ci values file", "[server][chart]") {
  std::string out;
  INFO(out);
  CHECK(run(helm() + " lint --strict " + kChart, out) == 0);
  for (const auto& entry : fs::directory_iterator(kChart + "/ci")) {
    INFO(entry.path());
    CHECK(run(helm() + " lint --strict " + kChart + " -f " + entry.path().string(), out) == 0);
  }
  std::size_t ci_files = 0;
  for (const auto& name : kCiFiles) ci_files += fs::exists(kChart + "/ci/" + name + "-values.yaml") ? 1 : 0;
  CHECK(ci_files == kCiFiles.size());
}

TEST_CASE("chart: helm template of the defaults and of every ci values file lints clean with --fail-on warn",
          "[server][chart]") {
  TempDir dir;
  helm_template("", dir.file("defaults.yaml"));
  require_clean_lint(dir.file("defaults.yaml"));
  for (const auto& entry : fs::directory_iterator(kChart + "/ci")) {
    const std::string file = dir.file(entry.path().stem().string() + ".yaml");
    INFO(entry.path());
    const auto objects = load(helm_template("-f " + entry.path().string(), file));
    CHECK(objects.size() >= 8);  // 8 without the cluster view
    require_clean_lint(file);
  }
}

TEST_CASE("chart: a typo or a wrong value in values fails the install (values.schema.json)", "[server][chart]") {
  TempDir dir;
  for (const std::string bad : {"--set mdoe=enforce", "--set mode=block", "--set webhooks.pods.failurPolicy=Fail",
                                "--set certificates.source=vault", "--set certificates.source=existing",
                                "--set backgroundAudit.interval=often", "--set image.digest=latest",
                                "--set extraArgs[0]=cluster"}) {
    std::string out;
    INFO(bad << "\n" << out);
    CHECK(run(helm() + " template wirecheck " + kChart + " " + bad, out) != 0);
    CHECK_THAT(out, Catch::Contains("schema"));
  }
}

TEST_CASE("chart: the same objects as the kustomize overlays for the same choices", "[server][chart][deploy]") {
  TempDir dir;
  const auto pair = [&](const std::string& what, const std::string& helm_args, const std::string& mode,
                        const std::vector<std::string>& components) {
    const auto chart = load(helm_template(helm_args, dir.file(what + "-chart.yaml")));
    const auto kustomized = load(kustomize(dir, mode, components, dir.file(what + "-kustomize.yaml")));
    compare(what, chart, kustomized);
  };
  pair("warn", "", "warn", {});
  pair("enforce", "--set mode=enforce", "enforce", {});
  pair("audit", "-f " + kChart + "/ci/audit-only-values.yaml", "audit", {});
  pair("enforce+monitoring", "-f " + kChart + "/ci/cert-manager-values.yaml", "enforce", {"monitoring"});
  pair("enforce-no-cluster-view",
       "--set mode=enforce --set clusterView=false --set certificates.source=cert-manager", "enforce",
       {"no-cluster"});
}

TEST_CASE("chart: everything namespaced follows the release namespace, and nothing names another",
          "[server][chart]") {
  TempDir dir;
  const std::string ns = "platform-guard";
  const std::string yaml =
      helm_template("-f " + kChart + "/ci/cert-manager-values.yaml", dir.file("moved.yaml"), ns);
  CHECK_THAT(yaml, !Catch::Contains("wirecheck-system"));
  require_clean_lint(dir.file("moved.yaml"));
  const std::set<std::string> cluster_scoped = {"ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration"};
  for (const json& o : load(yaml)) {
    INFO(o["kind"] << " " << o["metadata"]["name"]);
    if (cluster_scoped.count(o["kind"]) != 0) {
      CHECK_FALSE(o["metadata"].contains("namespace"));
    } else {
      CHECK(o["metadata"]["namespace"] == ns);
    }
  }
  const auto objects = by_key(load(yaml));
  const json& config = objects.at({"ValidatingWebhookConfiguration", "", "wirecheck"});
  CHECK(config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == ns + "/wirecheck-serving-cert");
  for (const auto& w : config["webhooks"]) CHECK(w["clientConfig"]["service"]["namespace"] == ns);
  CHECK(objects.at({"Certificate", ns, "wirecheck-serving-cert"})["spec"]["dnsNames"][2] == "wirecheck." + ns + ".svc");

  // Another release name: every object and reference is named after it.
  std::string out;
  REQUIRE(run(helm() + " template edge " + kChart + " --namespace " + ns + " > " + dir.file("edge.yaml"), out) == 0);
  require_clean_lint(dir.file("edge.yaml"));
  const auto edge = by_key(load(read_text(dir.file("edge.yaml"))));
  CHECK(edge.count({"Deployment", ns, "edge-wirecheck"}) == 1);
  CHECK(edge.at({"ValidatingWebhookConfiguration", "", "edge-wirecheck"})["webhooks"][0]["clientConfig"]["service"]["name"] ==
        "edge-wirecheck");
}

TEST_CASE("chart: self-managed certificates: every entry's caBundle verifies the serving certificate for svc.ns.svc",
          "[server][chart]") {
  TempDir dir;
  const std::string ns = "team-webhooks";
  const auto objects = by_key(load(helm_template("-f " + kChart + "/ci/self-managed-values.yaml",
                                                 dir.file("self.yaml"), ns)));
  const json& secret = objects.at({"Secret", ns, "wirecheck-serving-cert"});
  CHECK(secret["type"] == "kubernetes.io/tls");
  const json& config = objects.at({"ValidatingWebhookConfiguration", "", "wirecheck"});
  CHECK_FALSE(config["metadata"].contains("annotations"));
  const std::string bundle = config["webhooks"][0]["clientConfig"]["caBundle"];
  for (const auto& w : config["webhooks"]) CHECK(w["clientConfig"]["caBundle"] == bundle);
  // The Secret and the webhook configuration hold the same CA (one
  // generation per render), and it signed the serving certificate.
  CHECK(secret["data"]["ca.crt"] == bundle);
  write_text(dir.file("bundle.b64"), bundle);
  write_text(dir.file("tls.b64"), secret["data"]["tls.crt"].get<std::string>());
  std::string verify;
  const int verified = run("cd " + dir.path() + " && base64 -d bundle.b64 > bundle.crt && base64 -d tls.b64 > tls.crt" +
                               " && openssl verify -CAfile bundle.crt tls.crt" +
                               " && openssl x509 -in tls.crt -noout -ext subjectAltName",
                           verify);
  INFO(verify);
  CHECK(verified == 0);
  CHECK_THAT(verify, Catch::Contains("DNS:wirecheck." + ns + ".svc"));
  // A new certificate rolls the pods.
  CHECK(objects.at({"Deployment", ns, "wirecheck"})["spec"]["template"]["metadata"]["annotations"].contains(
      "checksum/serving-cert"));
}

TEST_CASE("chart: the monitoring files are the same as deploy/components/monitoring's", "[server][chart]") {
  CHECK(read_text(kChart + "/files/dashboard.json") == read_text(kDeploy + "/components/monitoring/dashboard.json"));
  CHECK(read_text(kChart + "/files/prometheusrule.yaml") ==
        read_text(kDeploy + "/components/monitoring/prometheusrule.yaml"));
}
