// Server-side TLS settings shared by the webhook and ops listeners:
// TLS 1.2 minimum (1.3 preferred by OpenSSL's default maximum), forward-secret
// AEAD ciphers only for 1.2, our cipher order rather than the client's (AES-128
// first), no renegotiation or compression, ALPN limited to http/1.1 (the API
// server never offers h2 to webhooks; we never accept it), the serving pair
// from a CertStore, and optionally mandatory client certificates verified
// against a CA bundle. Session tickets are on, with a process-wide key rotated
// every 6 hours (the previous one still accepted).
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "server/cert_store.hpp"
#include "wirecheck/result.hpp"

namespace wirecheck::server {

inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// TLS 1.3 suites in our order of preference (OpenSSL's default puts
// AES-256-GCM first): AES-128-GCM is as strong for a webhook's purposes and
// cheaper (10 AES rounds against 14, SHA-256 against SHA-384 for the key
// schedule); the Go client of the kube-apiserver lists it first too.
inline constexpr const char* kTls13Ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// The oldest queued OpenSSL error as text (the queue is cleared), or
// `when_empty` when OpenSSL queued none.
std::string openssl_error(const char* when_empty = "unknown OpenSSL error");

// Configures `ctx`. `client_ca_file` empty: no client certificates asked.
core::Status configure_server_tls(SSL_CTX& ctx, CertStore& store, const std::string& client_ca_file);

}  // namespace wirecheck::server
