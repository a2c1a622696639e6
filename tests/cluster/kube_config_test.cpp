// The kubeconfig and in-cluster loaders on files written by the test.
#include <openssl/evp.h>
#include <stdlib.h>

#include <catch2/catch.hpp>

#include "../server/server_fixture.hpp"
#include "cluster/kube_config.hpp"

using namespace wirecheck;
using servertest::read_text;
using servertest::TempDir;
using servertest::write_text;

namespace {

std::string base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value.empty()) ::unsetenv(name);
    else ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

constexpr const char* kTwoContexts = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: certs/ca.crt
- name: prod-cluster
  cluster:
    server: https://[::1]:16443/prefix/
    certificate-authority-data: CA_DATA
users:
- name: dev-user
  user:
    token: dev-token
- name: prod-user
  user:
    client-certificate-data: CERT_DATA
    client-key-data: KEY_DATA
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
)";

std::string two_contexts() {
  std::string text = kTwoContexts;
  const auto put = [&](const std::string& key, const std::string& value) {
    text.replace(text.find(key), key.size(), value);
  };
  put("CA_DATA", base64("-----BEGIN CERTIFICATE-----\nprod\n-----END CERTIFICATE-----\n"));
  put("CERT_DATA", base64("client cert pem"));
  put("KEY_DATA", base64("client key pem"));
  return text;
}

}  // namespace

TEST_CASE("kubeconfig: current context, CA file relative to the kubeconfig, static token", "[cluster][kubeconfig]") {
  TempDir dir;
  std::filesystem::create_directories(dir.file("certs"));
  write_text(dir.file("certs/ca.crt"), "dev ca pem");
  write_text(dir.file("config"), two_contexts());
  auto cfg = cluster::load_kubeconfig(dir.file("config"));
  REQUIRE(cfg.ok());
  CHECK(cfg->host == "127.0.0.1");
  CHECK(cfg->port == 6443);
  CHECK(cfg->base_path.empty());
  CHECK(cfg->ca_pem == "dev ca pem");
  CHECK(cfg->token == "dev-token");
  CHECK(cfg->client_cert_pem.empty());
  CHECK_FALSE(cfg->insecure_skip_verify);
  CHECK(cfg->origin.find("context dev") != std::string::npos);
}

TEST_CASE("kubeconfig: --context picks another context, -data fields are base64 PEM", "[cluster][kubeconfig]") {
  TempDir dir;
  write_text(dir.file("config"), two_contexts());
  auto cfg = cluster::load_kubeconfig(dir.file("config"), "prod");
  REQUIRE(cfg.ok());
  CHECK(cfg->host == "::1");
  CHECK(cfg->port == 16443);
  CHECK(cfg->base_path == "/prefix");
  CHECK(cfg->ca_pem.find("prod") != std::string::npos);
  CHECK(cfg->client_cert_pem == "client cert pem");
  CHECK(cfg->client_key_pem == "client key pem");
  CHECK(cfg->token.empty());
}

TEST_CASE("kubeconfig: errors name the file and what is wrong", "[cluster][kubeconfig]") {
  TempDir dir;
  write_text(dir.file("config"), two_contexts());
  SECTION("unknown context") {
    auto cfg = cluster::load_kubeconfig(dir.file("config"), "staging");
    REQUIRE_FALSE(cfg.ok());
    CHECK(cfg.error().find("no context named \"staging\"") != std::string::npos);
  }
  SECTION("missing CA file") {
    auto cfg = cluster::load_kubeconfig(dir.file("config"), "dev");
    REQUIRE_FALSE(cfg.ok());
    CHECK(cfg.error().find("certificate-authority") != std::string::npos);
  }
  SECTION("not YAML, absent file, http server, exec plugin") {
    write_text(dir.file("bad"), "clusters: [unclosed");
    CHECK_FALSE(cluster::load_kubeconfig(dir.file("bad")).ok());
    CHECK_FALSE(cluster::load_kubeconfig(dir.file("absent")).ok());
    write_text(dir.file("http"), "current-context: c\nclusters: [{name: k, cluster: {server: 'http://1.2.3.4'}}]\n"
                                 "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
    auto http = cluster::load_kubeconfig(dir.file("http"));
    REQUIRE_FALSE(http.ok());
    CHECK(http.error().find("not an https:// URL") != std::string::npos);
    write_text(dir.file("exec"), "current-context: c\nclusters: [{name: k, cluster: {server: 'https://1.2.3.4'}}]\n"
                                 "users: [{name: u, user: {exec: {command: aws}}}]\n"
                                 "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
    auto exec = cluster::load_kubeconfig(dir.file("exec"));
    REQUIRE_FALSE(exec.ok());
    CHECK(exec.error().find("exec plugin") != std::string::npos);
  }
}

TEST_CASE("kubeconfig: insecure-skip-tls-verify is honoured only when set", "[cluster][kubeconfig]") {
  TempDir dir;
  write_text(dir.file("config"), "current-context: c\n"
                                 "clusters: [{name: k, cluster: {server: 'https://10.0.0.1', insecure-skip-tls-verify: true}}]\n"
                                 "users: [{name: u, user: {tokenFile: tok}}]\n"
                                 "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
  auto cfg = cluster::load_kubeconfig(dir.file("config"));
  REQUIRE(cfg.ok());
  CHECK(cfg->insecure_skip_verify);
  CHECK(cfg->port == 443);
  CHECK(cfg->token_file == dir.file("tok"));
}

TEST_CASE("in-cluster: service host/port from the environment, token re-read as it rotates", "[cluster][kubeconfig]") {
  TempDir dir;
  write_text(dir.file("token"), "first\n");
  write_text(dir.file("ca.crt"), "ca");
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  auto cfg = cluster::in_cluster_config(dir.path());
  REQUIRE(cfg.ok());
  CHECK(cfg->host == "10.96.0.1");
  CHECK(cfg->ca_file == dir.file("ca.crt"));
  CHECK(cluster::current_token(*cfg).value() == "first");
  write_text(dir.file("token"), "second");
  CHECK(cluster::current_token(*cfg).value() == "second");
  SECTION("without the environment it is not in a cluster") {
    ScopedEnv no_host("KUBERNETES_SERVICE_HOST", "");
    CHECK_FALSE(cluster::in_cluster_config(dir.path()).ok());
  }
}

TEST_CASE("resolve: --kubeconfig, then $KUBECONFIG (first entry)", "[cluster][kubeconfig]") {
  TempDir dir;
  write_text(dir.file("a"), "current-context: c\nclusters: [{name: k, cluster: {server: 'https://1.1.1.1:1'}}]\n"
                            "contexts: [{name: c, context: {cluster: k}}]\n");
  write_text(dir.file("b"), "current-context: c\nclusters: [{name: k, cluster: {server: 'https://2.2.2.2:2'}}]\n"
                            "contexts: [{name: c, context: {cluster: k}}]\n");
  ScopedEnv env("KUBECONFIG", dir.file("b") + ":" + dir.file("a"));
  CHECK(cluster::resolve_config(dir.file("a"), "").value().host == "1.1.1.1");
  CHECK(cluster::resolve_config("", "").value().host == "2.2.2.2");
}
