// The ops listener: /healthz, /readyz (ready only with a certificate) and
// /metrics in a format a standard Prometheus parser accepts (checked here
// line by line against the text exposition format 0.0.4).
#include <catch2/catch.hpp>
#include <httplib.h>

#include <map>
#include <regex>
#include <set>

#include "server_fixture.hpp"
#include "support.hpp"

using namespace wirecheck;
using namespace wirecheck::servertest;

namespace {

// Validates Prometheus text exposition; returns the problems found.
std::vector<std::string> exposition_problems(const std::string& text) {
  static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)");
  static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^\\"\n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^\\"\n])*")*)\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$)");
  std::vector<std::string> problems;
  std::map<std::string, std::string> types;
  std::set<std::string> sampled;
  std::string current;
  if (text.empty() || text.back() != '\n') problems.push_back("must end with a newline");
  std::istringstream in(text);
  std::string line;
  std::map<std::string, double> last_bucket;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.rfind("# HELP", 0) == 0) {
      if (!std::regex_match(line, m, kHelp)) problems.push_back("bad HELP: " + line);
    } else if (line.rfind("# TYPE", 0) == 0) {
      if (!std::regex_match(line, m, kType)) {
        problems.push_back("bad TYPE: " + line);
        continue;
      }
      if (types.count(m[1])) problems.push_back("TYPE twice: " + line);
      if (sampled.count(m[1])) problems.push_back("TYPE after samples: " + line);
      types[m[1]] = m[2];
      current = m[1];
    } else if (!line.empty() && line[0] == '#') {
      continue;
    } else if (!std::regex_match(line, m, kSample)) {
      problems.push_back("bad sample: " + line);
    } else {
      std::string name = m[1];
      std::string family = name;
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string s = suffix;
        if (types.count(name) == 0 && name.size() > s.size() &&
            name.compare(name.size() - s.size(), s.size(), s) == 0) {
          family = name.substr(0, name.size() - s.size());
        }
      }
      if (family != current) problems.push_back("sample outside its family block: " + line);
      if (types.count(family) == 0) problems.push_back("sample without TYPE: " + line);
      if (types[family] == "counter" && std::stod(m[7]) < 0) problems.push_back("negative counter: " + line);
      if (name == family + "_bucket") {
        const double v = std::stod(m[7]);
        if (last_bucket.count(family) && v < last_bucket[family]) problems.push_back("buckets not cumulative: " + line);
        last_bucket[family] = v;
      }
      sampled.insert(family);
    }
  }
  return problems;
}

}  // namespace

TEST_CASE("ops: /metrics parses as Prometheus text and carries the issue's series", "[server][ops]") {
  Harness harness;
  auto& ops = harness.ops();
  auto client = harness.client();
  server::HttpResponse r;
  for (const char* path : {"/validate/enforce", "/validate/warn", "/validate/audit"}) {
    REQUIRE(client->post(path, servicemonitor_review(bad_endpoints()).dump(), r));
  }
  REQUIRE(client->post("/validate", "garbage", r));
  REQUIRE(client->get("/validate", r));
  json exempted = servicemonitor_review(bad_endpoints());
  exempted["request"]["object"]["metadata"]["annotations"] = {
      {"ignore.wirecheck.dev/servicemonitor-insecure-skip-verify", "lab cluster, self-signed on purpose"}};
  REQUIRE(client->post("/validate", exempted.dump(), r));

  httplib::Client http("127.0.0.1", ops.port());
  http.set_connection_timeout(5);
  http.set_read_timeout(5);
  const auto res = http.Get("/metrics");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK_THAT(res->get_header_value("Content-Type"), Catch::StartsWith("text/plain; version=0.0.4"));
  const std::string text = res->body;
  const auto problems = exposition_problems(text);
  for (const auto& p : problems) FAIL_CHECK(p);
  CHECK(problems.empty());

  // The reference parser: the official Prometheus Python client's
  // (Debian's python3-prometheus-client, installed by scripts/install-deps.sh).
  servertest::TempDir tmp;
  const std::string path = tmp.file("metrics.txt");
  servertest::write_text(path, text);
  const auto parsed = wirecheck::testing::run_command(
      "/usr/bin/python3 -c 'import sys\n"
      "from prometheus_client.parser import text_string_to_metric_families as parse\n"
      "families = list(parse(open(sys.argv[1]).read()))\n"
      "print(len(families), sum(len(f.samples) for f in families))' " + path + " 2>&1");
  INFO("python prometheus_client parser: " << parsed.out);
  REQUIRE(parsed.exit_code == 0);
  CHECK(std::stoi(parsed.out) >= 10);

  CHECK_THAT(text, Catch::Contains(R"(wirecheck_admission_requests_total{operation="CREATE",kind="ServiceMonitor",mode="enforce",decision="denied"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(wirecheck_admission_requests_total{operation="CREATE",kind="ServiceMonitor",mode="audit",decision="allowed"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(wirecheck_findings_total{rule="servicemonitor-tls-servername",severity="deny",action="deny"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(wirecheck_findings_total{rule="servicemonitor-tls-servername",severity="deny",action="audit"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(wirecheck_exemptions_total{rule="servicemonitor-insecure-skip-verify"} 1)"));
  CHECK_THAT(text, Catch::Contains("wirecheck_admission_invalid_reviews_total 1"));
  CHECK_THAT(text, Catch::Contains(R"(wirecheck_http_rejected_requests_total{code="405"} 1)"));
  CHECK_THAT(text, Catch::Contains("wirecheck_admission_duration_seconds_count 5"));
  CHECK_THAT(text, Catch::Contains("wirecheck_build_info{version=\""));
  CHECK_THAT(text, Catch::Contains("wirecheck_certificate_not_after_seconds"));
}

TEST_CASE("ops: /healthz is 200 and /readyz is 200 only with a certificate loaded", "[server][ops]") {
  Harness harness;
  httplib::Client http("127.0.0.1", harness.ops().port());
  http.set_read_timeout(5);
  auto health = http.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto ready = http.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);

  server::Metrics metrics(registered_rule_ids());
  server::CertStore missing("/nonexistent/tls.crt", "/nonexistent/tls.key");
  CHECK_FALSE(missing.reload().ok());
  server::OpsServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  server::OpsServer ops(metrics, [&]() -> std::string { return missing.loaded() ? "" : "serving certificate not loaded"; }, o);
  REQUIRE(ops.bind().ok());
  ops.start();
  httplib::Client other("127.0.0.1", ops.port());
  other.set_read_timeout(5);
  auto not_ready = other.Get("/readyz");
  REQUIRE(not_ready);
  CHECK(not_ready->status == 503);
  CHECK_THAT(not_ready->body, Catch::Contains("certificate"));
}

TEST_CASE("ops: the ops listener can serve HTTPS with its own certificate", "[server][ops]") {
  Harness harness;
  server::CertStore ops_certs(harness.dir().file("tls.crt"), harness.dir().file("tls.key"));
  REQUIRE(ops_certs.reload().ok());
  server::Metrics metrics(registered_rule_ids());
  server::OpsServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.tls = &ops_certs;
  server::OpsServer ops(metrics, nullptr, o);
  REQUIRE(ops.bind().ok());
  ops.start();
  auto options = harness.client_options();
  options.port = ops.port();
  server::HttpsClient client(options);
  server::HttpResponse r;
  REQUIRE(client.get("/metrics", r));
  CHECK(r.status == 200);
  CHECK_THAT(r.body, Catch::Contains("wirecheck_build_info"));
}

TEST_CASE("ops: a second listener on a port already serving is refused (no SO_REUSEPORT sharing)", "[server][ops]") {
  server::Metrics metrics(registered_rule_ids());
  server::OpsServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  server::OpsServer first(metrics, nullptr, o);
  REQUIRE(first.bind().ok());
  first.start();
  o.port = first.port();
  server::OpsServer second(metrics, nullptr, o);
  const auto status = second.bind();
  REQUIRE_FALSE(status.ok());
  CHECK_THAT(status.error(), Catch::Contains("in use"));
  first.stop(true);
}

TEST_CASE("ops: the ops listener closes silent and idle connections on the webhook's deadlines", "[server][ops]") {
  HarnessOptions o;
  o.head_timeout = std::chrono::milliseconds(800);
  o.idle_timeout = std::chrono::milliseconds(800);
  Harness harness(o);
  const int port = harness.ops().port();
  // A connection that never sends a request: cut at the head deadline.
  const int silent = tcp_connect(port);
  REQUIRE(silent >= 0);
  // A keep-alive connection after one answer: closed at the idle deadline.
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  auto r = client.Get("/healthz");
  REQUIRE(r);
  CHECK(r->status == 200);
  const auto& t = harness.metrics().ops_transport();
  CHECK(eventually([&] { return t.deadlines(server::Deadline::kHead) == 1; }, std::chrono::milliseconds(3000)));
  CHECK(eventually([&] {
    return harness.metrics().render().find(
               R"(wirecheck_http_idle_connections_closed_total{listener="ops",reason="timeout"} 1)") != std::string::npos;
  }, std::chrono::milliseconds(3000)));
  CHECK(eventually([&] { return t.open() == 0; }, std::chrono::milliseconds(3000)));
  ::close(silent);
}
