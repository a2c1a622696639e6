// WebhookServer: the HTTPS transport in front of the AdmissionHandler.
//
//   POST /validate[/enforce|/warn|/audit][?timeout=..]  -> AdmissionReview answer
//
// Refused before the body is read, with a metav1.Status JSON body:
// unknown path 404, other methods 405, a content type other than
// application/json 415, no Content-Length (chunked) 411, Content-Length over
// the limit 413; a head over the caps 431 (or 414 for the request line); a
// malformed head 400. A refused request with a body closes the connection
// (its unread body cannot be skipped safely without reading it).
//
// The connection model (one event-driven I/O thread, deadlines per phase,
// connection cap) is HttpListener's; see http_listener.hpp and
// docs/operations.md. Reviews up to 64 KiB are decided on the I/O thread
// (microseconds); larger ones on `threads` workers.
//
// Draining (SIGTERM): every answer carries `Connection: close` and the
// connection is closed after it, so the API server moves to other replicas;
// requests keep being answered until stop().
//
// Thread-safety: begin_drain, stop, port, in_flight and the health reasons may
// be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <memory>
#include <string>

#include "admission/handler.hpp"
#include "server/cert_store.hpp"
#include "server/metrics.hpp"
#include "server/http_listener.hpp"
#include "wirecheck/result.hpp"


namespace wirecheck::server {

struct WebhookServerOptions {
  std::string host = "0.0.0.0";
  int port = 8443;  // 0: any free port (tests)
  admission::Mode default_mode = admission::Mode::kWarn;
  std::size_t max_body_bytes = 8u << 20;
  // Body bytes held at once across connections; more large bodies wait.
  std::size_t max_body_bytes_in_flight = 64u << 20;
  std::size_t threads = 2;  // decision workers for reviews over 64 KiB
  std::size_t max_connections = 2048;
  // Connections without a complete request head yet that one source address
  // may hold (its oldest is closed for a new one); 0: no limit.
  std::size_t max_pending_per_source = 512;
  // Absolute deadlines (docs/operations.md): TLS handshake and request head
  // from accept; the whole request (the first one from accept, later ones from
  // their first byte), 0 = head deadline only; the answer's write; the wait
  // for the next request on a keep-alive connection (under the API server's 90 s).
  std::chrono::milliseconds head_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::string client_ca_file;  // non-empty: require verified client certificates
};

class WebhookServer final : private HttpRoutes {
 public:
  WebhookServer(const admission::AdmissionHandler& handler, CertStore& certs, Metrics& metrics,
                WebhookServerOptions options);
  ~WebhookServer() override;
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  // Sets up TLS and binds the listening socket (port() is known afterwards).
  core::Status bind();
  // Serves on a background thread.
  void start();
  void begin_drain() { listener_.begin_drain(); }
  bool draining() const { return listener_.draining(); }
  // Stops accepting connections and closes idle ones; answers under way are
  // written completely. With `join`, also waits for every connection to end.
  void stop(bool join = true) { listener_.stop(join); }
  int port() const { return listener_.port(); }
  // Requests from their first byte until their answer is written.
  std::int64_t in_flight() const { return listener_.in_flight(); }
  // Waits until no request is under way; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout) const { return listener_.wait_idle(timeout); }
  // For /readyz: "" when a new request would be taken now, else why not.
  std::string not_ready_reason() const { return listener_.not_ready_reason(); }
  // For /healthz: "" while the listener accepts and its loop turns.
  std::string not_live_reason() const { return listener_.not_live_reason(); }
  // After stop: waits until every connection is closed; false on timeout.
  bool wait_closed(std::chrono::milliseconds timeout) const { return listener_.wait_closed(timeout); }

 private:
  bool accept_head(const HttpHead& head, HttpAnswer& answer) override;
  void respond(const HttpHead& head, std::string& body, HttpAnswer& answer) override;
  void refuse(int status, std::string_view reason, std::string_view message, HttpAnswer& answer) override;

  const admission::AdmissionHandler& handler_;
  CertStore& certs_;
  Metrics& metrics_;
  WebhookServerOptions options_;
  HttpListener listener_;
};

// Whether `content_type` is application/json (any case, parameters allowed).
bool is_json_media_type(std::string_view content_type);

}  // namespace wirecheck::server
