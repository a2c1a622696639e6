// The audit runner over manifests as its object source: the complete view
// turns missing counterparts into deny, kinds that failed to list are
// errors and skip the rules that need them, not-served kinds are empty; and
// the PolicyReport shape of its findings.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/report.hpp"
#include "cluster/audit.hpp"
#include "cluster/policy_report.hpp"
#include "support.hpp"

using namespace wirecheck;
using core::Kind;

namespace {

constexpr const char* kBrokenRelease = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: manager, namespace: op}
spec:
  selector: {matchLabels: {app: manager}}
  template:
    metadata: {labels: {app: manager}}
    spec:
      containers:
      - name: manager
        image: example.invalid/manager:v1
        ports: [{name: webhook-server, containerPort: 9443}]
---
apiVersion: v1
kind: Service
metadata: {name: metrics, namespace: op}
spec:
  selector: {app: manager}
  ports: [{name: https, port: 8443, targetPort: https}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: op-validating}
webhooks:
- name: check.op.example.com
  sideEffects: None
  admissionReviewVersions: [v1]
  clientConfig:
    service: {name: op-webhook-service, namespace: op, path: /validate}
)";

// An ObjectSource over manifests; `failing` kinds fail, `absent` are not served.
cluster::ObjectSource source_of(const core::ManifestSet& set, std::vector<Kind> failing = {},
                                std::vector<Kind> absent = {}) {
  return [set, failing, absent](Kind kind) {
    cluster::KindListing l;
    if (std::find(failing.begin(), failing.end(), kind) != failing.end()) {
      l.status = cluster::KindListing::Status::kFailed;
      l.error = "HTTP 403";
      return l;
    }
    if (std::find(absent.begin(), absent.end(), kind) != absent.end()) {
      l.status = cluster::KindListing::Status::kNotServed;
      return l;
    }
    for (const core::Object& o : set.objects) {
      if (o.kind != kind) continue;
      core::Object listed = o;
      listed.set_source({});  // objects from the API server come from no file
      l.objects.push_back(std::make_shared<const core::Object>(std::move(listed)));
    }
    return l;
  };
}

const policy::Finding* find(const policy::LintReport& r, std::string_view rule, std::string_view kind) {
  for (const policy::Finding& f : r.findings) {
    if (f.rule == rule && f.object.kind == kind) return &f;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("audit: the same findings as lint, missing counterparts deny, cluster identity", "[cluster][audit]") {
  const core::ManifestSet set = testing::load_yaml(kBrokenRelease);
  const policy::Engine engine;
  cluster::ClusterView view;
  const policy::LintReport audit = cluster::run_audit(engine, source_of(set), view);
  core::ManifestSet linted = set;
  const policy::LintReport lint = policy::lint_manifests(linted, engine);

  REQUIRE(audit.findings.size() == lint.findings.size());
  for (const policy::Finding& l : lint.findings) {
    const policy::Finding* a = find(audit, l.rule, l.object.kind);
    REQUIRE(a != nullptr);
    INFO(l.rule << ": lint " << policy::severity_name(l.severity) << ", audit " << policy::severity_name(a->severity));
    CHECK((a->severity == l.severity ||
           (l.severity == policy::Severity::kWarn && a->severity == policy::Severity::kDeny)));
    CHECK(a->source.file.empty());
  }
  const policy::Finding* missing = find(audit, "webhook-service-missing", "ValidatingWebhookConfiguration");
  REQUIRE(missing != nullptr);
  CHECK(missing->severity == policy::Severity::kDeny);
  CHECK(find(lint, "webhook-service-missing", "ValidatingWebhookConfiguration")->severity == policy::Severity::kWarn);
  CHECK(audit.summary.objects == 3);
  CHECK(audit.errors.empty());
}

TEST_CASE("audit: SARIF of cluster findings (no file) validates against the official 2.1.0 schema",
          "[cluster][audit]") {
  const core::ManifestSet set = testing::load_yaml(kBrokenRelease);
  const policy::Engine engine;
  cluster::ClusterView view;
  const policy::LintReport audit = cluster::run_audit(engine, source_of(set), view);
  REQUIRE(!audit.findings.empty());
  const std::string sarif = cli::format_sarif(audit);
  const std::string file = "/tmp/wirecheck-audit-sarif-" + std::to_string(::getpid()) + ".json";
  std::ofstream(file) << sarif;
  // scripts/install-sarif-validator.sh (make test's dependency step).
  const auto v = testing::run_command("node '" + std::string(WIRECHECK_SOURCE_DIR) + "/tests/sarif/validate.js' '" +
                                      file + "' 2>&1");
  std::remove(file.c_str());
  INFO(v.out);
  CHECK(v.exit_code == 0);
  const nlohmann::json parsed = nlohmann::json::parse(sarif);  // outlives the loop below
  for (const nlohmann::json& result : parsed["runs"][0]["results"]) {
    const nlohmann::json& where = result["locations"][0];
    CHECK(!where.contains("physicalLocation"));
    CHECK(where["logicalLocations"][0]["fullyQualifiedName"].get<std::string>().find('/') != std::string::npos);
  }
}

TEST_CASE("audit: a kind that cannot be listed is an error and its rules are skipped, not misjudged",
          "[cluster][audit]") {
  const core::ManifestSet set = testing::load_yaml(kBrokenRelease);
  const policy::Engine engine;
  cluster::ClusterView view;
  const policy::LintReport audit = cluster::run_audit(engine, source_of(set, {Kind::kService}), view);
  REQUIRE(audit.errors.size() == 1);
  CHECK(audit.errors[0].file == "Service");
  CHECK(testing::contains(audit.errors[0].message, "HTTP 403"));
  // Without Services the view cannot say the webhook's Service is missing.
  CHECK(find(audit, "webhook-service-missing", "ValidatingWebhookConfiguration") == nullptr);
}

TEST_CASE("audit: a kind that is not served is known to be empty", "[cluster][audit]") {
  const core::ManifestSet set = testing::load_yaml(kBrokenRelease);
  const policy::Engine engine;
  cluster::ClusterView view;
  const policy::LintReport audit =
      cluster::run_audit(engine, source_of(set, {}, {Kind::kServiceMonitor, Kind::kCertificate}), view);
  CHECK(audit.errors.empty());
  CHECK(view.not_served == std::vector<Kind>{Kind::kServiceMonitor, Kind::kCertificate});
  CHECK(find(audit, "webhook-service-missing", "ValidatingWebhookConfiguration") != nullptr);
}

TEST_CASE("audit: the audited kinds are those enabled rules read, and progress is reported", "[cluster][audit]") {
  const policy::Engine engine;
  const auto kinds = cluster::audited_kinds(engine);
  CHECK(std::find(kinds.begin(), kinds.end(), Kind::kService) != kinds.end());
  CHECK(std::find(kinds.begin(), kinds.end(), Kind::kValidatingWebhookConfiguration) != kinds.end());
  CHECK(std::find(kinds.begin(), kinds.end(), Kind::kOther) == kinds.end());
  std::size_t calls = 0;
  cluster::AuditProgress last;
  cluster::ClusterView view;
  cluster::run_audit(engine, source_of(testing::load_yaml(kBrokenRelease)), view,
                     [&](const cluster::AuditProgress& p) {
                       ++calls;
                       last = p;
                     });
  CHECK(calls > kinds.size());
  CHECK(last.evaluating);
  CHECK(last.kinds_done == kinds.size());
  CHECK(last.objects_evaluated == 3);
}

TEST_CASE("policy report: one report per namespace and a cluster report; results mapped per severity",
          "[cluster][policyreport]") {
  const core::ManifestSet set = testing::load_yaml(kBrokenRelease);
  const policy::Engine engine;
  cluster::ClusterView view;
  policy::LintReport audit = cluster::run_audit(engine, source_of(set), view);
  policy::Finding info = audit.findings.front();
  info.severity = policy::Severity::kInfo;
  info.rule = "certificate-incomplete-service-sans";
  audit.findings.push_back(info);
  policy::Finding exempt = audit.findings.front();
  exempt.exempted = true;
  exempt.exemption_reason = "known";
  audit.findings.push_back(exempt);

  const auto reports = cluster::policy_reports(audit.findings, 1700000000);
  REQUIRE(reports.size() == 2);
  const auto& ns = reports[0];
  const auto& cluster_report = reports[1];
  CHECK(ns["apiVersion"] == "wgpolicyk8s.io/v1alpha2");
  CHECK(ns["kind"] == "PolicyReport");
  CHECK(ns["metadata"]["namespace"] == "op");
  CHECK(cluster_report["kind"] == "ClusterPolicyReport");
  CHECK_FALSE(cluster_report["metadata"].contains("namespace"));
  int fail = 0;
  for (const auto& r : cluster_report["results"]) {
    CHECK(r["policy"] == "wirecheck");
    CHECK(r["source"] == "wirecheck");
    CHECK(r["resources"][0]["kind"] == "ValidatingWebhookConfiguration");
    CHECK(r["resources"][0]["name"] == "op-validating");
    CHECK_FALSE(r["resources"][0].contains("namespace"));
    if (r["rule"] == "webhook-service-missing") {
      CHECK(r["result"] == "fail");
      CHECK(r["severity"] == "high");
      CHECK(r["properties"]["fix"].get<std::string>().find("create Service op/op-webhook-service") == 0);
      ++fail;
    }
  }
  CHECK(fail == 1);
  const auto& summary = ns["summary"];
  std::map<std::string, int> counted;
  for (const auto& r : ns["results"]) counted[r["result"].get<std::string>()]++;
  for (const char* k : {"pass", "fail", "warn", "error", "skip"}) CHECK(summary[k] == counted[k]);
  CHECK(counted["pass"] == 1);  // the info finding
  CHECK(counted["skip"] == 1);  // the exempted one
  for (const auto& r : ns["results"]) {
    if (r["result"] == "skip") CHECK(r["properties"]["exemption"] == "known");
  }
}

TEST_CASE("policy report: namespaces asked for get an empty report", "[cluster][policyreport]") {
  const auto reports = cluster::policy_reports({}, 1, {"a", "b"}, true);
  REQUIRE(reports.size() == 3);
  CHECK(reports[0]["metadata"]["namespace"] == "a");
  CHECK(reports[2]["kind"] == "ClusterPolicyReport");
  CHECK(reports[2]["results"].empty());
  CHECK(reports[2]["summary"]["fail"] == 0);
}

TEST_CASE("audit cli: usage errors and an unreachable cluster exit 2 with a clear message", "[cluster][audit]") {
  const std::string bin = testing::wirecheck_binary();
  auto r = testing::run_command(bin + " audit --format yaml 2>&1");
  CHECK(r.exit_code == 2);
  CHECK(testing::contains(r.out, "--format must be text, json, sarif or policyreport"));
  r = testing::run_command(bin + " audit --probe-timeout soon 2>&1");
  CHECK(r.exit_code == 2);
  r = testing::run_command(bin + " audit --kubeconfig /nonexistent/kubeconfig 2>&1");
  CHECK(r.exit_code == 2);
  CHECK(testing::contains(r.out, "wirecheck audit: cannot find the cluster"));
  // A kubeconfig pointing at a port where nothing listens: nothing can be listed.
  const std::string dir = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  const std::string kc = dir + "/wirecheck-audit-test-kubeconfig";
  std::FILE* f = std::fopen(kc.c_str(), "w");
  REQUIRE(f != nullptr);
  std::fputs("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster: {server: "
             "'https://127.0.0.1:1', insecure-skip-tls-verify: true}\ncontexts:\n- name: c\n  context: {cluster: k, "
             "user: u}\nusers:\n- name: u\n  user: {token: t}\n",
             f);
  std::fclose(f);
  r = testing::run_command(bin + " audit --kubeconfig " + kc + " 2>&1");
  std::remove(kc.c_str());
  CHECK(r.exit_code == 2);
  CHECK(testing::contains(r.out, "cannot list anything from https://127.0.0.1:1"));
  r = testing::run_command(bin + " audit --help");
  CHECK(r.exit_code == 0);
  CHECK(testing::contains(r.out, "--format FORMAT"));
}
