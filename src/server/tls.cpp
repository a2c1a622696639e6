#include "server/tls.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstring>
#include <mutex>

namespace wirecheck::server {

std::string openssl_error(const char* when_empty) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return when_empty;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}
namespace {

int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                  unsigned int inlen, void*) {
  // `in` is a list of length-prefixed protocol names.
  for (unsigned int i = 0; i < inlen;) {
    const unsigned int len = in[i];
    if (i + 1 + len > inlen) break;
    if (len == 8 && std::memcmp(in + i + 1, "http/1.1", 8) == 0) {
      *out = in + i + 1;
      *outlen = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + len;
  }
  // No http/1.1 offered (e.g. h2 only): negotiate no protocol; HTTP/1.1 is
  // what we speak regardless.
  return SSL_TLSEXT_ERR_NOACK;
}

// Session ticket keys: a random key per process, replaced every 6 hours; a
// ticket made with the previous key is still accepted (and renewed), so a
// ticket lives at most 12 hours and a stolen key opens at most that window.
// OpenSSL's own default never rotates the key for the life of the process.
class TicketKeys {
 public:
  struct Key {
    std::array<unsigned char, 16> name{};
    std::array<unsigned char, 32> aes{};
    std::array<unsigned char, 32> hmac{};
  };

  static TicketKeys& instance() {
    static TicketKeys keys;
    return keys;
  }

  // The key to encrypt with; rotates when the current one is old.
  Key current() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (std::chrono::steady_clock::now() - made_ >= kRotation) rotate();
    return current_;
  }
  // The key named `name`: 1 = current, 2 = previous (renew the ticket), 0 = unknown.
  int find(const unsigned char* name, Key& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (std::memcmp(name, current_.name.data(), current_.name.size()) == 0) {
      out = current_;
      return 1;
    }
    if (has_previous_ && std::memcmp(name, previous_.name.data(), previous_.name.size()) == 0) {
      out = previous_;
      return 2;
    }
    return 0;
  }

 private:
  static constexpr std::chrono::hours kRotation{6};
  TicketKeys() { fill(current_); made_ = std::chrono::steady_clock::now(); }
  static void fill(Key& key) {
    RAND_bytes(key.name.data(), static_cast<int>(key.name.size()));
    RAND_bytes(key.aes.data(), static_cast<int>(key.aes.size()));
    RAND_bytes(key.hmac.data(), static_cast<int>(key.hmac.size()));
  }
  void rotate() {
    previous_ = current_;
    has_previous_ = true;
    fill(current_);
    made_ = std::chrono::steady_clock::now();
  }
  std::mutex mutex_;
  Key current_;
  Key previous_;
  bool has_previous_ = false;
  std::chrono::steady_clock::time_point made_;
};

int ticket_key_callback(SSL*, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                        EVP_MAC_CTX* mac, int encrypt) {
  TicketKeys::Key key;
  int result = 1;
  if (encrypt != 0) {
    key = TicketKeys::instance().current();
    std::memcpy(key_name, key.name.data(), key.name.size());
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv) != 1) return -1;
  } else {
    result = TicketKeys::instance().find(key_name, key);
    if (result == 0) return 0;  // unknown key: full handshake
    if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv) != 1) return -1;
  }
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac.data(), key.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  return result;
}

}  // namespace

core::Status configure_server_tls(SSL_CTX& ctx, CertStore& store, const std::string& client_ca_file) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(&ctx, kTls12Ciphers) != 1) {
    ERR_clear_error();
    return core::Status::failure("cannot set TLS 1.2 cipher list");
  }
  // SSL_OP_CIPHER_SERVER_PREFERENCE applies to TLS 1.3 suites too: this order
  // decides what every client gets.
  if (SSL_CTX_set_ciphersuites(&ctx, kTls13Ciphersuites) != 1) {
    ERR_clear_error();
    return core::Status::failure("cannot set TLS 1.3 cipher suites");
  }
  SSL_CTX_set_alpn_select_cb(&ctx, &select_http11, nullptr);
  // Resumption by ticket, with rotated keys (TicketKeys). One ticket per full
  // handshake rather than OpenSSL's two: each costs an encryption and a record.
  SSL_CTX_set_tlsext_ticket_key_evp_cb(&ctx, &ticket_key_callback);
  SSL_CTX_set_num_tickets(&ctx, 1);
  store.attach(ctx);
  if (!client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(&ctx, client_ca_file.c_str(), nullptr) != 1) {
      ERR_clear_error();
      return core::Status::failure("cannot load client CA file " + client_ca_file);
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca_file.c_str());
    if (names == nullptr) {
      ERR_clear_error();
      return core::Status::failure("client CA file " + client_ca_file + " holds no certificate");
    }
    SSL_CTX_set_client_CA_list(&ctx, names);
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_NONE, nullptr);
  }
  return core::ok_status();
}

}  // namespace wirecheck::server
