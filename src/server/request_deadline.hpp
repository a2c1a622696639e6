// RequestDeadline: a bound on how long one request may take to arrive.
//
// cpp-httplib's read timeout applies to each read call, so a client that
// sends one byte every few seconds (slowloris, or a broken proxy) holds a
// worker thread for as long as it likes; enough of them and the webhook stops
// answering the API server, which with failurePolicy Fail blocks the cluster.
// RequestDeadline watches TLS records through OpenSSL's message callback: the
// first record after a response (or of a new connection, handshake included)
// starts the clock, the response stops it, and a record that arrives after the
// limit shuts the connection down, freeing its thread. Silence longer than the
// read timeout is httplib's own job. Evaluation time never counts: no records
// arrive while the server works.
//
// Thread-safety: install() once per SSL_CTX before serving; the callback and
// request_done() touch only the connection's own state (one thread each).
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <functional>

namespace wirecheck::server {

class RequestDeadline {
 public:
  // `limit` zero disables the bound. `on_exceeded` runs (on the connection's
  // thread) for each connection cut.
  RequestDeadline(std::chrono::milliseconds limit, std::function<void()> on_exceeded)
      : limit_(limit), on_exceeded_(std::move(on_exceeded)) {}
  RequestDeadline(const RequestDeadline&) = delete;
  RequestDeadline& operator=(const RequestDeadline&) = delete;

  // Watches every connection made from `ctx`; this object must outlive them.
  void install(SSL_CTX& ctx);
  // A response was written on `ssl`: the connection is idle until its next record.
  static void request_done(const SSL* ssl);

 private:
  static void on_message(int write_p, int version, int content_type, const void* buf, std::size_t len,
                         SSL* ssl, void* arg);
  std::chrono::milliseconds limit_;
  std::function<void()> on_exceeded_;
};

}  // namespace wirecheck::server
