#include "net/tls_client.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <cctype>
#include <optional>

namespace wirecheck::net {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

// The index under which an SSL carries its TlsClient (Asio keeps its own
// verify callback in the SSL's app data, so that slot is taken).
int client_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The last queued OpenSSL error as text; clears the queue.
std::string openssl_queue_error(const char* when_empty) {
  unsigned long last = 0;
  while (const unsigned long e = ERR_get_error()) last = e;
  if (last == 0) return when_empty;
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

int ssl_reason(const error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return 0;
  return ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
}

std::string ssl_error_text(const error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return lower(ec.message());
  char buf[256];
  ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof buf);
  return buf;
}

// The peer hung up without a TLS alert we could read.
bool peer_hung_up(const error_code& ec) {
  return ec == asio::error::eof || ec == ssl::error::stream_truncated || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == ssl::error::unspecified_system_error;
}

// A certificate chain (leaf first) and its key from PEM text into `ctx`.
bool use_pem_identity(SSL_CTX* ctx, const std::string& cert_pem, const std::string& key_pem) {
  const std::vector<Certificate> chain = Certificate::parse_pem(cert_pem);
  if (chain.empty() || SSL_CTX_use_certificate(ctx, chain.front().get()) != 1) return false;
  for (std::size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].get()) != 1) return false;
  }
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  const bool ok = key != nullptr && SSL_CTX_use_PrivateKey(ctx, key) == 1;
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace

struct TlsClient::Impl {
  asio::io_context io{1};
  std::optional<ssl::context> ctx;
  std::optional<ssl::stream<tcp::socket>> stream;
  // Set by cancel() on any thread, consumed by the operation it ends.
  std::atomic<bool> cancel_requested{false};

  // Runs handlers until `done`, `deadline` or a cancel(). Then `cancel`
  // aborts the pending operations, whose handlers run before this returns
  // false, so nothing refers to the caller's stack afterwards.
  template <class Cancel>
  bool run_until(const bool& done, Clock::time_point deadline, Cancel&& cancel) {
    io.restart();
    // cancel() posts a no-op after setting the flag: it wakes run_one_until.
    while (!done && !cancel_requested.load(std::memory_order_acquire)) {
      if (io.run_one_until(deadline) == 0) break;
    }
    if (done) return true;
    cancel();
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    return false;
  }
  void close_socket() {
    if (!stream) return;
    error_code ignored;
    stream->lowest_layer().close(ignored);
  }
};

TlsClient::TlsClient(TlsClientOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

TlsClient::~TlsClient() { close(); }

bool TlsClient::connected() const { return impl_->stream.has_value(); }

bool TlsClient::fail(Stage stage, std::string message, bool timed_out) {
  stage_ = stage;
  error_ = std::move(message);
  timed_out_ = timed_out;
  cancelled_ = false;
  ERR_clear_error();
  impl_->close_socket();
  impl_->stream.reset();
  return false;
}

bool TlsClient::take_cancel() { return impl_->cancel_requested.exchange(false, std::memory_order_acq_rel); }

bool TlsClient::fail_cancelled(Stage stage) {
  fail(stage, "cancelled");
  cancelled_ = true;
  return false;
}

void TlsClient::cancel() {
  impl_->cancel_requested.store(true, std::memory_order_release);
  // Thread-safe (io_context::post); wakes the owner if it waits in run_until.
  asio::post(impl_->io, [] {});
}

bool TlsClient::idle_usable() const {
  if (!impl_->stream) return false;
  if (SSL_pending(impl_->stream->native_handle()) > 0) return false;
  // Readable while idle: a close (EOF or close_notify) or bytes nobody asked for.
  pollfd p{impl_->stream->lowest_layer().native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

bool TlsClient::have_client_certificate() const {
  return !options_.client_cert_file.empty() || !options_.client_cert_pem.empty();
}

void TlsClient::close() {
  if (!impl_->stream) return;
  Impl& d = *impl_;
  // Sends close_notify if the socket takes it at once (poll runs only what
  // is ready) and never waits for the peer's answer.
  bool done = false;
  d.stream->async_shutdown([&](const error_code&) { done = true; });
  d.io.restart();
  d.io.poll();
  d.close_socket();
  d.io.restart();
  while (!done && d.io.run_one() > 0) {
  }
  d.stream.reset();
}

bool TlsClient::connect() {
  if (impl_->stream) return true;
  stage_ = Stage::kNone;
  error_.clear();
  refused_ = false;
  timed_out_ = false;
  cancelled_ = false;
  presented_ = Presented{};
  certificate_requested_ = false;
  bytes_read_ = 0;
  Impl& d = *impl_;
  if (take_cancel()) return fail_cancelled(Stage::kConnect);

  if (!d.ctx) {
    d.ctx.emplace(ssl::context::tls_client);
    SSL_CTX* ctx = d.ctx->native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (!options_.alpn.empty()) {
      std::string wire;
      for (const std::string& p : options_.alpn) wire += static_cast<char>(p.size()) + p;
      SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                              static_cast<unsigned int>(wire.size()));
    }
    if (!options_.ca_file.empty() && SSL_CTX_load_verify_locations(ctx, options_.ca_file.c_str(), nullptr) != 1) {
      d.ctx.reset();
      return fail(Stage::kTls, "cannot load CA file " + options_.ca_file + ": " +
                                   openssl_queue_error("no certificate in the file"));
    }
    for (const Certificate& c : Certificate::parse_pem(options_.ca_pem)) {
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), c.get());
    }
    if (options_.system_roots) SSL_CTX_set_default_verify_paths(ctx);
    // Called when the server asks for a client certificate: remembered to
    // explain a connection it closes right after the handshake.
    SSL_CTX_set_cert_cb(
        ctx,
        [](SSL* s, void*) {
          if (auto* self = static_cast<TlsClient*>(SSL_get_ex_data(s, client_index()))) {
            self->certificate_requested_ = true;
          }
          return 1;
        },
        nullptr);
    if (!options_.client_cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx, options_.client_cert_file.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx, options_.client_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        d.ctx.reset();
        return fail(Stage::kTls, "cannot load client certificate: " + openssl_queue_error("unreadable file"));
      }
    } else if (!options_.client_cert_pem.empty() &&
               !use_pem_identity(ctx, options_.client_cert_pem, options_.client_key_pem)) {
      d.ctx.reset();
      return fail(Stage::kTls, "cannot load client certificate: " + openssl_queue_error("not PEM"));
    }
    ERR_clear_error();
  }

  const Clock::time_point deadline = Clock::now() + options_.timeout;
  const std::string timeout_text = std::to_string(options_.timeout.count()) + " ms";
  d.stream.emplace(d.io, *d.ctx);

  // Resolve: an IP literal needs no lookup.
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  const asio::ip::address literal = asio::ip::make_address(options_.host, ec);
  if (!ec) {
    endpoints.emplace_back(literal, static_cast<unsigned short>(options_.port));
  } else {
    tcp::resolver resolver(d.io);
    bool done = false;
    resolver.async_resolve(options_.host, std::to_string(options_.port),
                           [&](const error_code& e, const tcp::resolver::results_type& results) {
                             ec = e;
                             for (const auto& r : results) endpoints.push_back(r.endpoint());
                             done = true;
                           });
    if (!d.run_until(done, deadline, [&] { resolver.cancel(); })) {
      if (take_cancel()) return fail_cancelled(Stage::kConnect);
      return fail(Stage::kConnect, "cannot resolve " + options_.host + ": timed out after " + timeout_text, true);
    }
    if (ec || endpoints.empty()) {
      return fail(Stage::kConnect, "cannot resolve " + options_.host + ": " + lower(ec.message()));
    }
  }

  // Connect to the first address that accepts.
  {
    bool done = false;
    asio::async_connect(d.stream->lowest_layer(), endpoints, [&](const error_code& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    if (!d.run_until(done, deadline, [&] { d.close_socket(); })) {
      if (take_cancel()) return fail_cancelled(Stage::kConnect);
      return fail(Stage::kConnect, "connection timed out after " + timeout_text, true);
    }
    if (ec) {
      const bool refused = ec == asio::error::connection_refused;
      fail(Stage::kConnect, lower(ec.message()));
      refused_ = refused;
      return false;
    }
    d.stream->lowest_layer().set_option(tcp::no_delay(true), ec);
  }

  // Handshake.
  SSL* s = d.stream->native_handle();
  SSL_set_ex_data(s, client_index(), this);
  const std::string& name = options_.server_name.empty() ? options_.host : options_.server_name;
  const bool ip_name = is_ip_literal(name);
  if (!ip_name) SSL_set_tlsext_host_name(s, name.c_str());
  X509_VERIFY_PARAM* param = SSL_get0_param(s);
  if (ip_name) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    // Go never falls back to the Common Name.
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  }
  d.stream->set_verify_mode(options_.verify ? ssl::verify_peer : ssl::verify_none);
  bool done = false;
  d.stream->async_handshake(ssl::stream_base::client, [&](const error_code& e) {
    ec = e;
    done = true;
  });
  const bool in_time = d.run_until(done, deadline, [&] { d.close_socket(); });
  // What the server sent, also when we refused it.
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(s)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      X509* c = sk_X509_value(chain, i);
      X509_up_ref(c);
      presented_.chain.emplace_back(c);
    }
  }
  const long verify_result = SSL_get_verify_result(s);
  presented_.verified = verify_result == X509_V_OK && !presented_.chain.empty() &&
                        (!options_.ca_file.empty() || !options_.ca_pem.empty() || options_.system_roots);
  if (verify_result != X509_V_OK) presented_.verify_error = X509_verify_cert_error_string(verify_result);
  if (!in_time) {
    if (take_cancel()) return fail_cancelled(Stage::kTls);
    return fail(Stage::kTls,
                "TLS handshake timed out after " + timeout_text +
                    " (the server accepted the connection but did not complete the handshake)",
                true);
  }
  if (ec) {
    // Our refusal of the server first: it explains the handshake's end.
    if (options_.verify && verify_result != X509_V_OK) {
      return fail(Stage::kTls, "certificate verification failed: " + presented_.verify_error);
    }
    if (std::string refusal = client_certificate_refusal(ssl_reason(ec)); !refusal.empty()) {
      return fail(Stage::kTls, std::move(refusal));
    }
    if (peer_hung_up(ec)) {
      return fail(Stage::kTls,
                  "TLS handshake failed: the server closed the connection (is it serving TLS on this port?)");
    }
    return fail(Stage::kTls, "TLS handshake failed: " + ssl_error_text(ec));
  }
  presented_.protocol = SSL_get_version(s);
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(s, &alpn, &alpn_len);
  presented_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  return true;
}

std::string TlsClient::client_certificate_refusal(int reason) const {
  const bool have_certificate = have_client_certificate();
  const std::string certificate =
      options_.client_cert_file.empty() ? "the client certificate" : options_.client_cert_file;
  switch (reason) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return "client certificate required: the server refused the connection without one"
             " (give --client-cert-file and --client-key-file)";
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
      // TLS 1.2 servers answer a missing certificate with a generic alert.
      if (certificate_requested_ && !have_certificate) {
        return "client certificate required: the server asked for one and refused the handshake without it"
               " (give --client-cert-file and --client-key-file)";
      }
      return {};
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
      if (!have_certificate) return {};
      return std::string("client certificate refused by the server (") +
             ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, reason)) + "): check that " +
             certificate + " is signed by the CA the server trusts and still valid";
    default:
      break;
  }
  // Under TLS 1.3 the refusal comes after our handshake completed, and the
  // alert is often lost to the reset that follows our first write: a server
  // that asked for a certificate and dropped the connection before sending
  // anything refused the certificate (or its absence).
  if (!certificate_requested_ || bytes_read_ > 0) return {};
  if (!have_certificate) {
    return "client certificate required: the server asked for one and closed the connection"
           " (give --client-cert-file and --client-key-file)";
  }
  return "client certificate refused by the server (it asked for one and closed the connection): check that " +
         certificate + " is signed by the CA the server trusts and still valid";
}

bool TlsClient::write(std::string_view bytes) {
  if (!impl_->stream) return fail(Stage::kIo, "not connected");
  if (take_cancel()) return fail_cancelled(Stage::kIo);
  Impl& d = *impl_;
  bool done = false;
  error_code ec;
  asio::async_write(*d.stream, asio::buffer(bytes.data(), bytes.size()), [&](const error_code& e, std::size_t) {
    ec = e;
    done = true;
  });
  if (!d.run_until(done, Clock::now() + options_.timeout, [&] { d.close_socket(); })) {
    if (take_cancel()) return fail_cancelled(Stage::kIo);
    return fail(Stage::kIo, "write timed out after " + std::to_string(options_.timeout.count()) + " ms", true);
  }
  if (ec) {
    if (std::string refusal = client_certificate_refusal(ssl_reason(ec)); !refusal.empty()) {
      return fail(Stage::kTls, std::move(refusal));
    }
    return fail(Stage::kIo, "write failed (connection closed?): " + ssl_error_text(ec));
  }
  return true;
}

TlsClient::Read TlsClient::read_some(std::string& out, std::chrono::milliseconds wait) {
  if (!impl_->stream) {
    fail(Stage::kIo, "not connected");
    return Read::kFailed;
  }
  if (take_cancel()) {
    fail_cancelled(Stage::kIo);
    return Read::kFailed;
  }
  Impl& d = *impl_;
  char chunk[16384];
  bool done = false;
  error_code ec;
  std::size_t n = 0;
  d.stream->async_read_some(asio::buffer(chunk), [&](const error_code& e, std::size_t got) {
    ec = e;
    n = got;
    done = true;
  });
  // A quiet peer is not an error: the read is cancelled and the connection kept.
  if (!d.run_until(done, Clock::now() + wait, [&] {
        error_code ignored;
        d.stream->lowest_layer().cancel(ignored);
      })) {
    if (n > 0) {
      out.append(chunk, n);
      bytes_read_ += n;
      return Read::kData;
    }
    if (take_cancel()) {
      fail_cancelled(Stage::kIo);
      return Read::kFailed;
    }
    timed_out_ = true;
    return Read::kTimeout;
  }
  if (n > 0) {
    out.append(chunk, n);
    bytes_read_ += n;
    return Read::kData;
  }
  if (ec == asio::error::operation_aborted) return Read::kTimeout;
  if (std::string refusal = client_certificate_refusal(ssl_reason(ec)); !refusal.empty()) {
    fail(Stage::kTls, std::move(refusal));
    return Read::kFailed;
  }
  if (ec == asio::error::eof || peer_hung_up(ec)) {
    fail(Stage::kIo, "connection closed by the server");
    return Read::kClosed;
  }
  fail(Stage::kIo, "read failed: " + ssl_error_text(ec));
  return Read::kFailed;
}

}  // namespace wirecheck::net
