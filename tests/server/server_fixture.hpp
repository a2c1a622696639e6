// Helpers for the server tests: a temporary directory, certificates made at
// test time with OpenSSL (CA, serving and client pairs with chosen serials
// and SANs), an in-process webhook + ops server on loopback port 0, and
// AdmissionReview bodies built from the captured kube-apiserver requests in
// tests/fixtures/admission (scripts/capture-admission.sh).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <spdlog/spdlog.h>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "admission/handler.hpp"
#include "server/cert_store.hpp"
#include "server/https_client.hpp"
#include "server/metrics.hpp"
#include "server/ops_server.hpp"
#include "server/webhook_server.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::servertest {

namespace fs = std::filesystem;
using nlohmann::json;

// Decision logs would drown the test output; WIRECHECK_TEST_LOGS=1 shows them.
inline const bool kQuietLogs = [] {
  spdlog::set_level(std::getenv("WIRECHECK_TEST_LOGS") != nullptr ? spdlog::level::debug : spdlog::level::off);
  return true;
}();

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

inline std::string admission_fixtures_dir() {
  return std::string(WIRECHECK_FIXTURES_DIR) + "/admission";
}

inline std::string admission_fixture(const std::string& name) {
  const std::string path = admission_fixtures_dir() + "/" + name;
  if (!fs::exists(path)) FAIL("missing captured review " << path << " (scripts/capture-admission.sh)");
  return read_text(path);
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "wirecheck-server-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// ------------------------------------------------------------ certificates

struct Pem {
  std::string cert;
  std::string key;
};

// A CA or leaf made at test time. Keeps the OpenSSL objects to sign others.
class TestCert {
 public:
  TestCert(const TestCert&) = delete;
  TestCert& operator=(const TestCert&) = delete;
  ~TestCert() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }

  static std::unique_ptr<TestCert> ca(const std::string& cn) {
    return std::unique_ptr<TestCert>(new TestCert(cn, 1, nullptr, "", true, false));
  }
  // A CA valid from `valid_from` until `valid_until` (seconds from now).
  static std::unique_ptr<TestCert> ca(const std::string& cn, long valid_from, long valid_until) {
    return std::unique_ptr<TestCert>(new TestCert(cn, 1, nullptr, "", true, false, valid_from, valid_until));
  }
  // `sans` like "DNS:localhost,IP:127.0.0.1". Valid from an hour ago for
  // 30 days unless `valid_from` / `valid_until` (seconds from now) say otherwise.
  std::unique_ptr<TestCert> issue(const std::string& cn, long serial, const std::string& sans,
                                  bool client = false, long valid_from = -3600,
                                  long valid_until = 30L * 24 * 3600) const {
    return std::unique_ptr<TestCert>(new TestCert(cn, serial, this, sans, false, client, valid_from, valid_until));
  }

  Pem pem() const {
    Pem out;
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, cert_);
    out.cert = drain(b);
    PEM_write_bio_PrivateKey(b, key_, nullptr, nullptr, 0, nullptr, nullptr);
    out.key = drain(b);
    BIO_free(b);
    return out;
  }
  // Writes <dir>/<stem>.crt and <stem>.key; returns the cert path.
  std::string write(const std::string& dir, const std::string& stem) const {
    const Pem p = pem();
    write_text(dir + "/" + stem + ".crt", p.cert);
    write_text(dir + "/" + stem + ".key", p.key);
    return dir + "/" + stem + ".crt";
  }

 private:
  TestCert(const std::string& cn, long serial, const TestCert* issuer, const std::string& sans, bool is_ca,
           bool client, long valid_from = -3600, long valid_until = 30L * 24 * 3600) {
    key_ = EVP_EC_gen("P-256");
    cert_ = X509_new();
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert_), valid_from);
    X509_gmtime_adj(X509_getm_notAfter(cert_), valid_until);
    X509_set_pubkey(cert_, key_);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(cert_, issuer != nullptr ? X509_get_subject_name(issuer->cert_) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->cert_ : cert_, cert_, nullptr, nullptr, 0);
    const auto add = [&](int nid, const std::string& value) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      REQUIRE(ext != nullptr);
      X509_add_ext(cert_, ext, -1);
      X509_EXTENSION_free(ext);
    };
    if (is_ca) {
      add(NID_basic_constraints, "critical,CA:TRUE");
      add(NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
      add(NID_basic_constraints, "critical,CA:FALSE");
      add(NID_key_usage, "critical,digitalSignature");
      add(NID_ext_key_usage, client ? "clientAuth" : "serverAuth");
      if (!sans.empty()) add(NID_subject_alt_name, sans);
    }
    X509_sign(cert_, issuer != nullptr ? issuer->key_ : key_, EVP_sha256());
  }
  static std::string drain(BIO* b) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<std::size_t>(n));
    (void)BIO_reset(b);
    return out;
  }

  X509* cert_ = nullptr;
  EVP_PKEY* key_ = nullptr;
};

// ---------------------------------------------------------- server harness

struct HarnessOptions {
  admission::Mode mode = admission::Mode::kWarn;
  std::size_t max_body_bytes = 8u << 20;
  bool client_auth = false;
  bool fail_closed = false;
  std::string sans = "DNS:localhost,IP:127.0.0.1,IP:::1";
  admission::ContextSource context;  // default: empty context
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds head_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds idle_timeout{5000};
  std::size_t max_connections = 2048;
  std::size_t max_pending_per_source = 512;
  std::size_t max_body_bytes_in_flight = 64u << 20;
  std::size_t threads = 2;
};

inline HarnessOptions with_mode(admission::Mode mode) {
  HarnessOptions o;
  o.mode = mode;
  return o;
}

inline HarnessOptions with_body_limit(std::size_t bytes) {
  HarnessOptions o;
  o.max_body_bytes = bytes;
  return o;
}

inline std::vector<std::string> registered_rule_ids() {
  std::vector<std::string> ids;
  for (const auto& spec : policy::Registry::all()) ids.emplace_back(spec.id);
  return ids;
}

// The real webhook server in-process on 127.0.0.1:<any>, with a CA and a
// serving pair (serial 1) written to a temporary directory.
class Harness {
 public:
  explicit Harness(HarnessOptions options = {})
      : options_(std::move(options)),
        ca_(TestCert::ca("wirecheck test CA")),
        engine_(policy::Settings::defaults()),
        metrics_(registered_rule_ids()) {
    ca_->write(dir_.path(), "ca");
    ca_->issue("wirecheck test server", 1, options_.sans)->write(dir_.path(), "tls");
    certs_ = std::make_unique<server::CertStore>(dir_.file("tls.crt"), dir_.file("tls.key"));
    REQUIRE(certs_->reload().ok());
    handler_ = std::make_unique<admission::AdmissionHandler>(
        engine_, options_.context ? options_.context : admission::empty_context_source(),
        admission::HandlerOptions{options_.fail_closed});
    server::WebhookServerOptions web;
    web.host = "127.0.0.1";
    web.port = 0;
    web.default_mode = options_.mode;
    web.max_body_bytes = options_.max_body_bytes;
    web.threads = options_.threads;
    web.request_timeout = options_.request_timeout;
    web.idle_timeout = options_.idle_timeout;
    web.head_timeout = options_.head_timeout;
    web.write_timeout = options_.write_timeout;
    web.max_connections = options_.max_connections;
    web.max_pending_per_source = options_.max_pending_per_source;
    web.max_body_bytes_in_flight = options_.max_body_bytes_in_flight;
    if (options_.client_auth) web.client_ca_file = dir_.file("ca.crt");
    webhook_ = std::make_unique<server::WebhookServer>(*handler_, *certs_, metrics_, web);
    REQUIRE(webhook_->bind().ok());
    webhook_->start();
  }
  ~Harness() {
    if (ops_) ops_->stop();
    webhook_->stop();
  }

  server::HttpsClientOptions client_options(const std::string& host = "127.0.0.1") const {
    server::HttpsClientOptions o;
    o.host = host;
    o.port = webhook_->port();
    o.ca_file = dir_.file("ca.crt");
    o.timeout = std::chrono::milliseconds(5000);
    return o;
  }
  std::unique_ptr<server::HttpsClient> client() const {
    return std::make_unique<server::HttpsClient>(client_options());
  }
  server::OpsServer& ops() {
    if (!ops_) {
      server::OpsServerOptions o;
      o.host = "127.0.0.1";
      o.port = 0;
      // What `serve` does: the webhook's deadlines on the ops port too.
      o.head_timeout = options_.head_timeout;
      o.request_timeout = options_.request_timeout;
      o.write_timeout = options_.write_timeout;
      o.idle_timeout = options_.idle_timeout;
      ops_ = std::make_unique<server::OpsServer>(metrics_, [this]() -> std::string {
        return certs_->loaded() ? "" : "serving certificate not loaded";
      }, o);
      REQUIRE(ops_->bind().ok());
      ops_->start();
    }
    return *ops_;
  }

  const TempDir& dir() const { return dir_; }
  TestCert& ca() { return *ca_; }
  server::CertStore& certs() { return *certs_; }
  server::WebhookServer& webhook() { return *webhook_; }
  server::Metrics& metrics() { return metrics_; }
  int port() const { return webhook_->port(); }

 private:
  HarnessOptions options_;
  TempDir dir_;
  std::unique_ptr<TestCert> ca_;
  policy::Engine engine_;
  server::Metrics metrics_;
  std::unique_ptr<server::CertStore> certs_;
  std::unique_ptr<admission::AdmissionHandler> handler_;
  std::unique_ptr<server::WebhookServer> webhook_;
  std::unique_ptr<server::OpsServer> ops_;
};

// ------------------------------------------------------------ review bodies

// ServiceMonitor endpoints fixed by RULES.md: [0] https + CA secret, no
// serverName (servicemonitor-tls-servername, deny); [1] insecureSkipVerify
// (servicemonitor-insecure-skip-verify, warn).
inline json bad_endpoints() {
  return json::array({
      {{"port", "https"}, {"scheme", "https"}, {"path", "/metrics"},
       {"tlsConfig", {{"ca", {{"secret", {{"name", "web-tls"}, {"key", "ca.crt"}}}}}}}},
      {{"port", "https"}, {"scheme", "https"}, {"path", "/metrics"},
       {"tlsConfig", {{"insecureSkipVerify", true}}}},
  });
}

inline json good_endpoints() {
  return json::array({{{"port", "https"}, {"scheme", "https"}, {"path", "/metrics"},
                       {"tlsConfig",
                        {{"ca", {{"secret", {{"name", "web-tls"}, {"key", "ca.crt"}}}}},
                         {"serverName", "web.demo.svc"}}}}});
}

// The captured `kubectl apply` of ServiceMonitor demo/web with its endpoints replaced.
inline json servicemonitor_review(const json& endpoints, const std::string& uid = "7d0d3a3e-0000-4000-8000-000000000001") {
  json review = json::parse(admission_fixture("create-servicemonitor-web.json"));
  review["request"]["uid"] = uid;
  review["request"]["object"]["spec"]["endpoints"] = endpoints;
  review["request"]["object"]["metadata"].erase("annotations");  // drop the last-applied copy
  return review;
}

inline json response_of(const server::HttpResponse& r) {
  json body = json::parse(r.body, nullptr, false);
  REQUIRE_FALSE(body.is_discarded());
  return body;
}

inline bool has_warning(const json& response, const std::string& prefix) {
  if (!response.contains("warnings")) return false;
  for (const auto& w : response["warnings"]) {
    if (w.get<std::string>().rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// A plain TCP connection to 127.0.0.1:port (Nagle off), or -1.
inline int tcp_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// A plain TCP connection to 127.0.0.1:port from the loopback address
// `source` (127.0.0.0/8: any of them is local), or -1.
inline int tcp_connect_from(int port, const char* source) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether a TLS 1.0/1.1-only client completes a handshake with 127.0.0.1:port.
inline bool tls11_handshake_succeeds(int port) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  const int fd = tcp_connect(port);
  REQUIRE(fd >= 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  const bool ok = SSL_connect(ssl) == 1;
  ERR_clear_error();
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return ok;
}

// Waits (bounded) until `done()` holds.
template <typename F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace wirecheck::servertest
