// ApiClient: a small Kubernetes API client, enough for discovery, paginated
// LIST, streaming WATCH and writes: HTTP/1.1 framed by Boost.Beast's parser
// and serializer over net::TlsClient, the project's one TLS client. TLS is
// always verified (chain, and host name: the DNS name of the kubeconfig's
// server against the DNS SANs, or its IP against the IP SANs) against the
// configured CA, or this machine's roots when none is configured, unless the
// kubeconfig itself sets insecure-skip-tls-verify. The bearer token is read
// again for every request so a rotated service-account token is picked up.
// Keep-alive is on (one connection reused by consecutive requests of one
// client; one the server closed while idle is replaced before use);
// connecting and the handshake have the connect timeout, every read the read
// timeout.
//
// Thread-safety: one ApiClient per thread, except `cancel`, which may be
// called from any thread to end a running request (used to stop watches).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cluster/kube_config.hpp"
#include "wirecheck/result.hpp"

namespace wirecheck::net {
class TlsClient;
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

  // GET `path` and hand the body to `on_data` as it arrives (chunked
  // encoding removed); `on_data` returns false to stop reading.
  // `read_timeout` bounds the silence between two chunks (watches send
  // bookmarks, so silence means a dead connection). Returns the HTTP status
  // (the body of a non-200 answer is in `error_body`, up to 64 KiB).
  core::Result<int> stream(const std::string& path, std::chrono::milliseconds read_timeout,
                           const std::function<bool(std::string_view)>& on_data, std::string* error_body = nullptr);

  // Ends a request running on another thread at once (it returns an error).
  // A cancel that arrives between two requests ends the next one instead,
  // so a stop that races the start of a request never waits out its timeout.
  void cancel();

  const KubeConfig& config() const { return config_; }

 private:
  // Gets the answer's status and its body bytes as they arrive; false stops
  // reading (the connection is then closed: unread bytes must not carry the
  // next request).
  using BodySink = std::function<bool(int status, std::string_view body)>;

  // One request on the kept-alive connection (connecting when there is
  // none). Returns the status; transport, TLS and framing failures are
  // errors naming `method` and `path`.
  core::Result<int> exchange(std::string_view method, const std::string& path, const std::string& body,
                             std::string_view content_type, std::chrono::milliseconds read_timeout,
                             const BodySink& on_body);

  KubeConfig config_;
  ApiClientOptions options_;
  // Made in the constructor and kept for the client's life, so cancel()
  // never races its creation.
  std::unique_ptr<net::TlsClient> tls_;
};

}  // namespace wirecheck::cluster
