// `wirecheck lint` as a user runs it: the real binary, files and stdin,
// every output format, exit codes.
#include <catch2/catch.hpp>

#include <cstdlib>
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
