#include "server/https_client.hpp"
#include "server/tls.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "server/cert_store.hpp"

namespace wirecheck::server {
namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpsClient::HttpsClient(HttpsClientOptions options) : options_(std::move(options)) {}

HttpsClient::~HttpsClient() {
  close();
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

bool HttpsClient::fail(Stage stage, std::string message) {
  stage_ = stage;
  error_ = std::move(message);
  close();
  return false;
}

void HttpsClient::close() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  buffer_.clear();
}

bool HttpsClient::connect() {
  if (ssl_ != nullptr) return true;
  stage_ = Stage::kNone;
  error_.clear();
  if (ctx_ == nullptr) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx_, kAlpn, sizeof kAlpn);
    if (options_.verify) {
      if (SSL_CTX_load_verify_locations(ctx_, options_.ca_file.c_str(), nullptr) != 1) {
        return fail(Stage::kTls, "cannot load CA file " + options_.ca_file + ": " + openssl_error());
      }
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    } else {
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    }
    // Called when the server asks for a client certificate: remembered to
    // explain a connection it closes right after the handshake.
    SSL_CTX_set_cert_cb(
        ctx_,
        [](SSL* ssl, void*) {
          static_cast<HttpsClient*>(SSL_get_app_data(ssl))->certificate_requested_ = true;
          return 1;
        },
        nullptr);
    if (!options_.client_cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx_, options_.client_cert_file.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx_, options_.client_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        return fail(Stage::kTls, "cannot load client certificate: " + openssl_error());
      }
    }
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  const std::string port = std::to_string(options_.port);
  if (const int rc = getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &addrs); rc != 0) {
    return fail(Stage::kConnect, "cannot resolve " + options_.host + ": " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  const auto timeout_ms = static_cast<int>(options_.timeout.count());
  for (addrinfo* a = addrs; a != nullptr && fd_ < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      fd_ = fd;
    } else {
      last_error = std::strerror(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(addrs);
  if (fd_ < 0) {
    return fail(Stage::kConnect, "cannot connect to " + options_.host + ":" + port + ": " + last_error);
  }

  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set_app_data(ssl_, this);
  certificate_requested_ = false;
  answered_ = 0;
  if (is_ip_literal(options_.host)) {
    // Like the API server: no SNI for an IP; verify the IP SAN.
    if (options_.verify) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), options_.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, options_.host.c_str());
    if (options_.verify) SSL_set1_host(ssl_, options_.host.c_str());
  }
  if (SSL_connect(ssl_) != 1) {
    const long verify = SSL_get_verify_result(ssl_);
    std::string message = client_certificate_refusal();
    if (!message.empty()) return fail(Stage::kTls, message);
    message = verify != X509_V_OK
                  ? std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify)
                  : "TLS handshake failed: " + openssl_error("connection closed during the handshake");
    ERR_clear_error();
    return fail(Stage::kTls, message);
  }
  return true;
}

std::string HttpsClient::client_certificate_refusal() {
  int reason = 0;
  while (const unsigned long e = ERR_get_error()) {
    if (ERR_GET_LIB(e) == ERR_LIB_SSL) reason = ERR_GET_REASON(e);
  }
  const bool have_certificate = !options_.client_cert_file.empty();
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
             options_.client_cert_file + " is signed by the CA the server trusts and still valid";
    default:
      break;
  }
  // Under TLS 1.3 the refusal comes after our handshake completed, and the
  // alert is often lost to the reset that follows our first write: a server
  // that asked for a certificate and dropped the connection before any
  // answer refused the certificate (or its absence).
  if (!certificate_requested_ || answered_ > 0) return {};
  if (!have_certificate) {
    return "client certificate required: the server asked for one and closed the connection"
           " (give --client-cert-file and --client-key-file)";
  }
  return "client certificate refused by the server (it asked for one and closed the connection): check that " +
         options_.client_cert_file + " is signed by the CA the server trusts and still valid";
}

bool HttpsClient::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
    if (n <= 0) {
      std::string refusal = client_certificate_refusal();
      ERR_clear_error();
      if (!refusal.empty()) return fail(Stage::kTls, std::move(refusal));
      return fail(Stage::kHttp, "write failed (connection closed?)");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool HttpsClient::send_raw(std::string_view bytes) {
  if (!connect()) return false;
  return write_all(bytes);
}

bool HttpsClient::post(std::string_view target, std::string_view body, HttpResponse& out,
                       std::string_view content_type) {
  if (!connect()) return false;
  std::string request = "POST ";
  request += target;
  request += " HTTP/1.1\r\nHost: " + options_.host + ":" + std::to_string(options_.port) +
             "\r\nUser-Agent: wirecheck-selftest\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\nAccept: application/json, */*\r\nContent-Type: ";
  request += content_type;
  request += "\r\n\r\n";
  request += body;
  if (!write_all(request)) return false;
  return read_response(out);
}

bool HttpsClient::get(std::string_view target, HttpResponse& out) {
  if (!connect()) return false;
  std::string request = "GET ";
  request += target;
  request += " HTTP/1.1\r\nHost: " + options_.host + ":" + std::to_string(options_.port) + "\r\n\r\n";
  if (!write_all(request)) return false;
  return read_response(out);
}

bool HttpsClient::read_response(HttpResponse& out) {
  out = HttpResponse{};
  char chunk[16384];
  std::string refusal;
  const auto read_more = [&]() -> bool {
    const int n = SSL_read(ssl_, chunk, sizeof chunk);
    if (n <= 0) {
      refusal = client_certificate_refusal();
      ERR_clear_error();
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t end = 0;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (buffer_.size() > 65536 || !read_more()) {
      if (!refusal.empty()) return fail(Stage::kTls, refusal);
      return fail(Stage::kHttp, "no HTTP response (connection closed)");
    }
  }
  const std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    return fail(Stage::kHttp, "malformed status line: " + status_line);
  }
  out.status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    out.headers[lower(line.substr(0, colon))] = value;
  }
  const std::string length = out.header("content-length");
  if (!length.empty()) {
    const std::size_t want = std::stoull(length);
    while (buffer_.size() < want) {
      if (!read_more()) return fail(Stage::kHttp, "response body cut short");
    }
    out.body = buffer_.substr(0, want);
    buffer_.erase(0, want);
  } else if (!out.header("transfer-encoding").empty()) {
    return fail(Stage::kHttp, "chunked responses are not supported");
  } else {
    while (read_more()) {
    }
    out.body = std::move(buffer_);
    buffer_.clear();
    close();
    return true;
  }
  ++answered_;
  if (lower(out.header("connection")) == "close") close();
  return true;
}

bool HttpsClient::peer_closed(std::chrono::milliseconds wait) {
  if (ssl_ == nullptr) return true;
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(wait.count())) <= 0) return false;
  // Readable may mean only TLS 1.3 session tickets: read without blocking, or
  // SSL_read would wait for application data that is not coming.
  const int flags = ::fcntl(fd_, F_GETFL);
  ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  char c;
  const int n = SSL_read(ssl_, &c, 1);
  const int err = n > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_, n);
  ::fcntl(fd_, F_SETFL, flags);
  ERR_clear_error();
  if (n > 0) {
    buffer_.push_back(c);
    return false;
  }
  return err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE;
}

std::string HttpsClient::peer_serial_hex() const {
  if (ssl_ == nullptr) return {};
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return {};
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = hex;
  OPENSSL_free(hex);
  BN_free(bn);
  X509_free(cert);
  return out;
}

std::string HttpsClient::negotiated_alpn() const {
  if (ssl_ == nullptr) return {};
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string HttpsClient::tls_version() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

bool parse_https_url(std::string_view url, std::string& host, int& port, std::string& target) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) return false;
  url.remove_prefix(kScheme.size());
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  port = 443;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return false;
      port = std::atoi(std::string(authority.substr(1)).c_str());
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = std::atoi(std::string(authority.substr(colon + 1)).c_str());
  }
  return !host.empty() && port > 0 && port < 65536;
}

}  // namespace wirecheck::server
