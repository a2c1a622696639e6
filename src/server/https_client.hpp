// HttpsClient: a small blocking HTTP/1.1 client over net::TlsClient that
// behaves like the API server's webhook client (ALPN http/1.1, no SNI for IP
// literals, Content-Length bodies, keep-alive) and reports which stage
// failed: connecting, verifying the server's certificate (chain and host
// name, SANs only) or the HTTP exchange. `wirecheck selftest` and the server
// tests use it. TLS, deadlines and the explanation of a refused client
// certificate are net::TlsClient's; this file only frames HTTP.
//
// Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "net/tls_client.hpp"

namespace wirecheck::server {

struct HttpsClientOptions {
  std::string host;         // DNS name or IP literal (no brackets)
  int port = 443;
  std::string ca_file;      // verify the server against this CA bundle
  bool verify = true;
  std::string client_cert_file;  // optional client certificate
  std::string client_key_file;
  std::chrono::milliseconds timeout{5000};
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const;
};

class HttpsClient {
 public:
  enum class Stage { kNone, kConnect, kTls, kHttp };

  explicit HttpsClient(HttpsClientOptions options);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Connects and completes the handshake (no-op when connected).
  bool connect();
  // Sends one request on the current connection (connecting first if needed)
  // and reads the answer. `Connection: close` in the answer closes it.
  bool post(std::string_view target, std::string_view body, HttpResponse& out,
            std::string_view content_type = "application/json");
  bool get(std::string_view target, HttpResponse& out);
  // Sends bytes as they are (a hand-made request) and reads one answer.
  bool send_raw(std::string_view bytes);
  bool read_response(HttpResponse& out);
  // Whether the server has closed the connection (waits up to `wait`).
  bool peer_closed(std::chrono::milliseconds wait);
  void close();
  bool connected() const { return tls_.connected(); }

  Stage failed_stage() const { return stage_; }
  const std::string& error() const { return error_; }
  std::string peer_serial_hex() const;
  std::string negotiated_alpn() const;
  std::string tls_version() const;

 private:
  bool fail(Stage stage, std::string message);
  // Takes the TLS client's failure as this client's.
  bool tls_failed();
  bool write_all(std::string_view bytes);
  bool read_more();

  HttpsClientOptions options_;
  net::TlsClient tls_;
  std::string buffer_;  // bytes read past the previous answer
  Stage stage_ = Stage::kNone;
  std::string error_;
};

// Splits "https://host:port/path?query" (host may be [v6]). False when malformed.
bool parse_https_url(std::string_view url, std::string& host, int& port, std::string& target);

}  // namespace wirecheck::server
