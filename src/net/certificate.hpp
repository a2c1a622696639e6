// Certificate: one X.509 certificate as a TLS server presented it, and the
// checks a Go client (the API server, Prometheus) makes on it, each failure
// named by a stable class and worded as Go's crypto/x509 words it, so that a
// finding reads like the error the user sees in the client's log:
//
//   ip-sans            x509: cannot validate certificate for 10.0.3.7 because it doesn't contain any IP SANs
//   name-not-covered   x509: certificate is valid for a.svc, b.svc, not c.svc
//   expired            x509: certificate has expired or is not yet valid: current time ... is after ...
//   unknown-authority  x509: certificate signed by unknown authority
//   chain-invalid      x509: certificate specifies an incompatible key usage
//
// (as Prometheus 2.42, built with Go 1.19, logs them in a target's lastError:
// tests/e2e/prometheus_oracle_test.sh compares them).
//
// Go's name rules (VerifyHostname): an IP literal is compared with the IP
// SANs only (a DNS SAN never matches an IP); a DNS name with the DNS SANs,
// case-insensitively, a leading `*.` matching exactly one label; the Common
// Name is never used (without a SAN extension Go says the certificate
// "relies on legacy Common Name field"). Go checks the leaf's validity
// first, then the name, then the chain (with the validity of each CA
// certificate in it), and reports the first failure; the checks here are
// independent so a caller can report each.
//
// Certificate is a cheap value (shared ownership of an immutable X509);
// safe to read from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

typedef struct x509_st X509;

namespace wirecheck::net {

class Certificate {
 public:
  Certificate() = default;
  // Takes ownership of `cert` (may be null: an empty Certificate).
  explicit Certificate(X509* cert);

  // Every certificate in PEM text, in order; none when there is none.
  static std::vector<Certificate> parse_pem(std::string_view pem);

  bool empty() const { return cert_ == nullptr; }
  X509* get() const { return cert_.get(); }

  std::string subject() const;  // RFC 2253, "CN=webhook,O=example"
  std::string issuer() const;
  std::string common_name() const;
  std::vector<std::string> dns_names() const;     // DNS SANs as written
  std::vector<std::string> ip_addresses() const;  // IP SANs, as Go prints them
  // Every SAN Go looks at, in certificate order: "DNS:x", "IP:10.0.0.1".
  std::vector<std::string> sans() const;
  std::int64_t not_before() const;  // unix seconds
  std::int64_t not_after() const;
  std::string serial_hex() const;
  std::string pem() const;

 private:
  std::shared_ptr<X509> cert_;
};

// Why a certificate is refused; kNone when it is accepted.
enum class TlsFailure {
  kNone,
  kIpSans,            // an IP was verified and the leaf has no IP SANs at all
  kNameNotCovered,    // the SANs do not cover the name (or IP)
  kExpired,           // expired or not yet valid (Go has one reason for both)
  kUnknownAuthority,  // no chain to the given roots
  kChainInvalid,      // a chain exists but is unusable (signature, CA flag, key usage)
};
// "ip-sans", "name-not-covered", "expired", "unknown-authority", "chain-invalid", "".
std::string_view failure_class(TlsFailure failure);

struct CertCheck {
  TlsFailure failure = TlsFailure::kNone;
  std::string error;  // Go's wording ("x509: ..."), empty when accepted
  bool ok() const { return failure == TlsFailure::kNone; }
};

// Whether `leaf` is valid for `name` (DNS name or IP literal, [v6] allowed)
// under Go's rules.
CertCheck check_name(const Certificate& leaf, std::string_view name);
// Whether a Go client accepts the SAN `pattern` for the DNS name `name`.
bool dns_name_matches(std::string_view pattern, std::string_view name);
// Whether `cert` is within its validity period at `now` (unix seconds).
CertCheck check_validity(const Certificate& cert, std::int64_t now);
// The current time, unix seconds.
std::int64_t unix_now();
// Whether `presented` (leaf first, then the intermediates the server sent)
// chains to one of `roots` for TLS server use at `now`. The leaf's validity
// period is left to check_validity, so an expired leaf from the right CA is
// "expired" there only; an intermediate or root outside its period is
// "expired" here, as Go drops it while building the chain. The error
// carries OpenSSL's reason after Go's wording.
CertCheck verify_chain(const std::vector<Certificate>& presented, const std::vector<Certificate>& roots,
                       std::int64_t now = unix_now());
// OpenSSL's verdict on `presented` for TLS server use with `name` (when not
// empty; SANs only, as Go) against `roots`, or this machine's default roots
// with `system_roots`: "" when it verifies, else OpenSSL's reason, e.g.
// "hostname mismatch", "unable to get local issuer certificate (at depth 0)".
// Unlike the checks above, the validity period is part of the verdict.
std::string openssl_verify(const std::vector<Certificate>& presented, const std::vector<Certificate>& roots,
                           std::string_view name, bool system_roots = false);

// RFC 3339 in UTC, as Go prints times in these errors: "2024-05-01T10:00:00Z".
std::string rfc3339(std::int64_t unix_seconds);
// Whether `text` is an IPv4 or IPv6 literal (no brackets).
bool is_ip_literal(std::string_view text);

}  // namespace wirecheck::net
