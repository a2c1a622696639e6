// A TLS server on 127.0.0.1:<port 0> whose HTTP answers the test writes
// byte by byte, for the client behaviours a well-behaved server never shows
// on demand: a body cut into arbitrary records, a connection closed in the
// middle of a body or while idle, a request left unanswered. Connections
// are served one after the other on one thread by the test's script.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "loopback_listener.hpp"
#include "server/server_fixture.hpp"
#include "tls_server.hpp"

namespace wirecheck::clustertest {

// One accepted connection, as the script sees it.
class ScriptedConnection {
 public:
  ScriptedConnection(SSL* ssl, const std::atomic<bool>& stop) : ssl_(ssl), stop_(stop) {}

  // The next request (head and Content-Length body); "" when the client
  // closed the connection or the server is stopping.
  std::string read_request() {
    for (;;) {
      const std::size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const std::string head = buffer_.substr(0, end + 4);
        std::string lower = head;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (const std::size_t at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
          length = std::stoul(head.substr(at + 17));
        }
        if (buffer_.size() >= end + 4 + length) {
          std::string request = buffer_.substr(0, end + 4 + length);
          buffer_.erase(0, end + 4 + length);
          return request;
        }
      }
      if (!read_more()) return "";
    }
  }
  // Writes `bytes` as one TLS record.
  void send(const std::string& bytes) {
    REQUIRE(SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) == static_cast<int>(bytes.size()));
  }
  // Ends the connection now (FIN, no close_notify), as a server timing out
  // an idle keep-alive connection does.
  void close() { ::shutdown(SSL_get_fd(ssl_), SHUT_RDWR); }
  // Waits until the client closes the connection (or the server stops).
  bool client_closed() {
    while (read_more()) {
    }
    return !stop_;
  }
  std::string peer_common_name() const {
    X509* peer = SSL_get1_peer_certificate(ssl_);
    if (peer == nullptr) return "";
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    X509_free(peer);
    return cn;
  }

 private:
  bool read_more() {
    char chunk[4096];
    while (!stop_) {
      const int n = SSL_read(ssl_, chunk, sizeof chunk);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      const int err = SSL_get_error(ssl_, n);
      ERR_clear_error();
      // The socket's receive timeout: look at stop_ again.
      if (err == SSL_ERROR_WANT_READ || (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))) {
        continue;
      }
      return false;
    }
    return false;
  }

  SSL* ssl_;
  const std::atomic<bool>& stop_;
  std::string buffer_;
};

class ScriptedHttpsServer {
 public:
  // The script runs once per connection, `index` counting from 0. Returning
  // closes the connection (TCP close, no close_notify).
  using Script = std::function<void(ScriptedConnection&, int index)>;

  // Serves `pem`; with `client_ca_pem`, demands a client certificate it signed.
  ScriptedHttpsServer(const servertest::Pem& pem, Script script, const std::string& client_ca_pem = "")
      : script_(std::move(script)) {
    ctx_ = server_context(pem);
    if (!client_ca_pem.empty()) {
      BIO* ab = BIO_new_mem_buf(client_ca_pem.data(), static_cast<int>(client_ca_pem.size()));
      X509* ca = PEM_read_bio_X509(ab, nullptr, nullptr, nullptr);
      BIO_free(ab);
      REQUIRE(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), ca) == 1);
      X509_free(ca);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    const testing::LoopbackListener listener = testing::listen_on_loopback(16);
    fd_ = listener.fd;
    port_ = listener.port;
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedHttpsServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  ScriptedHttpsServer(const ScriptedHttpsServer&) = delete;
  ScriptedHttpsServer& operator=(const ScriptedHttpsServer&) = delete;

  int port() const { return port_; }
  int connections() const { return connections_; }  // accepted TCP connections
  bool stopping() const { return stop_; }

 private:
  void serve() {
    for (int index = 0; !stop_;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      timeval tv{0, 50000};  // reads wake up to look at stop_
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      int accepted = -1;
      while (!stop_) {
        accepted = SSL_accept(ssl);
        if (accepted == 1) break;
        const int err = SSL_get_error(ssl, accepted);
        if (err != SSL_ERROR_WANT_READ && !(err == SSL_ERROR_SYSCALL && errno == EAGAIN)) break;
        ERR_clear_error();
      }
      if (accepted == 1) {
        ScriptedConnection conn(ssl, stop_);
        script_(conn, index++);
      }
      ERR_clear_error();
      SSL_free(ssl);
      ::close(c);
    }
  }

  Script script_;
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// An HTTP/1.1 answer with a Content-Length body.
inline std::string http_answer(int status, const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

// One chunk of a chunked body.
inline std::string http_chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

inline const std::string kChunkedHead =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

}  // namespace wirecheck::clustertest
