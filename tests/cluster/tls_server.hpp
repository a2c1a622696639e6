// A real TLS server for the live-probe tests (see TlsServer).
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
#include <mutex>
#include <string>
#include <thread>

#include "loopback_listener.hpp"
#include "server/server_fixture.hpp"

namespace wirecheck::clustertest {

// A server SSL_CTX serving `pem`'s certificate and key.
inline SSL_CTX* server_context(const servertest::Pem& pem) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  BIO* cb = BIO_new_mem_buf(pem.cert.data(), static_cast<int>(pem.cert.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(pem.key.data(), static_cast<int>(pem.key.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  REQUIRE(SSL_CTX_use_certificate(ctx, cert) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(ctx, key) == 1);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

// A TLS server on 127.0.0.1:<port 0> that completes handshakes with one
// certificate, records the SNI each client sent,
// and counts the application bytes clients send afterwards.
class TlsServer {
 public:
  explicit TlsServer(const servertest::Pem& pem) {
    ctx_ = server_context(pem);
    const testing::LoopbackListener listener = testing::listen_on_loopback(16);
    fd_ = listener.fd;
    port_ = listener.port;
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }
  int handshakes() const { return handshakes_; }
  int bytes_received() const { return bytes_; }
  std::string last_sni() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sni_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      timeval tv{0, 300000};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) {
        {
          const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
          std::lock_guard<std::mutex> lock(mutex_);
          sni_ = sni != nullptr ? sni : "";
        }
        ++handshakes_;
        char buf[256];
        const int n = SSL_read(ssl, buf, sizeof buf);  // close_notify or timeout: 0 / -1
        if (n > 0) bytes_ += n;
      }
      ERR_clear_error();
      SSL_free(ssl);
      ::close(c);
    }
  }
  SSL_CTX* ctx_ = nullptr;
  mutable std::mutex mutex_;
  std::string sni_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_{0};
  std::atomic<int> bytes_{0};
  std::thread thread_;
};

}  // namespace wirecheck::clustertest
