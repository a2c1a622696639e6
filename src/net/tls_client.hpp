// TlsClient: the one TLS client of wirecheck (the Kubernetes API client,
// selftest, the test clients of the admission server, the live probes of
// webhooks and scrape targets). A
// blocking facade over Boost.Asio's ssl::stream: every step (resolve,
// connect, handshake, each write and read) runs against a deadline, so no
// peer can hold it longer than the timeout. It sends SNI as a Go client
// does (the server name, never an IP literal), offers the given ALPN
// protocols, and either verifies the server against given roots while
// handshaking (`verify`, as an HTTPS client must) or completes the
// handshake whatever is served and only records it (a probe, which then
// judges the certificate itself). Either way `presented()` holds what the
// server sent and OpenSSL's verdict.
//
// It reports which stage failed (connect, TLS, I/O) with a message made for
// users; a server that demands a client certificate and refuses ours, or our
// lack of one, is reported as such, also under TLS 1.3 where the refusal
// arrives only with the first read.
//
// The cluster client frames HTTP over it (Beast's parser) and keeps the
// connection alive between requests: `idle_usable` tells whether the server
// has closed it meanwhile, and `cancel` ends a blocked read from another
// thread (a watch being stopped).
//
// Not thread-safe: one client per thread, except `cancel`. The process should
// ignore SIGPIPE (`serve` and the probes do): a peer that hangs up must not
// end it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/certificate.hpp"

namespace wirecheck::net {

struct TlsClientOptions {
  std::string host;         // where to connect: DNS name or IP literal (no brackets)
  int port = 443;
  // The name sent as SNI and verified; empty: `host`. No SNI for an IP literal.
  std::string server_name;
  // Trust for verification: a CA file, PEM text, and/or this machine's roots.
  std::string ca_file;
  std::string ca_pem;
  bool system_roots = false;
  // Refuse a server that does not verify (chain and name, SANs only). False:
  // complete the handshake and record the verdict in presented().
  bool verify = true;
  std::string client_cert_file;  // optional client certificate (PEM) and key
  std::string client_key_file;
  // Or the certificate (chain) and key as PEM text (a kubeconfig's -data).
  std::string client_cert_pem;
  std::string client_key_pem;
  std::vector<std::string> alpn;  // protocols offered, e.g. {"http/1.1"}
  // Connect + handshake together; each write and each read on its own.
  std::chrono::milliseconds timeout{5000};
};

// What the server presented in the last handshake.
struct Presented {
  std::vector<Certificate> chain;  // leaf first, as sent
  std::string protocol;            // "TLSv1.3"
  std::string alpn;                // negotiated, "" when none
  bool verified = false;           // OpenSSL accepted chain and name against the trust given
  std::string verify_error;        // OpenSSL's reason when not (no trust given: "unable to get ...")
  const Certificate* leaf() const { return chain.empty() ? nullptr : &chain.front(); }
};

class TlsClient {
 public:
  enum class Stage { kNone, kConnect, kTls, kIo };
  enum class Read { kData, kClosed, kTimeout, kFailed };

  explicit TlsClient(TlsClientOptions options);
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Connects and completes the handshake (true at once when connected).
  bool connect();
  // Writes all of `bytes` within the timeout.
  bool write(std::string_view bytes);
  // Appends what arrives within `wait` (at least one byte) to `out`. kClosed
  // when the peer ended the connection, kTimeout when nothing came (the
  // connection stays usable), kFailed on errors (see error()).
  Read read_some(std::string& out, std::chrono::milliseconds wait);
  Read read_some(std::string& out) { return read_some(out, options_.timeout); }
  // Sends close_notify (bounded) and closes the socket.
  void close();
  bool connected() const;
  // Whether an idle connection can carry another request: connected, and the
  // peer has neither closed it nor sent anything since the last read (servers
  // close idle keep-alive connections when they like). Does not block.
  bool idle_usable() const;

  // Thread-safe. Ends the connect, write or read running on the owner's
  // thread at once: it fails, cancelled() is true and the connection is
  // closed. A cancel that finds nothing running ends the next of these
  // instead, so a cancel that races the start of a request is never lost.
  void cancel();

  Stage failed_stage() const { return stage_; }
  // Why the last operation failed. Connect stage: the bare reason
  // ("connection refused", "connection timed out after 3000 ms").
  const std::string& error() const { return error_; }
  bool refused() const { return refused_; }      // the host answered: nothing listens there
  bool timed_out() const { return timed_out_; }  // the last failure was a deadline
  bool cancelled() const { return cancelled_; }  // the last failure was cancel()
  const Presented& presented() const { return presented_; }
  const TlsClientOptions& options() const { return options_; }

 private:
  struct Impl;
  bool fail(Stage stage, std::string message, bool timed_out = false);
  // Consumes a pending cancel(): true when there was one (then the operation
  // fails with fail_cancelled).
  bool take_cancel();
  bool fail_cancelled(Stage stage);
  bool have_client_certificate() const;
  // The refusal of our client certificate (or its absence), from the TLS
  // alert or from a close right after the server asked for one; "" otherwise.
  std::string client_certificate_refusal(int ssl_reason) const;

  TlsClientOptions options_;
  std::unique_ptr<Impl> impl_;
  Presented presented_;
  Stage stage_ = Stage::kNone;
  std::string error_;
  bool refused_ = false;
  bool timed_out_ = false;
  bool cancelled_ = false;
  bool certificate_requested_ = false;  // the server sent a CertificateRequest on this connection
  std::size_t bytes_read_ = 0;          // application bytes read on this connection
};

}  // namespace wirecheck::net
