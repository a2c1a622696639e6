// Certificates: hot reload (new handshakes get the new pair, established
// connections keep working, a broken pair is refused and the old one keeps
// serving, the kubelet's symlink swap is noticed by the watcher) and
// client-certificate authentication on and off.
#include <catch2/catch.hpp>

#include "server_fixture.hpp"

using namespace wirecheck;
using namespace wirecheck::servertest;

namespace {

std::string serial_of_new_connection(const Harness& harness) {
  auto client = harness.client();
  REQUIRE(client->connect());
  return client->peer_serial_hex();
}

bool review_ok(server::HttpsClient& client) {
  server::HttpResponse r;
  return client.post("/validate", servicemonitor_review(good_endpoints()).dump(), r) && r.status == 200;
}

}  // namespace

TEST_CASE("tls: reload serves the new certificate to new connections only", "[server][tls]") {
  Harness harness;
  auto old_connection = harness.client();
  REQUIRE(old_connection->connect());
  CHECK(old_connection->peer_serial_hex() == "01");

  harness.ca().issue("wirecheck test server", 2, "IP:127.0.0.1")->write(harness.dir().path(), "tls");
  REQUIRE(harness.certs().reload().ok());
  CHECK(serial_of_new_connection(harness) == "02");
  // The connection made before the reload keeps its certificate and works.
  CHECK(old_connection->peer_serial_hex() == "01");
  CHECK(review_ok(*old_connection));

  SECTION("a key that does not match is refused; the previous pair keeps serving") {
    const Pem other = harness.ca().issue("other", 3, "IP:127.0.0.1")->pem();
    write_text(harness.dir().file("tls.key"), other.key);  // serial 2 cert + serial 3 key
    const auto status = harness.certs().reload();
    CHECK_FALSE(status.ok());
    CHECK_THAT(status.error(), Catch::Contains("does not match"));
    CHECK(serial_of_new_connection(harness) == "02");
  }
  SECTION("an unreadable pair is refused; the previous pair keeps serving") {
    write_text(harness.dir().file("tls.crt"), "not a certificate");
    CHECK_FALSE(harness.certs().reload().ok());
    CHECK(serial_of_new_connection(harness) == "02");
    fs::remove(harness.dir().file("tls.crt"));
    CHECK_FALSE(harness.certs().reload().ok());
    CHECK(serial_of_new_connection(harness) == "02");
  }
  SECTION("reload results and notAfter are exported as metrics") {
    harness.certs().set_listener([&](const core::Status& s, const server::KeyPair* pair) {
      harness.metrics().record_certificate(s.ok(), pair != nullptr ? pair->not_after_unix() : 0);
    });
    harness.ca().issue("wirecheck test server", 4, "IP:127.0.0.1")->write(harness.dir().path(), "tls");
    REQUIRE(harness.certs().reload().ok());
    write_text(harness.dir().file("tls.crt"), "garbage");
    CHECK_FALSE(harness.certs().reload().ok());
    const std::string text = harness.metrics().render();
    CHECK_THAT(text, Catch::Contains("wirecheck_certificate_reloads_total{result=\"success\"} 1"));
    CHECK_THAT(text, Catch::Contains("wirecheck_certificate_reloads_total{result=\"failure\"} 1"));
    CHECK_THAT(text, !Catch::Contains("wirecheck_certificate_not_after_seconds 0\n"));
  }
}

TEST_CASE("tls: the watcher follows a kubelet-style atomic symlink swap of a Secret volume", "[server][tls]") {
  TempDir dir;
  auto ca = TestCert::ca("swap CA");
  ca->write(dir.path(), "ca");
  // <dir>/secret/{tls.crt,tls.key} -> ..data/... -> ..v1/
  const std::string secret = dir.file("secret");
  fs::create_directories(secret + "/..v1");
  ca->issue("server", 10, "IP:127.0.0.1")->write(secret + "/..v1", "tls");
  fs::create_directory_symlink("..v1", secret + "/..data");
  fs::create_symlink("..data/tls.crt", secret + "/tls.crt");
  fs::create_symlink("..data/tls.key", secret + "/tls.key");

  server::CertStore store(secret, "");  // directory form
  REQUIRE(store.reload().ok());
  REQUIRE(store.current()->serial_hex() == "0A");
  store.start_watching(std::chrono::milliseconds(20));

  fs::create_directories(secret + "/..v2");
  ca->issue("server", 11, "IP:127.0.0.1")->write(secret + "/..v2", "tls");
  fs::create_directory_symlink("..v2", secret + "/..data_tmp");
  fs::rename(secret + "/..data_tmp", secret + "/..data");  // atomic swap
  CHECK(eventually([&] { return store.current()->serial_hex() == "0B"; }));
  store.stop_watching();
}

TEST_CASE("tls: client certificates are required with a client CA and not without", "[server][tls]") {
  SECTION("off: a client without a certificate is served") {
    Harness harness;
    auto client = harness.client();
    CHECK(review_ok(*client));
  }
  SECTION("on: only clients with a certificate from the client CA are served") {
    HarnessOptions options;
    options.client_auth = true;
    Harness harness(options);

    auto anonymous = harness.client();
    CHECK_FALSE(review_ok(*anonymous));
    CHECK(anonymous->failed_stage() == server::HttpsClient::Stage::kTls);
    CHECK_THAT(anonymous->error(), Catch::StartsWith("client certificate required"));

    harness.ca().issue("kube-apiserver", 20, "", /*client=*/true)->write(harness.dir().path(), "apiserver");
    auto options_with_cert = harness.client_options();
    options_with_cert.client_cert_file = harness.dir().file("apiserver.crt");
    options_with_cert.client_key_file = harness.dir().file("apiserver.key");
    server::HttpsClient apiserver(options_with_cert);
    CHECK(review_ok(apiserver));

    auto stranger_ca = TestCert::ca("stranger CA");
    stranger_ca->issue("intruder", 21, "", true)->write(harness.dir().path(), "intruder");
    auto intruder_options = harness.client_options();
    intruder_options.client_cert_file = harness.dir().file("intruder.crt");
    intruder_options.client_key_file = harness.dir().file("intruder.key");
    server::HttpsClient intruder(intruder_options);
    CHECK_FALSE(review_ok(intruder));
    CHECK_THAT(intruder.error(), Catch::StartsWith("client certificate refused by the server"));
  }
}

TEST_CASE("tls: a wrong CA or host name fails verification at the TLS stage", "[server][tls]") {
  Harness harness;  // SANs: localhost, 127.0.0.1, ::1
  auto other_ca = TestCert::ca("other CA");
  other_ca->write(harness.dir().path(), "other-ca");
  auto wrong_ca = harness.client_options();
  wrong_ca.ca_file = harness.dir().file("other-ca.crt");
  server::HttpsClient c1(wrong_ca);
  CHECK_FALSE(c1.connect());
  CHECK(c1.failed_stage() == server::HttpsClient::Stage::kTls);

  HarnessOptions ip_only;
  ip_only.sans = "IP:127.0.0.1";
  Harness ip_harness(ip_only);
  server::HttpsClient c2(ip_harness.client_options("localhost"));
  CHECK_FALSE(c2.connect());
  CHECK(c2.failed_stage() == server::HttpsClient::Stage::kTls);
  CHECK_THAT(c2.error(), Catch::Contains("hostname mismatch"));
}
