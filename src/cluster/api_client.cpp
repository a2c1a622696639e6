#include "cluster/api_client.hpp"

#include <httplib.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace wirecheck::cluster {
namespace {

using core::Result;

// PEM text -> OpenSSL objects; null on failure.
X509* parse_cert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

EVP_PKEY* parse_key(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

// A private file holding `pem` (OpenSSL verifies against files; the CA is
// public data, the file only exists for the client's lifetime).
Result<std::string> write_private_copy(const std::string& pem) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "wirecheck-ca-XXXXXX").string();
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) return Result<std::string>::failure("cannot create a file for the cluster CA");
  const bool ok = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
  ::close(fd);
  if (!ok) return Result<std::string>::failure("cannot write the cluster CA");
  return tmpl;
}

time_t seconds(std::chrono::milliseconds d) { return static_cast<time_t>(d.count() / 1000); }
time_t micros(std::chrono::milliseconds d) { return static_cast<time_t>((d.count() % 1000) * 1000); }

httplib::Headers request_headers(const std::string& authorization) {
  httplib::Headers headers{{"Accept", "application/json"}};
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  return headers;
}

}  // namespace

ApiClient::ApiClient(KubeConfig config, ApiClientOptions options)
    : config_(std::move(config)), options_(options) {}

ApiClient::~ApiClient() {
  if (!config_.ca_pem.empty() && !ca_path_.empty()) ::unlink(ca_path_.c_str());
}

core::Status ApiClient::ensure_client() {
  std::lock_guard<std::mutex> lock(client_mutex_);
  if (client_) return core::ok_status();
  if (ca_path_.empty()) {
    if (!config_.ca_pem.empty()) {
      auto path = write_private_copy(config_.ca_pem);
      if (!path) return core::Status::failure(path.error());
      ca_path_ = *path;
    } else {
      ca_path_ = config_.ca_file;
    }
  }
  std::unique_ptr<httplib::SSLClient> client;
  if (!config_.client_cert_pem.empty()) {
    X509* cert = parse_cert(config_.client_cert_pem);
    EVP_PKEY* key = parse_key(config_.client_key_pem);
    if (cert == nullptr || key == nullptr) {
      X509_free(cert);
      EVP_PKEY_free(key);
      return core::Status::failure("client certificate or key is not PEM");
    }
    client = std::make_unique<httplib::SSLClient>(config_.host, config_.port, cert, key);
    // The client's SSL_CTX holds its own references.
    X509_free(cert);
    EVP_PKEY_free(key);
  } else {
    client = std::make_unique<httplib::SSLClient>(config_.host, config_.port);
  }
  if (!client->is_valid()) return core::Status::failure("cannot set up TLS for " + config_.server);
  if (config_.insecure_skip_verify) {
    client->enable_server_certificate_verification(false);
  } else {
    client->enable_server_certificate_verification(true);
    // Without a CA the system trust store is used (a public API endpoint).
    if (!ca_path_.empty()) client->set_ca_cert_path(ca_path_);
  }
  client->set_connection_timeout(seconds(options_.connect_timeout), micros(options_.connect_timeout));
  client->set_read_timeout(seconds(options_.read_timeout), micros(options_.read_timeout));
  client->set_write_timeout(10, 0);
  client->set_keep_alive(true);
  client->set_follow_location(false);
  client->set_compress(false);
  client_ = std::move(client);
  return core::ok_status();
}

core::Result<std::string> ApiClient::prepare(std::chrono::milliseconds read_timeout) {
  if (auto s = ensure_client(); !s) return Result<std::string>::failure(s.error());
  auto token = current_token(config_);
  if (!token) return token;
  client_->set_read_timeout(seconds(read_timeout), micros(read_timeout));
  return token->empty() ? std::string() : "Bearer " + *token;
}

core::Result<ApiResponse> ApiClient::get(const std::string& path) {
  auto auth = prepare(options_.read_timeout);
  if (!auth) return Result<ApiResponse>::failure(auth.error());
  const httplib::Headers headers = request_headers(*auth);
  auto res = client_->Get(config_.base_path + path, headers);
  if (!res) {
    return Result<ApiResponse>::failure("GET " + path + ": " + httplib::to_string(res.error()));
  }
  return ApiResponse{res->status, std::move(res->body)};
}

core::Result<ApiResponse> ApiClient::send(const std::string& method, const std::string& path,
                                          const std::string& body, const std::string& content_type) {
  auto auth = prepare(options_.read_timeout);
  if (!auth) return Result<ApiResponse>::failure(auth.error());
  const httplib::Headers headers = request_headers(*auth);
  const std::string target = config_.base_path + path;
  httplib::Result res = method == "POST"  ? client_->Post(target, headers, body, content_type)
                        : method == "PUT" ? client_->Put(target, headers, body, content_type)
                                          : client_->Patch(target, headers, body, content_type);
  if (!res) {
    return Result<ApiResponse>::failure(method + " " + path + ": " + httplib::to_string(res.error()));
  }
  return ApiResponse{res->status, std::move(res->body)};
}

core::Result<int> ApiClient::stream(const std::string& path, std::chrono::milliseconds read_timeout,
                                    const std::function<bool(std::string_view)>& on_data,
                                    std::string* error_body) {
  auto auth = prepare(read_timeout);
  if (!auth) return Result<int>::failure(auth.error());
  const httplib::Headers headers = request_headers(*auth);
  int status = 0;
  bool stopped_by_caller = false;
  auto res = client_->Get(
      config_.base_path + path, headers,
      [&](const httplib::Response& r) {
        status = r.status;
        return true;
      },
      [&](const char* data, std::size_t size) {
        if (status != 200) {
          if (error_body != nullptr && error_body->size() < 65536) error_body->append(data, size);
          return true;
        }
        if (!on_data(std::string_view(data, size))) {
          stopped_by_caller = true;
          return false;
        }
        return true;
      });
  // A watch stopped mid-body leaves unread bytes on the connection: it must
  // never carry the next request. Streams are long-lived anyway, so each one
  // gets a fresh connection.
  client_->stop();
  if (stopped_by_caller) return status;
  if (!res) return Result<int>::failure("GET " + path + ": " + httplib::to_string(res.error()));
  return res->status;
}

void ApiClient::cancel() {
  std::lock_guard<std::mutex> lock(client_mutex_);
  if (client_) client_->stop();
}

}  // namespace wirecheck::cluster
