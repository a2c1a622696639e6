#include "server/tls.hpp"

#include <openssl/err.h>

#include <cstring>

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

}  // namespace

core::Status configure_server_tls(SSL_CTX& ctx, CertStore& store, const std::string& client_ca_file) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(&ctx, kTls12Ciphers) != 1) {
    ERR_clear_error();
    return core::Status::failure("cannot set TLS 1.2 cipher list");
  }
  SSL_CTX_set_alpn_select_cb(&ctx, &select_http11, nullptr);
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
