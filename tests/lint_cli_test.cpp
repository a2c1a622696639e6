// `wirecheck lint` as a user runs it: the real binary, files and stdin,
// every output format, exit codes.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "support.hpp"

using nlohmann::json;
using wirecheck::testing::fixtures_dir;
using wirecheck::testing::run_command;
using wirecheck::testing::wirecheck_binary;

namespace {

std::string lint(const std::string& args) { return wirecheck_binary() + " lint " + args + " 2>/dev/null"; }

}  // namespace

TEST_CASE("lint cli: a broken metrics Service is denied, exit 1, JSON in the documented shape") {
  const auto r = run_command(lint("-f " + fixtures_dir() + "/lint/metrics-service-broken.yaml --format json"));
  CHECK(r.exit_code == 1);
  const json out = json::parse(r.out);
  REQUIRE(out.contains("findings"));
  REQUIRE(out.contains("summary"));
  bool found = false;
  for (const json& f : out["findings"]) {
    for (const char* key : {"rule", "severity", "object", "path", "message", "fix", "file", "line", "exempted"}) {
      CHECK(f.contains(key));
    }
    for (const char* key : {"apiVersion", "kind", "namespace", "name"}) CHECK(f["object"].contains(key));
    if (f["rule"] == "service-target-port-missing") {
      found = true;
      CHECK(f["severity"] == "deny");
      CHECK(f["object"]["name"] == "manager-metrics");
      CHECK(f["path"] == "spec.ports[0].targetPort");
      CHECK(f["line"] == 3);
      CHECK(f["file"].get<std::string>().find("metrics-service-broken.yaml") != std::string::npos);
    }
  }
  CHECK(found);
  const json& s = out["summary"];
  CHECK(s["objects"] == 2);
  CHECK(s["deny"].get<int>() >= 1);
  for (const char* key : {"warn", "info", "exempted", "errors"}) CHECK(s.contains(key));
  CHECK(s["errors"].empty());
}

TEST_CASE("lint cli: clean manifests exit 0; --fail-on decides what fails") {
  CHECK(run_command(lint("-f " + fixtures_dir() + "/lint/clean.yaml")).exit_code == 0);
  const std::string broken = "-f " + fixtures_dir() + "/lint/metrics-service-broken.yaml";
  CHECK(run_command(lint(broken + " --fail-on never")).exit_code == 0);
  CHECK(run_command(lint(broken + " --fail-on deny")).exit_code == 1);
  CHECK(run_command(lint(broken + " --fail-on=warn")).exit_code == 1);
}

TEST_CASE("lint cli: a multi-document stream on stdin is read with -f -") {
  const auto r = run_command("(cat " + fixtures_dir() + "/lint/metrics-service-broken.yaml; echo ---; cat " +
                             fixtures_dir() + "/lint/clean.yaml) | " + lint("-f - --format json"));
  CHECK(r.exit_code == 1);
  const json out = json::parse(r.out);
  CHECK(out["summary"]["objects"] == 4);
  CHECK(out["findings"][0]["file"] == "<stdin>");
}

TEST_CASE("lint cli: text output groups findings under their object with file:line, no colour off a tty") {
  const auto r = run_command(lint("-f " + fixtures_dir() + "/lint/metrics-service-broken.yaml"));
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("Service demo/manager-metrics") != std::string::npos);
  CHECK(r.out.find("metrics-service-broken.yaml:3") != std::string::npos);
  CHECK(r.out.find("DENY") != std::string::npos);
  CHECK(r.out.find("fix: ") != std::string::npos);
  CHECK(r.out.find("\033[") == std::string::npos);
  CHECK(r.out.find("2 objects:") != std::string::npos);
}

TEST_CASE("lint cli: SARIF 2.1.0 carries rules, levels and file/line locations") {
  const auto r = run_command(lint("-f " + fixtures_dir() + "/lint/metrics-service-broken.yaml --format sarif"));
  CHECK(r.exit_code == 1);
  const json out = json::parse(r.out);
  CHECK(out["version"] == "2.1.0");
  const json& run = out["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "wirecheck");
  CHECK(run["tool"]["driver"]["rules"].size() >= 6);
  bool found = false;
  for (const json& res : run["results"]) {
    CHECK(res.contains("ruleIndex"));
    CHECK(run["tool"]["driver"]["rules"][res["ruleIndex"].get<std::size_t>()]["id"] == res["ruleId"]);
    if (res["ruleId"] == "service-target-port-missing") {
      found = true;
      CHECK(res["level"] == "error");
      CHECK(res["locations"][0]["physicalLocation"]["region"]["startLine"] == 3);
    }
  }
  CHECK(found);
}

TEST_CASE("lint cli: unreadable documents exit 2 but the readable ones are still reported") {
  const auto r = run_command("printf 'apiVersion: v1\\nkind: Service\\nmetadata: {name: [x\\n---\\n' | cat - " +
                             fixtures_dir() + "/lint/metrics-service-broken.yaml | " + lint("-f - --format json"));
  CHECK(r.exit_code == 2);
  const json out = json::parse(r.out);
  CHECK(out["summary"]["errors"].size() == 1);
  CHECK(out["summary"]["errors"][0]["line"].get<int>() >= 1);
  CHECK(out["summary"]["deny"].get<int>() >= 1);
}

TEST_CASE("lint cli: usage errors exit 2 with a message") {
  CHECK(run_command(lint("")).exit_code == 2);
  CHECK(run_command(lint("-f x --format xml")).exit_code == 2);
  CHECK(run_command(lint("-f x --fail-on sometimes")).exit_code == 2);
  CHECK(run_command(lint("--bogus")).exit_code == 2);
  CHECK(run_command(lint("-f /nonexistent.yaml")).exit_code == 2);
  CHECK(run_command(lint("-f " + fixtures_dir() + "/lint/clean.yaml --config /nonexistent.yaml")).exit_code == 2);
  const auto help = run_command(wirecheck_binary() + " lint --help");
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--fail-on") != std::string::npos);
  CHECK(run_command(wirecheck_binary() + " no-such-command 2>/dev/null").exit_code == 2);
}

TEST_CASE("lint cli: kubectl kustomize output piped to lint -f - works") {
  if (std::system("command -v kubectl >/dev/null 2>&1") != 0) {
    WARN("kubectl not installed: kustomize pipe test skipped");
    return;
  }
  const auto r = run_command("kubectl kustomize " + fixtures_dir() + "/kustomize/base | " + lint("-f - --format json"));
  CHECK(r.exit_code == 1);
  const json out = json::parse(r.out);
  CHECK(out["summary"]["objects"] == 2);
  bool found = false;
  for (const json& f : out["findings"]) {
    if (f["rule"] == "service-target-port-missing" && f["object"]["namespace"] == "demo") found = true;
  }
  CHECK(found);
}

TEST_CASE("rules cli: docs/rules.md is exactly the output of 'wirecheck rules --format md'") {
  const auto r = run_command(wirecheck_binary() + " rules --format md");
  REQUIRE(r.exit_code == 0);
  const std::string committed = wirecheck::testing::read_file(std::string(WIRECHECK_SOURCE_DIR) + "/docs/rules.md");
  CHECK(r.out == committed);
  if (r.out != committed) FAIL_CHECK("docs/rules.md is stale: run 'make docs' and commit it");
  const auto text = run_command(wirecheck_binary() + " rules");
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("service-target-port-missing") != std::string::npos);
  CHECK(run_command(wirecheck_binary() + " version").out.rfind("wirecheck ", 0) == 0);
}

TEST_CASE("lint cli: a ServiceMonitor whose Service is in the same input gets a fix naming <svc>.<ns>.svc") {
  // The fixture holds the monitor (https, CA, no serverName) and the Service
  // cart-metrics in namespace shop that its selector picks.
  const auto r = run_command(
      lint("-f " + fixtures_dir() + "/rules/servicemonitor-tls-servername/fail.https-no-servername.yaml --format json"));
  CHECK(r.exit_code == 1);
  const json out = json::parse(r.out);
  bool found = false;
  for (const json& f : out["findings"]) {
    if (f["rule"] != "servicemonitor-tls-servername") continue;
    found = true;
    CHECK(f["severity"] == "deny");
    CHECK(f["path"] == "spec.endpoints[0].tlsConfig.serverName");
    CHECK_THAT(f["fix"].get<std::string>(), Catch::Contains("serverName: cart-metrics.shop.svc"));
  }
  CHECK(found);
}

TEST_CASE("lint cli: a directory's non-Kubernetes documents are skipped and listed, not errors") {
  const std::string dir = fixtures_dir() + "/lint/repo";
  const auto r = run_command(lint("-f " + dir + " --format json"));
  CHECK(r.exit_code == 0);
  const json out = json::parse(r.out);
  CHECK(out["summary"]["objects"] == 2);
  CHECK(out["summary"]["errors"].empty());
  REQUIRE(out["summary"]["skipped"].size() == 2);
  CHECK_THAT(out["summary"]["skipped"][0]["file"].get<std::string>(), Catch::EndsWith("dashboard.json"));
  CHECK_THAT(out["summary"]["skipped"][1]["file"].get<std::string>(), Catch::EndsWith("kustomization.yaml"));
  // Named explicitly, the same file is an error: the user asked for it.
  CHECK(run_command(lint("-f " + dir + "/kustomization.yaml")).exit_code == 2);
  const auto text = run_command(lint("-f " + dir));
  CHECK_THAT(text.out, Catch::Contains("2 non-Kubernetes documents skipped"));
}

TEST_CASE("lint cli: empty input (a failed helm template piped in) says so on stderr and exits 2") {
  const auto empty = run_command("printf '' | " + wirecheck_binary() + " lint -f - 2>&1");
  CHECK(empty.exit_code == 2);
  CHECK_THAT(empty.out, Catch::Contains("no Kubernetes objects found"));
  const auto comments = run_command("printf '# nothing\\n---\\n' | " + wirecheck_binary() + " lint -f - --format json 2>&1");
  CHECK(comments.exit_code == 2);
  CHECK_THAT(comments.out, Catch::Contains("no Kubernetes objects found"));
}

namespace {

// A namespace-less (unrendered) monitor and its Service.
constexpr const char* kNamespaceLess = R"(apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  endpoints: [{port: https, scheme: https, tlsConfig: {ca: {secret: {name: web-tls, key: ca.crt}}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{name: https, port: 443}]
)";

}  // namespace

TEST_CASE("lint cli: objects without a namespace use --namespace (default 'default'), never svc..svc") {
  const std::string input = "printf '%s' '" + std::string(kNamespaceLess) + "' | ";
  const auto r = run_command(input + lint("-f - --format json"));
  CHECK_THAT(r.out, Catch::Contains("web.default.svc"));
  CHECK_THAT(r.out, !Catch::Contains("..svc"));
  const auto team = run_command(input + lint("-f - --format json --namespace team"));
  CHECK_THAT(team.out, Catch::Contains("web.team.svc"));
  CHECK(json::parse(team.out)["findings"][0]["object"]["namespace"] == "team");
  CHECK(run_command(lint("-f - --namespace")).exit_code == 2);
}

TEST_CASE("lint cli: within an object, deny comes before warn before info in text output") {
  // A ServiceMonitor whose endpoints lost port, scheme and serverName to a
  // list-replacing patch (deny, deny, warn), and a Certificate for the
  // Service that leaves out its short names (info). Written here, not in
  // tests/fixtures: the seeded mutation test of the YAML front end draws from
  // every fixture file.
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("wirecheck-severities-" + std::to_string(::getpid()) + ".yaml")).string();
  {
    std::ofstream out(path);
    out << R"(apiVersion: v1
kind: Service
metadata:
  name: orders-metrics
  namespace: shop
  labels: {app: orders}
spec:
  selector: {app: orders}
  ports:
    - {name: https, port: 8443, targetPort: 8443}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: orders
  namespace: shop
spec:
  selector:
    matchLabels: {app: orders}
  endpoints:
    - tlsConfig:
        ca:
          secret: {name: orders-metrics-tls, key: ca.crt}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: orders-metrics-tls
  namespace: shop
spec:
  secretName: orders-metrics-tls
  dnsNames: [orders-metrics.shop.svc, orders-metrics.shop.svc.cluster.local]
  issuerRef: {kind: Issuer, name: shop-ca}
)";
  }
  const auto r = run_command(lint("--no-color -f " + path));
  std::filesystem::remove(path);
  auto rank = [](const std::string& line) {
    if (line.rfind("  DENY", 0) == 0) return 3;
    if (line.rfind("  WARN", 0) == 0) return 2;
    if (line.rfind("  INFO", 0) == 0) return 1;
    return 0;
  };
  int previous = 4, seen = 0;
  std::size_t start = 0;
  while (start < r.out.size()) {
    const std::size_t end = r.out.find('\n', start);
    const std::string line = r.out.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? r.out.size() : end + 1;
    if (!line.empty() && line[0] != ' ') previous = 4;  // a new object
    if (const int k = rank(line); k > 0) {
      INFO(line);
      CHECK(k <= previous);
      previous = k;
      ++seen;
    }
  }
  CHECK(seen >= 4);
}

TEST_CASE("lint cli: entries of one object that trip a rule are one finding in JSON, with every path") {
  const auto r = run_command(
      lint("-f " + fixtures_dir() + "/rules/servicemonitor-insecure-skip-verify/pass.kubelet-control-plane.yaml --format json"));
  const json out = json::parse(r.out);
  int count = 0;
  for (const json& f : out["findings"]) {
    if (f["rule"] != "servicemonitor-insecure-skip-verify") continue;
    ++count;
    CHECK(f["paths"].size() == 2);
    CHECK(f["path"] == f["paths"][0]);
  }
  CHECK(count == 1);
}

namespace {

// Runs `command` (whose stdout is SARIF) and validates it with ajv against the
// official SARIF 2.1.0 schema (scripts/install-sarif-validator.sh). A missing
// validator fails the test: it is installed by `make test`'s dependency step.
json validated_sarif(const std::string& command, const std::string& name) {
  const std::string dir = std::string(WIRECHECK_SOURCE_DIR) + "/tests/sarif";
  const std::string out = "/tmp/wirecheck-sarif-" + std::to_string(::getpid()) + "-" + name + ".json";
  run_command(command + " > '" + out + "'");
  const auto v = run_command("node '" + dir + "/validate.js' '" + out + "' 2>&1");
  INFO("SARIF case " << name << ": " << v.out);
  CHECK(v.exit_code == 0);
  if (v.exit_code == 2) FAIL("SARIF validator missing: run scripts/install-sarif-validator.sh");
  const json doc = json::parse(wirecheck::testing::read_file(out));
  std::remove(out.c_str());
  return doc;
}

}  // namespace

TEST_CASE("lint cli: SARIF validates against the official 2.1.0 schema: stdin, spaces, '#', relative and absolute") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("wirecheck sarif #" + std::to_string(::getpid()));
  fs::create_directories(root / "dir with space");
  const fs::path file = root / "dir with space" / "a#b c.yaml";
  fs::copy_file(fixtures_dir() + "/lint/metrics-service-broken.yaml", file, fs::copy_options::overwrite_existing);

  const json relative = validated_sarif("cd '" + root.string() + "' && " +
                                            lint("-f 'dir with space/a#b c.yaml' --format sarif"),
                                        "relative");
  const json& run = relative["runs"][0];
  const json& loc = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
  CHECK(loc["uri"] == "dir%20with%20space/a%23b%20c.yaml");
  CHECK(loc["uriBaseId"] == "SRCROOT");
  CHECK_THAT(run["originalUriBaseIds"]["SRCROOT"]["uri"].get<std::string>(), Catch::StartsWith("file:///"));
  CHECK_THAT(run["originalUriBaseIds"]["SRCROOT"]["uri"].get<std::string>(), Catch::EndsWith("/"));
  // helpUri only when the build was given the documentation's address
  // (cmake -DWIRECHECK_DOCS_URL=...), never a guessed one.
  const std::string docs_url = WIRECHECK_DOCS_URL;
  for (const json& rule : run["tool"]["driver"]["rules"]) {
    if (docs_url.empty()) {
      CHECK_FALSE(rule.contains("helpUri"));
    } else {
      CHECK(rule["helpUri"] == docs_url + "#" + rule["id"].get<std::string>());
    }
  }

  const json absolute = validated_sarif(lint("-f '" + file.string() + "' --format sarif"), "absolute");
  CHECK_THAT(absolute["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                 .get<std::string>(),
             Catch::StartsWith("file:///") && Catch::EndsWith("/a%23b%20c.yaml"));

  const json stdin_doc = validated_sarif("cat '" + file.string() + "' | " + lint("-f - --format sarif"), "stdin");
  CHECK_FALSE(stdin_doc["runs"][0]["results"].empty());

  validated_sarif(lint("-f '" + root.string() + "' --format sarif"), "directory");
  validated_sarif("printf 'apiVersion: v1\\nkind: Service\\nmetadata: {name: [x\\n' | " + lint("-f - --format sarif"),
                  "unreadable-stdin");
  validated_sarif(lint("-f " + fixtures_dir() + "/lint/repo --format sarif"), "skipped-documents");
  fs::remove_all(root);
}
