// Engine behaviour that no single rule owns: kind matching, operations,
// severity overrides, disabled rules, exemptions, context availability.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>

#include "support.hpp"
#include "wirecheck/context.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/lint.hpp"
#include "wirecheck/object_index.hpp"

using namespace wirecheck;
using policy::Operation;
using policy::Severity;

namespace {

// A monitor that trips two self-contained rules (RULES.md):
// servicemonitor-insecure-skip-verify (warn) and nothing that needs context.
constexpr const char* kInsecureMonitor = R"(apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: m
  namespace: n
  annotations: {}
spec:
  selector: {matchLabels: {app: a}}
  endpoints:
  - port: https
    scheme: https
    tlsConfig: {insecureSkipVerify: true}
)";

std::string with_annotation(const std::string& yaml, const std::string& annotation) {
  std::string out = yaml;
  out.replace(out.find("annotations: {}"), 15, "annotations: {" + annotation + "}");
  return out;
}

}  // namespace

TEST_CASE("engine: a rule's finding carries the object, path, message and fix") {
  const auto set = testing::load_yaml(kInsecureMonitor);
  const auto found = testing::of_rule(testing::evaluate(set), "servicemonitor-insecure-skip-verify");
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::kWarn);
  CHECK(found[0].object.kind == "ServiceMonitor");
  CHECK(found[0].object.ns == "n");
  CHECK(found[0].object.name == "m");
  CHECK(found[0].path == "spec.endpoints[0].tlsConfig.insecureSkipVerify");
  CHECK_FALSE(found[0].exempted);
  CHECK(found[0].source.file == "<test>");
  CHECK(found[0].source.line == 1);
}

TEST_CASE("engine: an exemption annotation with a reason exempts, an empty one says it does not") {
  auto exempt = testing::load_yaml(with_annotation(
      kInsecureMonitor, "ignore.wirecheck.dev/servicemonitor-insecure-skip-verify: \"self-signed, tracked in OPS-1\""));
  auto found = testing::of_rule(testing::evaluate(exempt), "servicemonitor-insecure-skip-verify");
  REQUIRE(found.size() == 1);
  CHECK(found[0].exempted);
  CHECK(found[0].exemption_reason == "self-signed, tracked in OPS-1");

  const auto empty = testing::load_yaml(
      with_annotation(kInsecureMonitor, "ignore.wirecheck.dev/servicemonitor-insecure-skip-verify: \"\""));
  found = testing::of_rule(testing::evaluate(empty), "servicemonitor-insecure-skip-verify");
  REQUIRE(found.size() == 1);
  CHECK_FALSE(found[0].exempted);
  CHECK(found[0].message.find("empty reason") != std::string::npos);

  // An exemption names one rule only.
  const auto other = testing::load_yaml(
      with_annotation(kInsecureMonitor, "ignore.wirecheck.dev/some-other-rule: \"x\""));
  found = testing::of_rule(testing::evaluate(other), "servicemonitor-insecure-skip-verify");
  REQUIRE(found.size() == 1);
  CHECK_FALSE(found[0].exempted);
}

TEST_CASE("engine: exempted findings are counted in the lint summary, not as deny/warn") {
  auto exempt = testing::load_yaml(with_annotation(
      kInsecureMonitor, "ignore.wirecheck.dev/servicemonitor-insecure-skip-verify: \"lab only\""));
  const policy::Engine engine;
  const auto report = policy::lint_manifests(exempt, engine);
  CHECK(report.summary.exempted >= 1);
  for (const auto& f : report.findings) {
    if (f.rule == "servicemonitor-insecure-skip-verify") CHECK(f.exempted);
  }
}

TEST_CASE("engine: configuration overrides a rule's severity or disables it") {
  const auto set = testing::load_yaml(kInsecureMonitor);
  auto settings = policy::parse_settings("rules:\n  servicemonitor-insecure-skip-verify: {severity: deny}\n");
  REQUIRE(settings.ok());
  auto found = testing::of_rule(testing::evaluate(set, 0, Operation::kCreate, nullptr, settings.value()),
                                "servicemonitor-insecure-skip-verify");
  REQUIRE(found.size() == 1);
  CHECK(found[0].severity == Severity::kDeny);

  settings = policy::parse_settings("rules:\n  servicemonitor-insecure-skip-verify: off\n");
  REQUIRE(settings.ok());
  found = testing::of_rule(testing::evaluate(set, 0, Operation::kCreate, nullptr, settings.value()),
                           "servicemonitor-insecure-skip-verify");
  CHECK(found.empty());
  const policy::Engine engine(settings.value());
  CHECK(engine.inspects(core::Kind::kServiceMonitor, Operation::kCreate));
}

TEST_CASE("engine: rules that need context are skipped when the context does not know the kinds") {
  // A Service whose selector matches nothing: service-selects-nothing needs workloads.
  const auto set = testing::load_yaml(R"(apiVersion: v1
kind: Service
metadata: {name: s, namespace: n}
spec:
  selector: {app: nothing-here}
  ports: [{name: http, port: 80, targetPort: http}]
)");
  const policy::Engine engine;
  // Complete view: in a partial one a namespace without workloads is no finding.
  policy::ObjectIndex full(/*complete=*/true);
  full.add_all(set.objects);
  const auto with_context = engine.evaluate(set.objects[0], nullptr, Operation::kCreate, full);
  CHECK_FALSE(testing::of_rule(with_context, "service-selects-nothing").empty());

  const policy::EmptyContext none;
  const auto without = engine.evaluate(set.objects[0], nullptr, Operation::kCreate, none);
  CHECK(testing::of_rule(without, "service-selects-nothing").empty());
  CHECK(testing::of_rule(without, "service-target-port-missing").empty());

  // Skipped, but never silently: the engine says which rules and why.
  std::vector<policy::SkippedRule> skipped;
  engine.evaluate(set.objects[0], nullptr, Operation::kCreate, none, &skipped);
  std::vector<std::string> ids;
  for (const auto& s : skipped) {
    ids.emplace_back(s.rule);
    CHECK(s.reason == "no_cluster_view");
  }
  CHECK(std::find(ids.begin(), ids.end(), "service-selects-nothing") != ids.end());
  CHECK(std::find(ids.begin(), ids.end(), "service-target-port-missing") != ids.end());
  skipped.clear();
  engine.evaluate(set.objects[0], nullptr, Operation::kCreate, full, &skipped);
  CHECK(skipped.empty());
}

TEST_CASE("engine: DELETE runs only rules that look at deletes, writes only the others") {
  const auto set = testing::load_yaml(kInsecureMonitor);
  const policy::Engine engine;
  policy::ObjectIndex ctx;
  ctx.add_all(set.objects);
  CHECK(engine.evaluate(set.objects[0], &set.objects[0], Operation::kDelete, ctx).empty());
  CHECK_FALSE(engine.evaluate(set.objects[0], nullptr, Operation::kUpdate, ctx).empty());
  CHECK_FALSE(engine.inspects(core::Kind::kServiceMonitor, Operation::kDelete));
  CHECK_FALSE(engine.inspects(core::Kind::kOther, Operation::kCreate));
}

TEST_CASE("settings: unknown keys, unknown rules and bad values are errors that name the problem") {
  auto r = policy::parse_settings("rules:\n  no-such-rule: off\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("no-such-rule") != std::string::npos);
  r = policy::parse_settings("colour: blue\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("colour") != std::string::npos);
  r = policy::parse_settings("rules:\n  servicemonitor-insecure-skip-verify: {severity: loud}\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("severity") != std::string::npos);
  r = policy::parse_settings("rules: [\n");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("invalid configuration") != std::string::npos);
  CHECK_FALSE(policy::load_settings_file("/nonexistent/config.yaml").ok());
}

TEST_CASE("settings: extra listen flags and host/port pairs extend the built-in tables") {
  auto r = policy::parse_settings(
      "loopbackFlags: [my-listen, -stats-addr]\n"
      "hostPortFlags: [{host: --admin-host, port: --admin-port, defaultPort: 9000}]\n"
      "caBundleExpiryDays: 14\n");
  REQUIRE(r.ok());
  const auto& s = r.value();
  const auto defaults = policy::Settings::defaults();
  CHECK(s.listen_flags.size() == defaults.listen_flags.size() + 2);
  CHECK(s.listen_flags.back() == "--stats-addr");
  CHECK(s.host_port_flags.back().host_flag == "--admin-host");
  CHECK(*s.host_port_flags.back().default_port == 9000);
  CHECK(s.ca_expiry_warn_days == 14);
  CHECK(policy::parse_settings("").ok());
}

TEST_CASE("engine: an object over its decode limits is not evaluated; evaluate says so in one warn finding") {
  core::Object o = testing::load_yaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: big, namespace: demo}
spec:
  template:
    spec:
      containers:
        - name: app
          args: ["--metrics-bind-address=127.0.0.1:8080"]
          readinessProbe: {httpGet: {port: 8080}}
)").objects.front();
  const policy::Engine engine;
  const policy::EmptyContext none;
  REQUIRE_FALSE(engine.evaluate(o, nullptr, Operation::kCreate, none).empty());  // it does break a rule

  o.over_limit = {"containers", 5000, 1000};
  const auto findings = engine.evaluate(o, nullptr, Operation::kCreate, none);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].rule == policy::kNotCheckedRule);
  CHECK(findings[0].severity == policy::Severity::kWarn);
  CHECK(findings[0].object.name == "big");
  CHECK(findings[0].message == "not checked: it holds at least 5000 containers, over wirecheck's limit of 1000 per object");

  const policy::Evaluation e = engine.check(o, nullptr, Operation::kCreate, none);
  CHECK(e.findings.empty());
  REQUIRE(e.not_checked);
  CHECK(e.not_checked->reason == policy::NotChecked::Reason::kObjectLimit);
}

TEST_CASE("engine: a passed deadline stops evaluation with the budget reason and no partial findings") {
  const auto set = testing::load_fixture("rules/probe-targets-loopback-port/fail.ksm-rbac-proxy-probes.yaml");
  const policy::Engine engine;
  const policy::EmptyContext none;
  const auto past = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  const policy::Evaluation e = engine.check(set.objects[0], nullptr, Operation::kCreate, none, past);
  CHECK(e.findings.empty());
  REQUIRE(e.not_checked);
  CHECK(e.not_checked->reason == policy::NotChecked::Reason::kBudget);
  CHECK_THAT(e.not_checked->message, Catch::StartsWith("not checked: evaluation ran past its time budget"));

  const auto future = std::chrono::steady_clock::now() + std::chrono::hours(1);
  const policy::Evaluation in_time = engine.check(set.objects[0], nullptr, Operation::kCreate, none, future);
  CHECK_FALSE(in_time.not_checked);
  CHECK_FALSE(in_time.findings.empty());
}

TEST_CASE("engine: an old object over its limits is ignored, the change judged like a create") {
  const auto set = testing::load_fixture("rules/probe-targets-loopback-port/fail.ksm-rbac-proxy-probes.yaml");
  core::Object old = set.objects[0];
  old.over_limit = {"containers", 5000, 1000};
  const policy::Engine engine;
  const policy::EmptyContext none;
  const policy::Evaluation e = engine.check(set.objects[0], &old, Operation::kUpdate, none);
  CHECK_FALSE(e.not_checked);
  CHECK(e.findings.size() == engine.evaluate(set.objects[0], nullptr, Operation::kUpdate, none).size());
}

TEST_CASE("engine: the evaluation memo builds a value once per type and subject") {
  policy::EvaluationMemo memo;
  int builds = 0;
  const int a = 0;
  const int b = 0;
  const auto build = [&] { return ++builds; };
  CHECK(memo.get<int>(&a, build) == 1);
  CHECK(memo.get<int>(&a, build) == 1);  // the first value, not built again
  CHECK(memo.get<int>(&b, build) == 2);  // another subject
  CHECK(memo.get<long>(&a, [&] { return 7L; }) == 7L);  // another type, same subject
  CHECK(builds == 2);
}

TEST_CASE("engine: rules sharing the loopback binds report as when each runs alone") {
  // probe-targets-loopback-port, probe-port-not-declared and
  // rbac-proxy-bypass read the binds of the same pod template: whichever
  // runs first builds them for the others.
  const auto set = testing::load_yaml(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: ns}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - name: proxy
        image: kube-rbac-proxy
        args: ["--secure-listen-address=0.0.0.0:8443", "--upstream=http://127.0.0.1:8080/"]
      - name: manager
        image: manager
        args: ["--metrics-bind-address=:8080", "--health-probe-bind-address=127.0.0.1:8081"]
        readinessProbe: {httpGet: {path: /readyz, port: 8081}}
        livenessProbe: {httpGet: {path: /healthz, port: healthz}}
)");
  const policy::EmptyContext none;
  const auto all = policy::Engine().evaluate(set.objects[0], nullptr, Operation::kCreate, none);
  for (const std::string_view only : {"probe-targets-loopback-port", "rbac-proxy-bypass", "probe-port-not-declared"}) {
    policy::Settings settings = policy::Settings::defaults();
    for (const policy::RuleSpec& spec : policy::Registry::all()) {
      if (spec.id != only) settings.rules[std::string(spec.id)].disabled = true;
    }
    const auto alone = policy::Engine(settings).evaluate(set.objects[0], nullptr, Operation::kCreate, none);
    REQUIRE(alone.size() == 1);
    const auto same = std::find_if(all.begin(), all.end(), [&](const auto& f) { return f.rule == only; });
    REQUIRE(same != all.end());
    CHECK(same->message == alone[0].message);
    CHECK(same->fix == alone[0].fix);
    CHECK(same->paths == alone[0].paths);
  }
}
