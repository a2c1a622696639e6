// HttpListener: the event-driven HTTP/1.1 (optionally TLS) transport under the
// webhook and ops listeners, built on Boost.Asio + Boost.Beast.
//
// One I/O thread owns every connection: accept, TLS handshake, reading the
// request head and body, writing the answer. A connection that is idle, slow
// or half-open costs a socket and a few kilobytes, never a thread, so no
// number of such connections below the cap keeps a new client from being
// served. Complete requests are answered inline on the I/O thread when their
// body is small (a decision on a few kilobytes costs microseconds, less than a
// thread hand-off) and on a small worker pool when large.
//
// Every phase has an absolute deadline (Beast's basic_stream timer, reset per
// phase, never per read):
//   handshake + request head   accept + head_timeout (then per request: first byte + head_timeout)
//   whole request              first byte (accept for the first request) + request_timeout
//   response write             write start + write_timeout
//   idle keep-alive            last response + idle_timeout
// Open connections are capped. A connection is "pending" from accept until
// its first complete request head: it has cost its peer nothing but a
// connect (or a handshake), and the API server's connections leave that
// state within milliseconds. At the cap the oldest pending connection is
// closed to make room, else the oldest idle keep-alive one, else the new one
// is refused at accept; and each source address may hold at most
// `max_pending_per_source` pending connections (its oldest is closed for a
// new one), so one source cannot push out the connections of others. An
// attacker who opens connections and never sends a request only ever
// evicts its own oldest ones (docs/security.md).
// The head is capped in bytes, request-line length and field count (431/414);
// body bytes held at once across connections are capped too (further large
// bodies are read when earlier answers are written).
//
// Thread-safety: start/stop/begin_drain/stats may be called from any thread;
// Routes callbacks run on the I/O thread, except `respond` for bodies over
// `inline_body_bytes`, which runs on a worker.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wirecheck/result.hpp"

namespace wirecheck::server {

class TransportMetrics;

// The request head as parsed, valid until the answer is written.
class HttpHead {
 public:
  virtual ~HttpHead() = default;
  virtual std::string_view method() const = 0;
  virtual std::string_view target() const = 0;
  // Path without the query string.
  std::string_view path() const;
  virtual bool has(std::string_view name) const = 0;
  virtual std::string_view header(std::string_view name) const = 0;  // "" when absent
  virtual const std::string& remote() const = 0;                     // "ip:port"
};

struct HttpAnswer {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this answer
};

class HttpRoutes {
 public:
  virtual ~HttpRoutes() = default;
  // The head is complete. Return true to read the body and call respond();
  // false to send `answer` at once without reading the body (the connection
  // is closed afterwards when the request announced one).
  virtual bool accept_head(const HttpHead& head, HttpAnswer& answer) = 0;
  // The whole request. `body` is followed by `body_padding` zero bytes beyond
  // its size (capacity), for parsers that read past the end.
  virtual void respond(const HttpHead& head, std::string& body, HttpAnswer& answer) = 0;
  // A malformed or oversized head, or an oversized body: fill a JSON/text error.
  virtual void refuse(int status, std::string_view reason, std::string_view message, HttpAnswer& answer) = 0;
};

struct HttpListenerOptions {
  std::string name = "webhook";  // label in logs and metrics
  std::string host = "0.0.0.0";
  int port = 0;
  // Non-null: serve TLS; called once on the listener's SSL_CTX.
  std::function<core::Status(SSL_CTX&)> configure_tls;
  std::size_t max_connections = 2048;
  // Pending connections (accepted, no complete request head yet) one source
  // address may hold; 0: no per-source limit.
  std::size_t max_pending_per_source = 512;
  // At stop, a pending connection accepted less than this long ago (or taken
  // from the accept backlog by stop itself) may still send its request, which
  // is answered with `Connection: close`; older pending ones close at once.
  std::chrono::milliseconds stop_grace{1000};
  std::chrono::milliseconds head_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};  // 0: no limit beyond head_timeout
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds linger{2000};  // reading a refused body away before close
  std::size_t max_head_bytes = 16 * 1024;
  std::size_t max_request_line = 4 * 1024;
  std::size_t max_header_fields = 100;
  std::size_t max_body_bytes = 8u << 20;
  // Body bytes all connections may hold at once. A request whose body would
  // exceed it waits (within its request deadline) until earlier ones are
  // answered; one request alone always proceeds.
  std::size_t max_body_bytes_in_flight = 64u << 20;
  std::size_t body_padding = 0;
  std::size_t workers = 0;                   // 0: answer every request on the I/O thread
  std::size_t inline_body_bytes = 64 * 1024;  // larger bodies go to a worker
};

class HttpListener {
 public:
  HttpListener(HttpRoutes& routes, TransportMetrics& metrics, HttpListenerOptions options);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Sets up TLS and binds (port() is known afterwards).
  core::Status bind();
  // Serves on a background I/O thread.
  void start();
  // Every later answer carries `Connection: close`.
  void begin_drain();
  bool draining() const;
  // Stops accepting: connections already in the kernel's accept backlog are
  // accepted first (new SYNs are dropped meanwhile, so a connect that comes
  // too late is refused before any handshake, never reset). Idle
  // connections close with a FIN; requests under way are answered
  // completely; pending ones get `stop_grace` to send theirs. With `join`,
  // waits until every connection is closed.
  void stop(bool join = true);
  // After stop: waits until every connection is closed; false on timeout.
  bool wait_closed(std::chrono::milliseconds timeout) const;
  int port() const;
  // Requests from their first byte until their answer is written.
  std::int64_t in_flight() const;
  bool wait_idle(std::chrono::milliseconds timeout) const;
  // "" when a new client would be served now, else why not.
  std::string not_ready_reason() const;
  // "" while the I/O thread turns over and the acceptor accepts, else why not.
  std::string not_live_reason() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace wirecheck::server
