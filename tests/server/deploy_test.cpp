// deploy/: every overlay and component renders with `kubectl kustomize` and
// the result passes wirecheck's own lint with zero findings; the webhook
// entries send exactly what the rules check; the namespace is one setting;
// the no-cert-manager path installs with a static certificate; and the
// enforce install, sent to a running server as AdmissionReviews, is allowed.
// kubectl (Debian's kubernetes-client, scripts/install-deps.sh) is required:
// without it these tests fail rather than pass unchecked.
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <tuple>

#include "server_fixture.hpp"
#include "support.hpp"
#include "wirecheck/manifest.hpp"
#include "wirecheck/object_index.hpp"

using namespace wirecheck::servertest;
using wirecheck::core::Kind;

namespace {

const std::string kDeploy = std::string(WIRECHECK_SOURCE_DIR) + "/deploy";
const std::string kDefaultNamespace = "wirecheck-system";

// Runs `command`; appends its output (with stderr) to `output`.
int run(const std::string& command, std::string& output) {
  const auto result = wirecheck::testing::run_command(command + " 2>&1");
  output += result.out;
  return result.exit_code;
}

// deploy/ uses kustomize components and replacements: kubectl 1.27+
// (kustomize v5). Debian bookworm's kubernetes-client is 1.20 (kustomize
// v2.0.3), which cannot render them.
void require_kubectl() {
  std::string out;
  if (run("command -v kubectl", out) != 0) {
    FAIL("kubectl not found: install Debian's kubernetes-client (make deps / scripts/install-deps.sh)");
  }
  out.clear();
  run("kubectl version --client", out);
  const std::string marker = "Kustomize Version: v";
  const auto at = out.find(marker);
  if (at == std::string::npos || std::atoi(out.c_str() + at + marker.size()) < 5) {
    FAIL("deploy/ needs kubectl 1.27+ (kustomize v5); this kubectl says:\n" << out);
  }
}

// `kubectl kustomize DIR` into FILE; returns the YAML.
std::string render(const std::string& dir, const std::string& file) {
  std::string out;
  INFO("kubectl kustomize " << dir);
  const int code = run("kubectl kustomize " + dir + " > " + file, out);
  INFO(out);
  REQUIRE(code == 0);
  return read_text(file);
}

void require_clean_lint(const std::string& file) {
  std::string out;
  const int code = run(std::string(WIRECHECK_BINARY) + " lint --no-color --fail-on info -f " + file, out);
  INFO(out);
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("0 deny, 0 warn, 0 info"));
}

// An overlay like deploy/overlays/<mode> written in `dir` (a user's copy):
// the same file with the namespace line changed and components added.
std::string overlay_copy(const TempDir& tmp, const std::string& mode, const std::string& ns,
                         const std::vector<std::string>& extra_components) {
  const std::string dir = tmp.file("overlay-" + mode + "-" + ns);
  fs::create_directories(dir);
  const std::string rel = fs::relative(kDeploy, dir).string() + "/";
  std::string text = read_text(kDeploy + "/overlays/" + mode + "/kustomization.yaml");
  const auto replace_all = [&text](const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  };
  replace_all("../../", rel);
  replace_all("namespace: " + kDefaultNamespace + "\n", "namespace: " + ns + "\n");
  // Appended to the overlay's components list, which ends where its
  // replacements begin.
  const std::string list_end = "# Every other place";
  REQUIRE(text.find(list_end) != std::string::npos);
  std::string components;
  for (const auto& c : extra_components) components += "  - " + rel + "components/" + c + "\n";
  text.insert(text.find(list_end), components);
  write_text(dir + "/kustomization.yaml", text);
  return dir;
}

struct Rendered {
  wirecheck::core::ManifestSet set;
  std::vector<json> objects;
};

Rendered load(const std::string& yaml) {
  Rendered r;
  r.set.keep_json = true;
  wirecheck::core::load_stream(yaml, "rendered", r.set);
  REQUIRE(r.set.errors.empty());
  for (const auto& text : r.set.json) r.objects.push_back(json::parse(text));
  return r;
}

const json& find_object(const Rendered& r, const std::string& kind, const std::string& name) {
  for (const auto& o : r.objects) {
    if (o["kind"] == kind && o["metadata"]["name"] == name) return o;
  }
  FAIL("no " << kind << " " << name << " in the rendered manifests");
  throw std::logic_error("unreachable");
}

// The API group and resource of each kind a rule can check.
std::pair<std::string, std::string> group_resource(Kind kind) {
  static const std::map<Kind, std::pair<std::string, std::string>> table = {
      {Kind::kPod, {"", "pods"}},
      {Kind::kService, {"", "services"}},
      {Kind::kDeployment, {"apps", "deployments"}},
      {Kind::kStatefulSet, {"apps", "statefulsets"}},
      {Kind::kDaemonSet, {"apps", "daemonsets"}},
      {Kind::kReplicaSet, {"apps", "replicasets"}},
      {Kind::kJob, {"batch", "jobs"}},
      {Kind::kCronJob, {"batch", "cronjobs"}},
      {Kind::kServiceMonitor, {"monitoring.coreos.com", "servicemonitors"}},
      {Kind::kPodMonitor, {"monitoring.coreos.com", "podmonitors"}},
      {Kind::kProbe, {"monitoring.coreos.com", "probes"}},
      {Kind::kCustomResourceDefinition, {"apiextensions.k8s.io", "customresourcedefinitions"}},
      {Kind::kAPIService, {"apiregistration.k8s.io", "apiservices"}},
      {Kind::kCertificate, {"cert-manager.io", "certificates"}},
  };
  const auto it = table.find(kind);
  if (it == table.end()) FAIL("deploy test: no resource for kind " << wirecheck::core::kind_name(kind));
  return it->second;
}

using GroupResourceOp = std::tuple<std::string, std::string, std::string>;

// What the registry's rules check, as (group, resource, operation); without
// the cluster view only the rules that need no context run. Webhook
// configurations never reach a webhook (the API server exempts them).
std::set<GroupResourceOp> checked_by_rules(bool cluster_view) {
  std::set<GroupResourceOp> out;
  for (const auto& spec : wirecheck::policy::Registry::all()) {
    if (spec.needs_context && !cluster_view) continue;
    for (Kind kind : spec.kinds) {
      if (kind == Kind::kValidatingWebhookConfiguration || kind == Kind::kMutatingWebhookConfiguration) continue;
      const auto [group, resource] = group_resource(kind);
      for (auto op : {wirecheck::policy::Operation::kCreate, wirecheck::policy::Operation::kUpdate,
                      wirecheck::policy::Operation::kDelete, wirecheck::policy::Operation::kConnect}) {
        if (spec.operations.has(op)) out.emplace(group, resource, std::string(wirecheck::policy::operation_name(op)));
      }
    }
  }
  return out;
}

std::set<GroupResourceOp> sent_by_webhooks(const json& config) {
  std::set<GroupResourceOp> out;
  for (const auto& webhook : config["webhooks"]) {
    for (const auto& rule : webhook["rules"]) {
      for (const auto& group : rule["apiGroups"]) {
        for (const auto& resource : rule["resources"]) {
          for (const auto& op : rule["operations"]) out.emplace(group, resource, op);
        }
      }
    }
  }
  return out;
}

const json& webhook_named(const json& config, const std::string& name) {
  for (const auto& w : config["webhooks"]) {
    if (w["name"] == name) return w;
  }
  FAIL("no webhook entry " << name);
  throw std::logic_error("unreachable");
}

// The namespaced entries skip kube-system, wirecheck's and cert-manager's namespaces.
void check_webhook_config(const json& config, const std::string& ns, const std::string& mode) {
  for (const auto& w : config["webhooks"]) {
    INFO(w["name"]);
    CHECK(w["matchPolicy"] == "Equivalent");
    CHECK(w["sideEffects"] == "None");
    CHECK(w["timeoutSeconds"].get<int>() <= 5);
    CHECK_FALSE(w.contains("matchConditions"));
    CHECK(w["clientConfig"]["service"]["namespace"] == ns);
    CHECK(w["clientConfig"]["service"]["path"] == "/validate/" + mode);
    const bool cluster_scoped = w["rules"][0]["scope"] == "Cluster";
    if (cluster_scoped) continue;
    bool excludes = false;
    for (const auto& e : w["namespaceSelector"]["matchExpressions"]) {
      if (e["key"] != "kubernetes.io/metadata.name") continue;
      CHECK(e["operator"] == "NotIn");
      const std::set<std::string> values(e["values"].begin(), e["values"].end());
      CHECK(values == std::set<std::string>{"kube-system", ns, "cert-manager"});
      excludes = true;
    }
    CHECK(excludes);
  }
}

}  // namespace

TEST_CASE("deploy: every overlay renders with kubectl kustomize and lints with zero findings", "[server][deploy]") {
  require_kubectl();
  TempDir dir;
  for (const std::string mode : {"enforce", "warn", "audit"}) {
    INFO(mode);
    const std::string yaml = render(kDeploy + "/overlays/" + mode, dir.file(mode + ".yaml"));
    require_clean_lint(dir.file(mode + ".yaml"));
    const Rendered r = load(yaml);
    const json& config = find_object(r, "ValidatingWebhookConfiguration", "wirecheck");
    CHECK(config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] ==
          kDefaultNamespace + "/wirecheck-serving-cert");
    check_webhook_config(config, kDefaultNamespace, mode);
    for (const auto& w : config["webhooks"]) {
      INFO(w["name"]);
      const bool fail = mode == "enforce" && (w["name"] == "service-deletes.wirecheck.dev" ||
                                              w["name"] == "certificates.wirecheck.dev" ||
                                              w["name"] == "apiservices.wirecheck.dev");
      CHECK(w["failurePolicy"] == (fail ? "Fail" : "Ignore"));
    }
    // The serving certificate comes from wirecheck's own CA, never straight
    // from the selfSigned issuer (which would change the CA at each renewal).
    const json& serving = find_object(r, "Certificate", "wirecheck-serving-cert");
    CHECK(serving["spec"]["issuerRef"]["name"] == "wirecheck-ca");
    CHECK(serving["spec"]["privateKey"]["algorithm"] == "ECDSA");
    CHECK(serving["spec"]["privateKey"]["size"] == 256);
    const json& ca = find_object(r, "Certificate", "wirecheck-ca");
    CHECK(ca["spec"]["isCA"] == true);
    CHECK(find_object(r, "Issuer", "wirecheck-ca")["spec"]["ca"]["secretName"] == "wirecheck-ca");
    const json& deployment = find_object(r, "Deployment", "wirecheck");
    CHECK(deployment["spec"]["replicas"] == 3);
    const json& pod = deployment["spec"]["template"]["spec"];
    CHECK(pod["priorityClassName"] == "system-cluster-critical");
    CHECK(pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname");
    CHECK(pod["topologySpreadConstraints"][1]["topologyKey"] == "topology.kubernetes.io/zone");
    CHECK(pod["containers"][0]["readinessProbe"]["failureThreshold"].get<int>() > 1);
    CHECK(pod["containers"][0]["args"].dump().find("--cluster") != std::string::npos);
  }
  const std::string selftest = render(kDeploy + "/selftest", dir.file("selftest.yaml"));
  require_clean_lint(dir.file("selftest.yaml"));
  CHECK_THAT(selftest, Catch::Contains("--url=https://wirecheck." + kDefaultNamespace + ".svc:443/validate/warn"));
}

TEST_CASE("deploy: every component added to the enforce overlay renders and lints with zero findings",
          "[server][deploy]") {
  require_kubectl();
  TempDir dir;
  const std::string enforce = read_text(kDeploy + "/overlays/enforce/kustomization.yaml");
  int rendered = 0;
  for (const auto& entry : fs::directory_iterator(kDeploy + "/components")) {
    const std::string component = entry.path().filename().string();
    if (enforce.find("components/" + component + "\n") != std::string::npos) continue;  // already in it
    INFO("components/" << component);
    const std::string overlay = overlay_copy(dir, "enforce", kDefaultNamespace, {component});
    const std::string file = dir.file("with-" + component + ".yaml");
    const Rendered r = load(render(overlay, file));
    require_clean_lint(file);
    ++rendered;
    if (component == "pre-1.21") {
      // The v1.20 form of the PodDisruptionBudget, same spec.
      const json& pdb = find_object(r, "PodDisruptionBudget", "wirecheck");
      CHECK(pdb["apiVersion"] == "policy/v1beta1");
      CHECK(pdb["metadata"]["namespace"] == kDefaultNamespace);
      CHECK(pdb["spec"]["maxUnavailable"] == 1);
      CHECK(pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "wirecheck");
    }
  }
  CHECK(rendered >= 4);  // audit, monitoring, no-cluster, pre-1.21
}

TEST_CASE("deploy: the webhook entries send exactly the kinds and operations the rules check", "[server][deploy]") {
  require_kubectl();
  TempDir dir;
  const Rendered r = load(render(kDeploy + "/overlays/enforce", dir.file("enforce.yaml")));
  const json& config = find_object(r, "ValidatingWebhookConfiguration", "wirecheck");
  const auto checked = checked_by_rules(/*cluster_view=*/true);
  REQUIRE(checked.size() >= 25);
  CHECK(sent_by_webhooks(config) == checked);
  // Controller-made pods and ReplicaSets, and the API server's own
  // APIServices, stay out.
  CHECK(webhook_named(config, "pods.wirecheck.dev")["objectSelector"].dump().find("pod-template-hash") !=
        std::string::npos);
  CHECK(webhook_named(config, "apiservices.wirecheck.dev")["objectSelector"].dump().find(
            "kube-aggregator.kubernetes.io/automanaged") != std::string::npos);
}

TEST_CASE("deploy: without the cluster view the entries send only what the rules that need no context check",
          "[server][deploy]") {
  require_kubectl();
  TempDir dir;
  const std::string overlay = overlay_copy(dir, "enforce", kDefaultNamespace, {"no-cluster"});
  const std::string yaml = render(overlay, dir.file("no-cluster.yaml"));
  require_clean_lint(dir.file("no-cluster.yaml"));
  const Rendered r = load(yaml);
  const json& config = find_object(r, "ValidatingWebhookConfiguration", "wirecheck");
  const auto checked = checked_by_rules(/*cluster_view=*/false);
  REQUIRE(checked.size() >= 15);
  CHECK(sent_by_webhooks(config) == checked);
  check_webhook_config(config, kDefaultNamespace, "enforce");
  CHECK_THAT(yaml, !Catch::Contains("kind: ClusterRole"));
  CHECK_THAT(yaml, !Catch::Contains("--cluster"));
}

TEST_CASE("deploy: one namespace line moves every reference (monitoring component included)", "[server][deploy]") {
  require_kubectl();
  TempDir dir;
  const std::string ns = "platform-admission";
  const std::string overlay = overlay_copy(dir, "enforce", ns, {"monitoring"});
  const std::string yaml = render(overlay, dir.file("moved.yaml"));
  require_clean_lint(dir.file("moved.yaml"));
  CHECK_THAT(yaml, !Catch::Contains(kDefaultNamespace));
  const Rendered r = load(yaml);
  CHECK(find_object(r, "Namespace", ns)["metadata"]["labels"]["wirecheck.dev/skip"] == "true");
  const json& config = find_object(r, "ValidatingWebhookConfiguration", "wirecheck");
  CHECK(config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == ns + "/wirecheck-serving-cert");
  check_webhook_config(config, ns, "enforce");
  CHECK(find_object(r, "Certificate", "wirecheck-serving-cert")["spec"]["dnsNames"] ==
        json::array({"wirecheck", "wirecheck." + ns, "wirecheck." + ns + ".svc",
                     "wirecheck." + ns + ".svc.cluster.local"}));
  CHECK(find_object(r, "ClusterRoleBinding", "wirecheck")["subjects"][0]["namespace"] == ns);
  CHECK(find_object(r, "ServiceMonitor", "wirecheck")["spec"]["namespaceSelector"]["matchNames"] ==
        json::array({ns}));
  CHECK(find_object(r, "ConfigMap", "wirecheck-dashboard")["metadata"]["labels"]["grafana_dashboard"] == "1");
  CHECK(find_object(r, "PrometheusRule", "wirecheck")["metadata"]["namespace"] == ns);
}

// An overlay of a user's own that consumes one of deploy/'s (as a remote
// `<repo>//deploy/overlays/<mode>` would be) and sets another namespace on
// top. kustomize runs replacements in the kustomization that declares them,
// before any outer one: the outer overlay lists deploy/namespace under
// `transformers:` (which run after its own `namespace:`).
std::string wrapping_overlay(const TempDir& tmp, const std::string& inner, const std::string& ns,
                             const std::string& transformer) {
  const std::string dir = tmp.file("wrap-" + std::to_string(std::hash<std::string>{}(inner + transformer)));
  fs::create_directories(dir);
  const std::string rel = fs::relative(kDeploy, dir).string() + "/";
  std::string text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: " + ns +
                     "\nresources:\n  - " + rel + inner + "\n";
  if (!transformer.empty()) text += "transformers:\n  - " + rel + transformer + "\n";
  write_text(dir + "/kustomization.yaml", text);
  return dir;
}

TEST_CASE("deploy: an overlay of one's own with another namespace over each overlay moves every reference",
          "[server][deploy]") {
  require_kubectl();
  TempDir dir;
  const std::string ns = "platform-guard";
  for (const std::string inner : {"overlays/enforce", "overlays/warn", "overlays/audit"}) {
    INFO(inner);
    const std::string file = dir.file("wrapped-" + inner.substr(9) + ".yaml");
    const std::string yaml = render(wrapping_overlay(dir, inner, ns, "namespace"), file);
    CHECK_THAT(yaml, !Catch::Contains(kDefaultNamespace));
    require_clean_lint(file);
    const Rendered r = load(yaml);
    CHECK(find_object(r, "Namespace", ns)["metadata"]["labels"]["wirecheck.dev/skip"] == "true");
    const json& config = find_object(r, "ValidatingWebhookConfiguration", "wirecheck");
    CHECK(config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == ns + "/wirecheck-serving-cert");
    check_webhook_config(config, ns, inner.substr(9));
    CHECK(find_object(r, "Certificate", "wirecheck-serving-cert")["spec"]["dnsNames"][2] == "wirecheck." + ns + ".svc");
    CHECK(find_object(r, "ClusterRoleBinding", "wirecheck")["subjects"][0]["namespace"] == ns);
    CHECK(find_object(r, "RoleBinding", "wirecheck-audit-lease")["subjects"][0]["namespace"] == ns);
  }
  const std::string selftest = render(wrapping_overlay(dir, "selftest", ns, "selftest/namespace"),
                                      dir.file("wrapped-selftest.yaml"));
  CHECK_THAT(selftest, Catch::Contains("--url=https://wirecheck." + ns + ".svc:443/validate/warn"));
  CHECK_THAT(selftest, !Catch::Contains(kDefaultNamespace));

  // Without the transformer the outer `namespace:` moves only
  // metadata.namespace, and lint says what breaks.
  const std::string bare = dir.file("bare.yaml");
  render(wrapping_overlay(dir, "overlays/enforce", ns, ""), bare);
  std::string out;
  CHECK(run(std::string(WIRECHECK_BINARY) + " lint --no-color --fail-on warn -f " + bare, out) != 0);
  INFO(out);
  CHECK_THAT(out, Catch::Contains(kDefaultNamespace));
}

TEST_CASE("deploy: without cert-manager gen-deploy-certs.sh writes an overlay that installs with a static certificate",
          "[server][deploy]") {
  require_kubectl();
  TempDir dir;
  const std::string ns = "team-webhooks";
  const std::string out_dir = dir.file("install");
  std::string out;
  INFO(out);
  REQUIRE(run(std::string(WIRECHECK_SOURCE_DIR) + "/certs/gen-deploy-certs.sh --mode enforce --namespace " + ns +
                  " " + out_dir,
              out) == 0);
  const std::string yaml = render(out_dir, dir.file("static.yaml"));
  require_clean_lint(dir.file("static.yaml"));
  CHECK_THAT(yaml, !Catch::Contains(kDefaultNamespace));
  CHECK_THAT(yaml, !Catch::Contains("cert-manager.io/"));
  const Rendered r = load(yaml);
  const json& config = find_object(r, "ValidatingWebhookConfiguration", "wirecheck");
  check_webhook_config(config, ns, "enforce");
  const json& secret = find_object(r, "Secret", "wirecheck-serving-cert");
  CHECK(secret["type"] == "kubernetes.io/tls");

  // Every entry trusts the generated CA, and the serving certificate it
  // signed names the four Service forms.
  const std::string bundle = config["webhooks"][0]["clientConfig"]["caBundle"];
  for (const auto& w : config["webhooks"]) CHECK(w["clientConfig"]["caBundle"] == bundle);
  write_text(dir.file("bundle.b64"), bundle);
  write_text(dir.file("tls.b64"), secret["data"]["tls.crt"].get<std::string>());
  std::string verify;
  const int verified = run("cd " + dir.path() + " && base64 -d bundle.b64 > bundle.crt && base64 -d tls.b64 > tls.crt" +
                               " && openssl verify -CAfile bundle.crt tls.crt" +
                               " && openssl x509 -in tls.crt -noout -ext subjectAltName",
                           verify);
  INFO(verify);
  CHECK(verified == 0);
  CHECK_THAT(verify, Catch::Contains("DNS:wirecheck, DNS:wirecheck." + ns + ", DNS:wirecheck." + ns +
                                     ".svc, DNS:wirecheck." + ns + ".svc.cluster.local"));

  // A second run renews the serving certificate under the same CA: the
  // caBundle the API server holds does not change.
  out.clear();
  REQUIRE(run(std::string(WIRECHECK_SOURCE_DIR) + "/certs/gen-deploy-certs.sh --mode enforce --namespace " + ns +
                  " " + out_dir,
              out) == 0);
  const Rendered renewed = load(render(out_dir, dir.file("renewed.yaml")));
  CHECK(find_object(renewed, "ValidatingWebhookConfiguration", "wirecheck")["webhooks"][0]["clientConfig"]["caBundle"] ==
        bundle);
  CHECK(find_object(renewed, "Secret", "wirecheck-serving-cert")["data"]["tls.crt"] != secret["data"]["tls.crt"]);
}

TEST_CASE("deploy: every object of the enforce install sent to a running server as an AdmissionReview is allowed", "[server][deploy]") {
  // tests/e2e/deploy_install_test.sh applies the same install to a real
  // kube-apiserver (make e2e).
  require_kubectl();
  TempDir dir;
  const std::string overlay = overlay_copy(dir, "enforce", kDefaultNamespace, {"monitoring"});
  const Rendered r = load(render(overlay, dir.file("enforce.yaml")));
  REQUIRE(r.objects.size() >= 15);

  // The server sees the install itself as its cluster view, as `serve
  // --cluster` would after applying it.
  auto index = std::make_shared<wirecheck::policy::ObjectIndex>(/*complete=*/true);
  index->add_all(r.set.objects);
  HarnessOptions options = with_mode(wirecheck::admission::Mode::kEnforce);
  options.context = [index] { return std::shared_ptr<const wirecheck::policy::Context>(index); };
  Harness h(options);
  auto client = h.client();

  int uid = 0;
  for (const json& object : r.objects) {
    for (const std::string operation : {"CREATE", "UPDATE"}) {
      const std::string kind = object["kind"];
      const std::string api_version = object["apiVersion"];
      const auto slash = api_version.find('/');
      const std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
      const std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
      std::string resource = kind;
      for (char& c : resource) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (resource.back() == 'y') resource.replace(resource.size() - 1, 1, "ies");
      else resource += 's';
      json request = {
          {"uid", "00000000-0000-4000-8000-" + std::to_string(100000000000 + ++uid)},
          {"kind", {{"group", group}, {"version", version}, {"kind", kind}}},
          {"resource", {{"group", group}, {"version", version}, {"resource", resource}}},
          {"name", object["metadata"]["name"]},
          {"operation", operation},
          {"userInfo", {{"username", "kubernetes-admin"}}},
          {"object", object},
          {"dryRun", false},
      };
      if (object["metadata"].contains("namespace")) request["namespace"] = object["metadata"]["namespace"];
      if (operation == "UPDATE") request["oldObject"] = object;
      const json review = {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", request}};
      INFO(operation << " " << kind << " " << object["metadata"]["name"]);
      wirecheck::server::HttpResponse reply;
      REQUIRE(client->post("/validate/enforce", review.dump(), reply));
      REQUIRE(reply.status == 200);
      const json response = response_of(reply)["response"];
      INFO(response.dump());
      CHECK(response["allowed"] == true);
      CHECK_FALSE(response.contains("warnings"));
    }
  }
}
