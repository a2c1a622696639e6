// CA bundles: the `caBundle` field of webhook client configs, CRD conversion
// webhooks and APIServices. The API server base64-decodes it, reads the PEM
// `CERTIFICATE` blocks and trusts them to verify the webhook's serving
// certificate; everything else in the bytes is ignored. This parser mirrors
// that, so wirecheck reports the bundles the API server cannot use.
//
// Input is untrusted (any bytes a user wrote into a manifest): parsing never
// throws, never aborts and frees every OpenSSL object it creates. Stateless
// and safe to call from many threads at once (OpenSSL's error queue is
// per-thread and is cleared before returning).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wirecheck/result.hpp"

namespace wirecheck::core {

// What wirecheck needs to know about one certificate of a bundle.
struct CertificateInfo {
  std::string subject;          // RFC 2253, e.g. "CN=webhook-ca,O=example"
  std::int64_t not_before = 0;  // unix time, seconds
  std::int64_t not_after = 0;   // unix time, seconds
  std::string not_before_text;  // "2030-01-31T12:00:00Z"
  std::string not_after_text;
};

// Base64 (standard alphabet, padding optional, ASCII whitespace ignored) ->
// PEM -> the X.509 certificates in it, in order of appearance.
// Fails with a message meant for users when the text is not base64, the
// decoded bytes hold no PEM CERTIFICATE block (e.g. a private key), or no
// CERTIFICATE block holds a parseable certificate. Unparseable CERTIFICATE
// blocks next to good ones are skipped, as the API server does.
Result<std::vector<CertificateInfo>> parse_ca_bundle(std::string_view base64_text);

// The PEM step alone (decoded bytes -> certificates), same failure rules.
Result<std::vector<CertificateInfo>> parse_pem_certificates(std::string_view pem);

// Decodes standard base64; fails on characters outside the alphabet or a
// length that cannot be base64.
Result<std::string> decode_base64(std::string_view text);

// Seconds since the epoch -> "YYYY-MM-DDTHH:MM:SSZ".
std::string format_unix_time(std::int64_t seconds);

}  // namespace wirecheck::core
