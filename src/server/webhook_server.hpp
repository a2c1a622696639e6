// WebhookServer: the HTTPS transport in front of the AdmissionHandler.
//
//   POST /validate[/enforce|/warn|/audit][?timeout=..]  -> AdmissionReview answer
//
// Refused before the body is read, with a metav1.Status JSON body:
// unknown path 404, other methods 405, a content type other than
// application/json 415, no Content-Length (chunked) 411, Content-Length over
// the limit 413. A refused request with a body closes the connection (its
// unread body cannot be skipped safely without reading it).
//
// cpp-httplib settings are explicit (its defaults do not fit a webhook):
// keep-alive for 100 s (longer than the API server's 90 s idle close, so the
// client closes first) and effectively unlimited requests per connection
// (httplib's default of 5 would force a full handshake every 5 reviews),
// 10 s read/write timeouts, a thread per connection from a fixed pool, and
// the payload limit.
//
// Draining (SIGTERM): every answer carries `Connection: close` and the
// connection is closed after it, so the API server moves to other replicas;
// requests keep being answered until stop().
//
// Thread-safety: begin_drain, stop, port, in_flight may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include <httplib.h>

#include "admission/handler.hpp"
#include "server/cert_store.hpp"
#include "server/metrics.hpp"
#include "server/request_deadline.hpp"
#include "wirecheck/result.hpp"


namespace wirecheck::server {

struct WebhookServerOptions {
  std::string host = "0.0.0.0";
  int port = 8443;  // 0: any free port (tests)
  admission::Mode default_mode = admission::Mode::kWarn;
  std::size_t max_body_bytes = 8u << 20;
  std::size_t threads = 64;  // concurrent connections served; others wait
  std::time_t keep_alive_timeout_s = 100;
  std::size_t keep_alive_max_requests = 1000000;
  std::time_t read_timeout_s = 10;
  std::time_t write_timeout_s = 10;
  // Longest time one request (headers and body; the first request of a
  // connection includes the handshake) may take to arrive; 0 = unbounded.
  std::chrono::milliseconds request_timeout{30000};
  std::string client_ca_file;  // non-empty: require verified client certificates
};

class WebhookServer {
 public:
  WebhookServer(const admission::AdmissionHandler& handler, CertStore& certs, Metrics& metrics,
                WebhookServerOptions options);
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  // Sets up TLS and binds the listening socket (port() is known afterwards).
  core::Status bind();
  // Serves on a background thread.
  void start();
  void begin_drain() { draining_.store(true); }
  bool draining() const { return draining_.load(); }
  // Stops accepting connections. With `join`, also waits for the serving
  // thread, i.e. for every open connection to end.
  void stop(bool join = true);
  int port() const { return port_; }
  std::int64_t in_flight() const { return in_flight_.load(); }
  // Waits until no request is being handled; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout) const;

 private:
  void handle_review(const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader, admission::Mode mode);
  httplib::Server::HandlerResponse pre_route(const httplib::Request& req, httplib::Response& res);

  const admission::AdmissionHandler& handler_;
  CertStore& certs_;
  Metrics& metrics_;
  WebhookServerOptions options_;
  RequestDeadline deadline_;
  std::unique_ptr<httplib::SSLServer> http_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<std::int64_t> in_flight_{0};
};

// Whether `content_type` is application/json (any case, parameters allowed).
bool is_json_media_type(std::string_view content_type);

}  // namespace wirecheck::server
