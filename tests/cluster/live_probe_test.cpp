// Live checks against real TLS servers on 127.0.0.1 holding certificates made
// by the test (right, unknown CA, wrong SAN, expired, not yet valid), with a
// route that points the cluster addresses of the view at them.

#include <catch2/catch.hpp>
#include <map>

#include "cluster/live_probe.hpp"
#include "cluster/tls_server.hpp"
#include "server/server_fixture.hpp"
#include "support.hpp"
#include "wirecheck/object_index.hpp"

using namespace wirecheck;
using cluster::ProbeOutcome;
using servertest::TestCert;
using clustertest::TlsServer;

namespace {

constexpr long kDay = 24 * 3600;

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

struct Fixture {
  std::unique_ptr<TestCert> ca = TestCert::ca("webhook-ca");
  std::unique_ptr<TestCert> other_ca = TestCert::ca("someone-elses-ca");
};

core::ManifestSet webhook_config(const std::string& ca_pem, const std::string& failure_policy = "Fail",
                                 const std::string& client_config = "") {
  const std::string cc = client_config.empty()
                             ? "service: {name: webhook, namespace: wc, port: 443, path: /validate}"
                             : client_config;
  return testing::load_yaml(R"(apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: example}
webhooks:
- name: check.example.com
  failurePolicy: )" + failure_policy + R"(
  sideEffects: None
  admissionReviewVersions: [v1]
  clientConfig:
    )" + cc + R"(
    caBundle: )" + base64(ca_pem) + "\n");
}

// The Service resolves to ClusterIP 10.96.0.10 (unroutable here: times out)
// and one ready endpoint 10.244.0.5:9443, which is the test server.
cluster::ServiceBackends backends(const std::string&, const std::string&, int) {
  cluster::ServiceBackends b;
  b.found = true;
  b.type = "ClusterIP";
  b.cluster_ip = "10.96.0.10";
  b.ready = {{"10.244.0.5", 9443}};
  return b;
}

cluster::ProbeOptions pointing_at(int port) {
  cluster::ProbeOptions o;
  o.timeout = std::chrono::milliseconds(2000);
  o.route = [port](const std::string& host, int p) {
    if (host == "10.244.0.5" && p == 9443) return cluster::Route{"127.0.0.1", port, ""};
    return cluster::Route{"", 0, "connection timed out after 1000 ms"};
  };
  return o;
}

struct Probed {
  cluster::ProbeReport report;
  std::vector<policy::Finding> of(std::string_view rule) const { return testing::of_rule(report.findings, rule); }
};

Probed probe(const core::ManifestSet& set, const cluster::ProbeOptions& options,
             const cluster::BackendResolver& resolve = &backends) {
  policy::ObjectIndex view(true);
  view.add_all(set.objects);
  const policy::Engine engine;
  return {cluster::probe_live(engine, view, resolve, options)};
}

}  // namespace

TEST_CASE("live probe: a certificate for <svc>.<ns>.svc from the caBundle's CA verifies; nothing is sent",
          "[cluster][probe]") {
  Fixture f;
  TlsServer server(f.ca->issue("webhook", 2, "DNS:webhook.wc.svc")->pem());
  const Probed p = probe(webhook_config(f.ca->pem().cert), pointing_at(server.port()));
  REQUIRE(p.report.outcomes.size() == 1);
  const ProbeOutcome& o = p.report.outcomes[0];
  INFO(o.detail);
  CHECK(o.status == ProbeOutcome::Status::kOk);
  // The ClusterIP did not route from here; the ready endpoint did.
  CHECK(o.connected_to == "10.244.0.5:9443 (endpoint)");
  CHECK(p.report.findings.empty());
  // The server counts after its SSL_accept returns, which may be after the probe has.
  CHECK(servertest::eventually([&] { return server.handshakes() == 1; }));
  CHECK(server.bytes_received() == 0);
}

TEST_CASE("live probe: each wrong certificate is untrusted with OpenSSL's error and what was served",
          "[cluster][probe]") {
  Fixture f;
  struct Case {
    const char* name;
    std::unique_ptr<TestCert> cert;
    std::vector<std::string> expect;
  };
  std::vector<Case> cases;
  cases.push_back({"unknown CA", f.other_ca->issue("webhook", 3, "DNS:webhook.wc.svc"),
                   {"unable to get local issuer certificate", "issuer CN=someone-elses-ca",
                    "chain does not verify", "name webhook.wc.svc is in the SANs"}});
  cases.push_back({"wrong SAN", f.ca->issue("webhook", 4, "DNS:webhook.other.svc,DNS:localhost"),
                   {"hostname mismatch", "SANs DNS:webhook.other.svc,DNS:localhost", "chain verifies",
                    "name webhook.wc.svc is not in the SANs"}});
  cases.push_back({"expired", f.ca->issue("webhook", 5, "DNS:webhook.wc.svc", false, -10 * kDay, -kDay),
                   {"certificate has expired", "notAfter 20"}});
  cases.push_back({"not yet valid", f.ca->issue("webhook", 6, "DNS:webhook.wc.svc", false, kDay, 30 * kDay),
                   {"certificate is not yet valid"}});
  cases.push_back({"Common Name only", f.ca->issue("webhook.wc.svc", 7, ""),
                   {"hostname mismatch", "SANs none (Go ignores the Common Name)"}});
  for (Case& c : cases) {
    SECTION(c.name) {
      TlsServer server(c.cert->pem());
      const Probed p = probe(webhook_config(f.ca->pem().cert), pointing_at(server.port()));
      const auto found = p.of(cluster::kTlsUntrustedRule);
      REQUIRE(found.size() == 1);
      const policy::Finding& finding = found[0];
      INFO(finding.message);
      CHECK(finding.severity == policy::Severity::kDeny);
      CHECK(finding.object.kind == "ValidatingWebhookConfiguration");
      CHECK(finding.object.name == "example");
      CHECK(finding.path == "webhooks[0].clientConfig.service");
      CHECK(testing::contains(finding.message, "webhook \"check.example.com\" (webhook.wc.svc:443)"));
      CHECK(testing::contains(finding.message, "TLS verification for webhook.wc.svc against caBundle fails"));
      CHECK(testing::contains(finding.message, "subject CN="));
      for (const std::string& part : c.expect) CHECK(testing::contains(finding.message, part));
      CHECK_FALSE(finding.fix.empty());
      CHECK(server.bytes_received() == 0);
    }
  }
}

TEST_CASE("live probe: the fix names what to change for each failure", "[cluster][probe]") {
  Fixture f;
  SECTION("wrong SAN -> reissue with the API server's name") {
    TlsServer server(f.ca->issue("webhook", 8, "DNS:webhook")->pem());
    const Probed p = probe(webhook_config(f.ca->pem().cert), pointing_at(server.port()));
    REQUIRE(p.of(cluster::kTlsUntrustedRule).size() == 1);
    CHECK(testing::contains(p.of(cluster::kTlsUntrustedRule)[0].fix, "SAN DNS:webhook.wc.svc"));
  }
  SECTION("unknown CA -> caBundle from the issuer") {
    TlsServer server(f.other_ca->issue("webhook", 9, "DNS:webhook.wc.svc")->pem());
    const Probed p = probe(webhook_config(f.ca->pem().cert), pointing_at(server.port()));
    REQUIRE(p.of(cluster::kTlsUntrustedRule).size() == 1);
    CHECK(testing::contains(p.of(cluster::kTlsUntrustedRule)[0].fix, "issuer CN=someone-elses-ca"));
  }
}

TEST_CASE("live probe: failurePolicy Ignore makes the finding warn", "[cluster][probe]") {
  Fixture f;
  TlsServer server(f.other_ca->issue("webhook", 10, "DNS:webhook.wc.svc")->pem());
  const Probed p = probe(webhook_config(f.ca->pem().cert, "Ignore"), pointing_at(server.port()));
  REQUIRE(p.of(cluster::kTlsUntrustedRule).size() == 1);
  CHECK(p.of(cluster::kTlsUntrustedRule)[0].severity == policy::Severity::kWarn);
}

TEST_CASE("live probe: a URL webhook is verified for the URL's host (an IP: IP SAN, no SNI)", "[cluster][probe]") {
  Fixture f;
  TlsServer server(f.ca->issue("webhook", 11, "IP:127.0.0.1")->pem());
  const std::string url = "url: https://127.0.0.1:" + std::to_string(server.port()) + "/validate";
  cluster::ProbeOptions direct;
  direct.timeout = std::chrono::milliseconds(2000);
  SECTION("matching caBundle") {
    const Probed p = probe(webhook_config(f.ca->pem().cert, "Fail", url), direct);
    REQUIRE(p.report.outcomes.size() == 1);
    INFO(p.report.outcomes[0].detail);
    CHECK(p.report.outcomes[0].status == ProbeOutcome::Status::kOk);
    CHECK(p.report.findings.empty());
  }
  SECTION("caBundle of another CA") {
    const Probed p = probe(webhook_config(f.other_ca->pem().cert, "Fail", url), direct);
    const auto found = p.of(cluster::kTlsUntrustedRule);
    REQUIRE(found.size() == 1);
    CHECK(found[0].path == "webhooks[0].clientConfig.url");
    CHECK(testing::contains(found[0].message, "TLS verification for 127.0.0.1"));
    CHECK(testing::contains(found[0].message, "SANs IP:127.0.0.1"));
  }
}

TEST_CASE("live probe: no ready endpoints and refused connections are unreachable at full severity",
          "[cluster][probe]") {
  Fixture f;
  SECTION("no ready endpoints") {
    const Probed p = probe(webhook_config(f.ca->pem().cert), pointing_at(1), [](auto&, auto&, int) {
      cluster::ServiceBackends b;
      b.found = true;
      b.cluster_ip = "10.96.0.10";
      b.not_ready = 2;
      return b;
    });
    const auto found = p.of(cluster::kEndpointUnreachableRule);
    REQUIRE(found.size() == 1);
    CHECK(found[0].severity == policy::Severity::kDeny);
    CHECK(testing::contains(found[0].message, "Service wc/webhook has no ready endpoints (2 not ready)"));
    CHECK(testing::contains(found[0].fix, "kubernetes.io/service-name=webhook"));
  }
  SECTION("nothing listens on the endpoint") {
    // A port that was just free: connecting is refused.
    int closed_port = 0;
    {
      TlsServer gone(f.ca->issue("x", 12, "DNS:x")->pem());
      closed_port = gone.port();
    }
    const Probed p = probe(webhook_config(f.ca->pem().cert), pointing_at(closed_port));
    const auto found = p.of(cluster::kEndpointUnreachableRule);
    REQUIRE(found.size() == 1);
    CHECK(found[0].severity == policy::Severity::kDeny);
    CHECK(testing::contains(found[0].message, "connection refused"));
  }
}

TEST_CASE("live probe: timeouts alone from outside the cluster network are info, in-cluster they count",
          "[cluster][probe]") {
  Fixture f;
  cluster::ProbeOptions nowhere;
  nowhere.timeout = std::chrono::milliseconds(300);
  nowhere.route = [](const std::string&, int) { return cluster::Route{"", 0, "connection timed out after 300 ms"}; };
  const Probed outside = probe(webhook_config(f.ca->pem().cert), nowhere);
  REQUIRE(outside.of(cluster::kEndpointUnreachableRule).size() == 1);
  CHECK(outside.of(cluster::kEndpointUnreachableRule)[0].severity == policy::Severity::kInfo);
  CHECK(testing::contains(outside.of(cluster::kEndpointUnreachableRule)[0].message, "outside the cluster network"));
  nowhere.in_cluster = true;
  const Probed inside = probe(webhook_config(f.ca->pem().cert), nowhere);
  REQUIRE(inside.of(cluster::kEndpointUnreachableRule).size() == 1);
  CHECK(inside.of(cluster::kEndpointUnreachableRule)[0].severity == policy::Severity::kDeny);
}

TEST_CASE("live probe: a missing Service is left to webhook-service-missing; exemptions apply",
          "[cluster][probe]") {
  Fixture f;
  const Probed missing = probe(webhook_config(f.ca->pem().cert), pointing_at(1),
                               [](auto&, auto&, int) { return cluster::ServiceBackends{}; });
  CHECK(missing.report.findings.empty());
  REQUIRE(missing.report.outcomes.size() == 1);
  CHECK(missing.report.outcomes[0].status == ProbeOutcome::Status::kNotProbed);

  TlsServer server(f.other_ca->issue("webhook", 13, "DNS:webhook.wc.svc")->pem());
  core::ManifestSet set = webhook_config(f.ca->pem().cert);
  set.objects[0].meta.annotations.emplace_back("ignore.wirecheck.dev/webhook-tls-untrusted", "rotating today");
  const Probed exempt = probe(set, pointing_at(server.port()));
  REQUIRE(exempt.of(cluster::kTlsUntrustedRule).size() == 1);
  CHECK(exempt.of(cluster::kTlsUntrustedRule)[0].exempted);
}
