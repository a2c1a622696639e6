// The scrape probe against real TLS servers on 127.0.0.1 holding
// certificates made by the test (DNS-only SANs probed by IP, a wrong name,
// expired, unknown CA, right), with a route that points the pod address of
// the view's EndpointSlice at them; and Go's certificate rules on their own.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cluster/scrape_probe.hpp"
#include "cluster/loopback_listener.hpp"
#include "cluster/tls_server.hpp"
#include "net/certificate.hpp"
#include "support.hpp"
#include "wirecheck/object_index.hpp"

using namespace wirecheck;
using clustertest::TlsServer;
using cluster::ScrapeOutcome;
using servertest::TestCert;

namespace {

constexpr long kDay = 24 * 3600;
constexpr const char* kPodIp = "10.0.3.7";

struct Fixture {
  std::unique_ptr<TestCert> ca = TestCert::ca("metrics-ca");
  std::unique_ptr<TestCert> other_ca = TestCert::ca("someone-elses-ca");
};

// ServiceMonitor app/web selecting Service app/web (port "https" 8443);
// `tls` is the endpoint's tlsConfig body.
core::ManifestSet monitor(const std::string& tls) {
  return testing::load_yaml(R"(apiVersion: v1
kind: Service
metadata: {name: web, namespace: app, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{name: https, port: 8443, targetPort: 8443}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web, namespace: app}
spec:
  selector: {matchLabels: {app: web}}
  endpoints:
  - port: https
    scheme: https
    tlsConfig: )" + tls + "\n");
}

const std::string kConfigMapCa = "{ca: {configMap: {name: metrics-ca, key: ca.crt}}";

struct Probed {
  cluster::ScrapeReport report;
  std::vector<policy::Finding> of(std::string_view rule) const { return testing::of_rule(report.findings, rule); }
};

// The Service's one ready address is kPodIp:8443, which is `port` on 127.0.0.1.
// The ConfigMap holds `ca_pem`; Secrets are "not allowed" unless `secret_pem`.
Probed probe(const core::ManifestSet& set, int port, const std::string& ca_pem,
             const std::string& secret_pem = "") {
  policy::ObjectIndex view(true);
  view.add_all(set.objects);
  cluster::ScrapeSources sources;
  sources.endpoints = [](const std::string& ns, const std::string& name, const cluster::PortMatch& p) {
    cluster::EndpointAddresses out;
    if (ns == "app" && name == "web" && p.name == "https") out.ready = {{kPodIp, 8443}};
    out.source = "test";
    return out;
  };
  sources.ca_pem = [ca_pem, secret_pem](const cluster::CaReference& ref) -> core::Result<std::string> {
    if (ref.kind == cluster::CaReference::Kind::kSecret) {
      if (secret_pem.empty()) return core::Result<std::string>::failure("Secret app/" + ref.name + " not read");
      return secret_pem;
    }
    if (ref.ns == "app" && ref.name == "metrics-ca" && ref.key == "ca.crt") return ca_pem;
    return core::Result<std::string>::failure("ConfigMap does not exist");
  };
  cluster::ProbeOptions options;
  options.timeout = std::chrono::milliseconds(2000);
  options.route = [port](const std::string& host, int p) {
    if (host == kPodIp && p == 8443) return cluster::Route{"127.0.0.1", port, ""};
    return cluster::Route{"", 0, "connection timed out after 2000 ms"};
  };
  const policy::Engine engine;
  return {cluster::probe_scrape_tls(engine, view, sources, options)};
}

}  // namespace

TEST_CASE("scrape probe: DNS-only SANs probed by IP -> name mismatch, Go's ip-sans error, serverName fix",
          "[cluster][scrape]") {
  Fixture f;
  TlsServer server(f.ca->issue("web", 2, "DNS:web.app.svc,DNS:web")->pem());
  const Probed p = probe(monitor(kConfigMapCa + "}"), server.port(), f.ca->pem().cert);
  const auto found = p.of(cluster::kScrapeTlsNameMismatchRule);
  REQUIRE(found.size() == 1);
  INFO(found[0].message);
  CHECK(found[0].severity == policy::Severity::kDeny);
  CHECK(found[0].object.kind == "ServiceMonitor");
  CHECK(found[0].path == "spec.endpoints[0]");
  CHECK(testing::contains(found[0].message,
                          "x509: cannot validate certificate for 10.0.3.7 because it doesn't contain any IP SANs"));
  CHECK(testing::contains(found[0].message, "[ip-sans]"));
  CHECK(testing::contains(found[0].message, "SANs served: DNS:web.app.svc, DNS:web"));
  CHECK(found[0].fix == "set spec.endpoints[0].tlsConfig.serverName: web.app.svc (the served certificate covers it)");
  // The chain is from the ConfigMap's CA: nothing else is wrong.
  CHECK(p.of(cluster::kScrapeTlsUntrustedRule).empty());
  REQUIRE(p.report.outcomes.size() == 1);
  CHECK(p.report.outcomes[0].status == ScrapeOutcome::Status::kNameMismatch);
  CHECK(p.report.outcomes[0].failure == "ip-sans");
  CHECK(p.report.outcomes[0].address == "10.0.3.7:8443");
  // No serverName: no SNI (the target is an IP); nothing sent after the handshake.
  CHECK(servertest::eventually([&] { return server.handshakes() == 1; }));
  CHECK(server.last_sni().empty());
  CHECK(server.bytes_received() == 0);
}

TEST_CASE("scrape probe: a serverName the SANs do not cover -> name-not-covered with the SANs and a covered name",
          "[cluster][scrape]") {
  Fixture f;
  TlsServer server(f.ca->issue("web", 3, "DNS:*.app.svc,IP:10.9.9.9")->pem());
  const Probed p = probe(monitor(kConfigMapCa + ", serverName: web.monitoring.svc}"), server.port(),
                         f.ca->pem().cert);
  const auto found = p.of(cluster::kScrapeTlsNameMismatchRule);
  REQUIRE(found.size() == 1);
  INFO(found[0].message);
  CHECK(testing::contains(found[0].message, "Prometheus verifies web.monitoring.svc (serverName)"));
  CHECK(testing::contains(found[0].message, "x509: certificate is valid for *.app.svc, not web.monitoring.svc"));
  CHECK(testing::contains(found[0].message, "[name-not-covered]"));
  CHECK(testing::contains(found[0].fix, "serverName: web.app.svc"));
  CHECK(servertest::eventually([&] { return server.last_sni() == "web.monitoring.svc"; }));
}

TEST_CASE("scrape probe: the right certificate for serverName from the monitor's CA -> no finding", "[cluster][scrape]") {
  Fixture f;
  TlsServer server(f.ca->issue("web", 4, "DNS:web.app.svc")->pem());
  const Probed p = probe(monitor(kConfigMapCa + ", serverName: web.app.svc}"), server.port(), f.ca->pem().cert);
  CHECK(p.report.findings.empty());
  REQUIRE(p.report.outcomes.size() == 1);
  const ScrapeOutcome& o = p.report.outcomes[0];
  INFO(o.detail);
  CHECK(o.status == ScrapeOutcome::Status::kOk);
  CHECK(o.verified_name == "web.app.svc");
  CHECK(o.trust == "ConfigMap app/metrics-ca key ca.crt");
  CHECK(servertest::eventually([&] { return server.last_sni() == "web.app.svc"; }));
}

TEST_CASE("scrape probe: an IP SAN for the target covers a probe without serverName", "[cluster][scrape]") {
  Fixture f;
  TlsServer server(f.ca->issue("web", 5, "IP:10.0.3.7")->pem());
  const Probed p = probe(monitor(kConfigMapCa + "}"), server.port(), f.ca->pem().cert);
  CHECK(p.report.findings.empty());
}

TEST_CASE("scrape probe: expired, not yet valid and unknown CA -> untrusted with Go's error and what was served",
          "[cluster][scrape]") {
  Fixture f;
  struct Case {
    const char* name;
    std::unique_ptr<TestCert> cert;
    std::vector<std::string> expect;
    std::string fix;
  };
  std::vector<Case> cases;
  cases.push_back({"expired", f.ca->issue("web", 6, "DNS:web.app.svc", false, -10 * kDay, -kDay),
                   {"x509: certificate has expired or is not yet valid: current time 20", " is after 20", "[expired]"},
                   "renew the serving certificate (notAfter 20"});
  cases.push_back({"not yet valid", f.ca->issue("web", 7, "DNS:web.app.svc", false, kDay, 30 * kDay),
                   {"x509: certificate has expired or is not yet valid", " is before ", "[expired]"},
                   "valid only from 20"});
  cases.push_back({"unknown CA", f.other_ca->issue("web", 8, "DNS:web.app.svc"),
                   {"x509: certificate signed by unknown authority", "[unknown-authority]",
                    "against ConfigMap app/metrics-ca key ca.crt", "issuer CN=someone-elses-ca"},
                   "issuer CN=someone-elses-ca"});
  for (Case& c : cases) {
    SECTION(c.name) {
      TlsServer server(c.cert->pem());
      const Probed p = probe(monitor(kConfigMapCa + ", serverName: web.app.svc}"), server.port(), f.ca->pem().cert);
      const auto found = p.of(cluster::kScrapeTlsUntrustedRule);
      REQUIRE(found.size() == 1);
      INFO(found[0].message);
      CHECK(found[0].severity == policy::Severity::kDeny);
      CHECK(testing::contains(found[0].message, "endpoint port https of Service app/web at 10.0.3.7:8443"));
      CHECK(testing::contains(found[0].message, "served: subject CN=web"));
      CHECK(testing::contains(found[0].message, "notAfter 20"));
      for (const std::string& part : c.expect) CHECK(testing::contains(found[0].message, part));
      CHECK(testing::contains(found[0].fix, c.fix));
      CHECK(p.of(cluster::kScrapeTlsNameMismatchRule).empty());
    }
  }
}

TEST_CASE("scrape probe: a CA in a Secret is read only when allowed; without it only name and validity count",
          "[cluster][scrape]") {
  Fixture f;
  TlsServer server(f.other_ca->issue("web", 9, "DNS:web.app.svc")->pem());
  const std::string tls = "{ca: {secret: {name: metrics-ca, key: ca.crt}}, serverName: web.app.svc}";
  const Probed unread = probe(monitor(tls), server.port(), "");
  CHECK(unread.report.findings.empty());
  REQUIRE(unread.report.outcomes.size() == 1);
  CHECK(unread.report.outcomes[0].status == ScrapeOutcome::Status::kOk);
  CHECK(testing::contains(unread.report.outcomes[0].trust, "chain not checked, name and validity only"));

  const Probed read = probe(monitor(tls), server.port(), "", f.ca->pem().cert);
  REQUIRE(read.of(cluster::kScrapeTlsUntrustedRule).size() == 1);
  CHECK(testing::contains(read.of(cluster::kScrapeTlsUntrustedRule)[0].message, "[unknown-authority]"));
}

TEST_CASE("scrape probe: insecureSkipVerify, http endpoints and unreachable targets give no finding",
          "[cluster][scrape]") {
  Fixture f;
  const Probed insecure = probe(monitor("{insecureSkipVerify: true}"), 1, "");
  CHECK(insecure.report.findings.empty());
  REQUIRE(insecure.report.outcomes.size() == 1);
  CHECK(insecure.report.outcomes[0].status == ScrapeOutcome::Status::kNotProbed);
  CHECK(testing::contains(insecure.report.outcomes[0].detail, "insecureSkipVerify"));

  int closed_port = 0;
  {
    TlsServer gone(f.ca->issue("x", 10, "DNS:x")->pem());
    closed_port = gone.port();
  }
  const Probed down = probe(monitor(kConfigMapCa + "}"), closed_port, f.ca->pem().cert);
  CHECK(down.report.findings.empty());
  REQUIRE(down.report.outcomes.size() == 1);
  CHECK(down.report.outcomes[0].status == ScrapeOutcome::Status::kUnreachable);
  CHECK(testing::contains(down.report.outcomes[0].detail, "connection refused"));
}

TEST_CASE("scrape probe: exemption annotations apply to the live findings", "[cluster][scrape]") {
  Fixture f;
  TlsServer server(f.ca->issue("web", 11, "DNS:web.app.svc")->pem());
  core::ManifestSet set = monitor(kConfigMapCa + "}");
  set.objects[1].meta.annotations.emplace_back("ignore.wirecheck.dev/scrape-tls-name-mismatch", "IP scrape on purpose");
  const Probed p = probe(set, server.port(), f.ca->pem().cert);
  REQUIRE(p.of(cluster::kScrapeTlsNameMismatchRule).size() == 1);
  CHECK(p.of(cluster::kScrapeTlsNameMismatchRule)[0].exempted);
}

// ------------------------------------------------------- Go's rules alone

TEST_CASE("certificate: names are checked as Go's VerifyHostname checks them", "[cluster][scrape][x509]") {
  Fixture f;
  const auto leaf_of = [](const TestCert& c) { return net::Certificate::parse_pem(c.pem().cert).at(0); };
  const net::Certificate dns = leaf_of(*f.ca->issue("web", 20, "DNS:web.app.svc,DNS:*.app.svc.cluster.local"));
  const net::Certificate ips = leaf_of(*f.ca->issue("web", 21, "IP:10.0.3.7,IP:fd00::7"));
  const net::Certificate cn_only = leaf_of(*f.ca->issue("web.app.svc", 22, ""));
  struct Case {
    const net::Certificate* leaf;
    std::string name;
    std::string failure;  // class, "" when accepted
    std::string error;
  };
  const std::vector<Case> cases = {
      {&dns, "web.app.svc", "", ""},
      {&dns, "WEB.app.svc.", "", ""},
      {&dns, "x.app.svc.cluster.local", "", ""},
      {&dns, "a.b.app.svc.cluster.local", "name-not-covered", ""},
      {&dns, "10.0.3.7", "ip-sans", "x509: cannot validate certificate for 10.0.3.7 because it doesn't contain any IP SANs"},
      {&dns, "other.svc", "name-not-covered",
       "x509: certificate is valid for web.app.svc, *.app.svc.cluster.local, not other.svc"},
      {&ips, "10.0.3.7", "", ""},
      {&ips, "[fd00::7]", "", ""},
      {&ips, "10.0.3.8", "name-not-covered", "x509: certificate is valid for 10.0.3.7, fd00::7, not 10.0.3.8"},
      {&ips, "web.app.svc", "name-not-covered",
       "x509: certificate is not valid for any names, but wanted to match web.app.svc"},
      {&cn_only, "web.app.svc", "name-not-covered",
       "x509: certificate relies on legacy Common Name field, use SANs instead"},
      {&cn_only, "other.app.svc", "name-not-covered",
       "x509: certificate is not valid for any names, but wanted to match other.app.svc"},
      {&cn_only, "10.0.3.7", "ip-sans",
       "x509: cannot validate certificate for 10.0.3.7 because it doesn't contain any IP SANs"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const net::CertCheck check = net::check_name(*c.leaf, c.name);
    CHECK(std::string(net::failure_class(check.failure)) == c.failure);
    if (!c.error.empty()) CHECK(check.error == c.error);
  }
}

TEST_CASE("certificate: validity and chain checks name expired and unknown-authority", "[cluster][scrape][x509]") {
  Fixture f;
  const auto cert = f.ca->issue("web", 30, "DNS:web", false, -10 * kDay, -kDay);
  const net::Certificate leaf = net::Certificate::parse_pem(cert->pem().cert).at(0);
  const std::int64_t now = leaf.not_after() + 3600;
  const net::CertCheck expired = net::check_validity(leaf, now);
  CHECK(net::failure_class(expired.failure) == "expired");
  CHECK(expired.error == "x509: certificate has expired or is not yet valid: current time " + net::rfc3339(now) +
                             " is after " + net::rfc3339(leaf.not_after()));
  CHECK(net::check_validity(leaf, leaf.not_after() - 60).ok());

  const auto roots = net::Certificate::parse_pem(f.ca->pem().cert);
  const auto others = net::Certificate::parse_pem(f.other_ca->pem().cert);
  // Expired is the validity check's finding, not the chain's.
  CHECK(net::verify_chain({leaf}, roots).ok());
  const net::CertCheck unknown = net::verify_chain({leaf}, others);
  CHECK(net::failure_class(unknown.failure) == "unknown-authority");
  CHECK(testing::contains(unknown.error, "x509: certificate signed by unknown authority"));
  CHECK(net::rfc3339(0) == "1970-01-01T00:00:00Z");
}

TEST_CASE("certificate: a CA certificate outside its validity period fails the chain as expired, as in Go",
          "[cluster][scrape][x509]") {
  const auto old_ca = TestCert::ca("old-ca", -10 * kDay, -kDay);
  const auto leaf_cert = old_ca->issue("web", 40, "DNS:web.app.svc");
  const net::Certificate leaf = net::Certificate::parse_pem(leaf_cert->pem().cert).at(0);
  const auto roots = net::Certificate::parse_pem(old_ca->pem().cert);
  const std::int64_t now = net::unix_now();
  CHECK(net::check_validity(leaf, now).ok());
  const net::CertCheck chain = net::verify_chain({leaf}, roots, now);
  CHECK(net::failure_class(chain.failure) == "expired");
  CHECK(testing::contains(chain.error, "x509: certificate has expired or is not yet valid: current time " +
                                           net::rfc3339(now) + " is after " + net::rfc3339(roots[0].not_after())));
  CHECK(testing::contains(chain.error, "CA certificate CN=old-ca"));
  // The same chain at a time inside the CA's period verifies.
  CHECK(net::verify_chain({leaf}, roots, roots[0].not_after() - 60).ok());
}

TEST_CASE("certificate: a leaf for client use only fails the chain with Go's incompatible key usage",
          "[cluster][scrape][x509]") {
  Fixture f;
  const auto cert = f.ca->issue("web", 41, "DNS:web.app.svc", true);
  const net::Certificate leaf = net::Certificate::parse_pem(cert->pem().cert).at(0);
  const net::CertCheck chain = net::verify_chain({leaf}, net::Certificate::parse_pem(f.ca->pem().cert));
  CHECK(net::failure_class(chain.failure) == "chain-invalid");
  CHECK(testing::contains(chain.error, "x509: certificate specifies an incompatible key usage"));
}

TEST_CASE("endpoints: EndpointSlices and Endpoints give the ready addresses of the named port", "[cluster][scrape]") {
  const auto slices = nlohmann::json::parse(R"({"items": [
    {"addressType": "IPv4", "ports": [{"name": "https", "port": 8443}, {"name": "http", "port": 8080}],
     "endpoints": [{"addresses": ["10.0.3.7"], "conditions": {"ready": true}},
                   {"addresses": ["10.0.3.8"], "conditions": {"ready": false}},
                   {"addresses": ["10.0.3.9"]}]},
    {"addressType": "FQDN", "ports": [{"name": "https", "port": 8443}], "endpoints": [{"addresses": ["a.example"]}]},
    {"addressType": "IPv4", "ports": [{"name": "https", "port": 8443}], "endpoints": [{"addresses": ["10.0.3.7"]}]}]})");
  cluster::EndpointAddresses out;
  cluster::add_endpoint_slices(slices, {"https", 0, false}, out);
  CHECK(out.ready == std::vector<std::pair<std::string, int>>{{"10.0.3.7", 8443}, {"10.0.3.9", 8443}});
  CHECK(out.not_ready == 1);
  cluster::EndpointAddresses none;
  cluster::add_endpoint_slices(slices, {"metrics", 0, false}, none);
  CHECK(none.ready.empty());

  const auto endpoints = nlohmann::json::parse(R"({"subsets": [{"addresses": [{"ip": "10.1.0.1"}],
    "notReadyAddresses": [{"ip": "10.1.0.2"}], "ports": [{"port": 9443}]}]})");
  cluster::EndpointAddresses only;
  cluster::add_endpoints(endpoints, {"webhook", 0, true}, only);
  CHECK(only.ready == std::vector<std::pair<std::string, int>>{{"10.1.0.1", 9443}});
  CHECK(only.not_ready == 1);
}

TEST_CASE("probe handshake: a port that accepts and never answers TLS ends at the deadline as a timeout",
          "[cluster][scrape]") {
  // The kernel completes the TCP handshake from the backlog; nobody speaks.
  const testing::LoopbackListener listener = testing::listen_on_loopback(4);
  const int fd = listener.fd;
  cluster::ProbeOptions options;
  const cluster::Handshake h =
      cluster::probe_handshake("127.0.0.1", listener.port, "web.app.svc", std::chrono::milliseconds(300), options);
  ::close(fd);
  CHECK(h.connected);
  CHECK_FALSE(h.ok);
  CHECK(h.timed_out);
  CHECK(testing::contains(h.error, "TLS handshake timed out after 300 ms"));
  CHECK(h.elapsed >= std::chrono::milliseconds(300));
}
