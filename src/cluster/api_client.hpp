// ApiClient: a small Kubernetes API client on cpp-httplib's SSLClient +
// OpenSSL, enough for discovery, paginated LIST and streaming WATCH. TLS is
// always verified against the configured CA (host name included) unless the
// kubeconfig itself sets insecure-skip-tls-verify; the bearer token is read
// again for every request so a rotated service-account token is picked up.
// Keep-alive is on (one connection reused by consecutive requests of one
// client); each request has a connect and a read timeout.
//
// Thread-safety: one ApiClient per thread, except `cancel`, which may be
// called from any thread to end a running request (used to stop watches).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "cluster/kube_config.hpp"
#include "wirecheck/result.hpp"

namespace httplib {
class SSLClient;
}

namespace wirecheck::cluster {

struct ApiResponse {
  int status = 0;
  std::string body;
};

struct ApiClientOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // Longest silence on a LIST or discovery request.
  std::chrono::milliseconds read_timeout{30000};
};

class ApiClient {
 public:
  ApiClient(KubeConfig config, ApiClientOptions options = {});
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // GET `path` (with query). Any HTTP status is a value; transport and TLS
  // failures are errors.
  core::Result<ApiResponse> get(const std::string& path);

  // A write: `method` POST, PUT or PATCH with `body` of `content_type`
  // (server-side apply: PATCH with application/apply-patch+yaml). Any HTTP
  // status is a value; transport and TLS failures are errors.
  core::Result<ApiResponse> send(const std::string& method, const std::string& path, const std::string& body,
                                 const std::string& content_type = "application/json");

  // GET `path` and hand the body to `on_data` as it arrives; `on_data`
  // returns false to stop reading. `read_timeout` bounds the silence between
  // two chunks (watches send bookmarks, so silence means a dead connection).
  // Returns the HTTP status (the body of a non-200 answer is in `error_body`).
  core::Result<int> stream(const std::string& path, std::chrono::milliseconds read_timeout,
                           const std::function<bool(std::string_view)>& on_data, std::string* error_body = nullptr);

  // Ends a request running on another thread (it returns an error).
  void cancel();

  const KubeConfig& config() const { return config_; }

 private:
  core::Status ensure_client();
  // Connects if needed, sets the read timeout, and gives the Authorization
  // value ("" without a token; the token file is read again each time).
  core::Result<std::string> prepare(std::chrono::milliseconds read_timeout);

  KubeConfig config_;
  ApiClientOptions options_;
  std::string ca_path_;  // file handed to OpenSSL (the configured file or a private copy of -data)
  std::mutex client_mutex_;  // guards client_ against cancel()
  std::unique_ptr<httplib::SSLClient> client_;
};

}  // namespace wirecheck::cluster
