#include "net/certificate.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>

namespace wirecheck::net {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string bio_text(BIO* mem) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string name_text(const X509_NAME* name) {
  BioPtr mem(BIO_new(BIO_s_mem()));
  if (!mem || name == nullptr || X509_NAME_print_ex(mem.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  return bio_text(mem.get());
}

std::int64_t unix_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// 16 bytes, IPv4 as IPv4-mapped IPv6: Go's net.IP.Equal treats both forms alike.
bool ip_bytes(std::string_view text, std::array<unsigned char, 16>& out) {
  const std::string s(text);
  unsigned char v4[4];
  if (inet_pton(AF_INET, s.c_str(), v4) == 1) {
    out = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, v4[0], v4[1], v4[2], v4[3]};
    return true;
  }
  return inet_pton(AF_INET6, s.c_str(), out.data()) == 1;
}

template <class Fn>
void each_san(X509* cert, Fn&& fn) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) fn(*sk_GENERAL_NAME_value(names, i));
  GENERAL_NAMES_free(names);
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  char text[INET6_ADDRSTRLEN] = {};
  const int len = ASN1_STRING_length(ip);
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  if (len == 4) return inet_ntop(AF_INET, data, text, sizeof text) != nullptr ? text : "";
  if (len != 16) return "";
  // Go prints an IPv4-mapped address as IPv4.
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped, kMapped + 12, data)) return inet_ntop(AF_INET, data + 12, text, sizeof text) ? text : "";
  return inet_ntop(AF_INET6, data, text, sizeof text) != nullptr ? text : "";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

Certificate::Certificate(X509* cert) : cert_(cert, [](X509* c) { X509_free(c); }) {
  if (cert == nullptr) cert_.reset();
}

std::vector<Certificate> Certificate::parse_pem(std::string_view pem) {
  std::vector<Certificate> out;
  if (pem.empty()) return out;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return out;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(cert);
  ERR_clear_error();  // the end of the input is reported as an error
  return out;
}

std::string Certificate::subject() const { return cert_ ? name_text(X509_get_subject_name(get())) : ""; }
std::string Certificate::issuer() const { return cert_ ? name_text(X509_get_issuer_name(get())) : ""; }

std::string Certificate::common_name() const {
  if (!cert_) return "";
  const X509_NAME* name = X509_get_subject_name(get());
  const int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return "";
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::vector<std::string> Certificate::dns_names() const {
  std::vector<std::string> out;
  if (!cert_) return out;
  each_san(get(), [&](const GENERAL_NAME& n) {
    if (n.type != GEN_DNS) return;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n.d.dNSName)),
                     static_cast<std::size_t>(ASN1_STRING_length(n.d.dNSName)));
  });
  return out;
}

std::vector<std::string> Certificate::ip_addresses() const {
  std::vector<std::string> out;
  if (!cert_) return out;
  each_san(get(), [&](const GENERAL_NAME& n) {
    if (n.type != GEN_IPADD) return;
    if (std::string ip = ip_text(n.d.iPAddress); !ip.empty()) out.push_back(std::move(ip));
  });
  return out;
}

std::vector<std::string> Certificate::sans() const {
  std::vector<std::string> out;
  if (!cert_) return out;
  each_san(get(), [&](const GENERAL_NAME& n) {
    if (n.type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n.d.dNSName)),
                                         static_cast<std::size_t>(ASN1_STRING_length(n.d.dNSName))));
    } else if (n.type == GEN_IPADD) {
      if (std::string ip = ip_text(n.d.iPAddress); !ip.empty()) out.push_back("IP:" + ip);
    }
  });
  return out;
}

std::int64_t Certificate::not_before() const { return cert_ ? unix_time(X509_get0_notBefore(get())) : 0; }
std::int64_t Certificate::not_after() const { return cert_ ? unix_time(X509_get0_notAfter(get())) : 0; }

std::string Certificate::serial_hex() const {
  if (!cert_) return "";
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(get()), nullptr);
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::string Certificate::pem() const {
  BioPtr mem(BIO_new(BIO_s_mem()));
  if (!cert_ || !mem || PEM_write_bio_X509(mem.get(), get()) != 1) return "";
  return bio_text(mem.get());
}

std::string_view failure_class(TlsFailure failure) {
  switch (failure) {
    case TlsFailure::kNone:
      return "";
    case TlsFailure::kIpSans:
      return "ip-sans";
    case TlsFailure::kNameNotCovered:
      return "name-not-covered";
    case TlsFailure::kExpired:
      return "expired";
    case TlsFailure::kUnknownAuthority:
      return "unknown-authority";
    case TlsFailure::kChainInvalid:
      return "chain-invalid";
  }
  return "";
}

bool is_ip_literal(std::string_view text) {
  std::array<unsigned char, 16> bytes{};
  return ip_bytes(text, bytes);
}

bool dns_name_matches(std::string_view pattern_in, std::string_view name_in) {
  std::string pattern = lower(pattern_in);
  std::string name = lower(name_in);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (pattern.empty() || name.empty()) return false;
  if (pattern == name) return true;
  // Only a whole first label "*" is a wildcard, and it stands for one label.
  if (pattern.size() < 3 || pattern.compare(0, 2, "*.") != 0) return false;
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0) return false;
  return name.compare(dot, std::string::npos, pattern, 1, std::string::npos) == 0;
}

namespace {

// Go words a name failure differently when the certificate has no SAN
// extension at all and its Common Name would have matched: the name is
// still refused (Go ignores the Common Name), the error says why.
CertCheck with_legacy_cn(const Certificate& leaf, std::string_view name, CertCheck failed) {
  if (X509_get_ext_by_NID(leaf.get(), NID_subject_alt_name, -1) >= 0) return failed;
  if (!dns_name_matches(leaf.common_name(), name)) return failed;
  failed.failure = TlsFailure::kNameNotCovered;
  failed.error = "x509: certificate relies on legacy Common Name field, use SANs instead";
  return failed;
}

}  // namespace

CertCheck check_name(const Certificate& leaf, std::string_view name) {
  CertCheck out;
  std::string_view candidate = name;
  if (candidate.size() >= 3 && candidate.front() == '[' && candidate.back() == ']') {
    candidate = candidate.substr(1, candidate.size() - 2);
  }
  std::array<unsigned char, 16> want{};
  if (ip_bytes(candidate, want)) {
    const std::vector<std::string> ips = leaf.ip_addresses();
    for (const std::string& ip : ips) {
      std::array<unsigned char, 16> have{};
      if (ip_bytes(ip, have) && have == want) return out;
    }
    if (ips.empty()) {
      out.failure = TlsFailure::kIpSans;
      out.error = "x509: cannot validate certificate for " + std::string(candidate) +
                  " because it doesn't contain any IP SANs";
    } else {
      out.failure = TlsFailure::kNameNotCovered;
      out.error = "x509: certificate is valid for " + join(ips) + ", not " + std::string(candidate);
    }
    return with_legacy_cn(leaf, candidate, std::move(out));
  }
  const std::vector<std::string> dns = leaf.dns_names();
  for (const std::string& pattern : dns) {
    if (dns_name_matches(pattern, name)) return out;
  }
  out.failure = TlsFailure::kNameNotCovered;
  out.error = dns.empty() ? "x509: certificate is not valid for any names, but wanted to match " + std::string(name)
                          : "x509: certificate is valid for " + join(dns) + ", not " + std::string(name);
  return with_legacy_cn(leaf, name, std::move(out));
}

std::string rfc3339(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

CertCheck check_validity(const Certificate& cert, std::int64_t now) {
  CertCheck out;
  if (cert.empty()) return out;
  const std::int64_t from = cert.not_before();
  const std::int64_t until = cert.not_after();
  if (now >= from && now <= until) return out;
  out.failure = TlsFailure::kExpired;
  out.error = "x509: certificate has expired or is not yet valid: current time " + rfc3339(now) +
              (now < from ? " is before " + rfc3339(from) : " is after " + rfc3339(until));
  return out;
}

namespace {

struct Verdict {
  int error = X509_V_OK;
  std::string text;  // OpenSSL's reason, "(at depth N)" beyond the leaf; "" when it verifies
  int depth = 0;     // of the certificate at fault, 0 = the leaf
  Certificate cert;  // the certificate at fault, when OpenSSL names one
};

// `at`: the time the validity periods are checked for (unix seconds), 0 for
// now; ignored without `check_time`.
Verdict openssl_verdict(const std::vector<Certificate>& presented, const std::vector<Certificate>& roots,
                        std::string_view name, bool system_roots, bool check_time, std::int64_t at = 0) {
  Verdict out;
  std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> chain(sk_X509_new_null(),
                                                                   [](STACK_OF(X509)* s) { sk_X509_free(s); });
  if (!store || !ctx || !chain) {
    out.error = X509_V_ERR_OUT_OF_MEM;
    out.text = "cannot set up certificate verification (out of memory)";
    return out;
  }
  if (system_roots) X509_STORE_set_default_paths(store.get());
  for (const Certificate& root : roots) X509_STORE_add_cert(store.get(), root.get());
  for (std::size_t i = 1; i < presented.size(); ++i) sk_X509_push(chain.get(), presented[i].get());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), presented[0].get(), chain.get()) != 1) {
    out.error = X509_V_ERR_UNSPECIFIED;
    out.text = "cannot set up certificate verification";
    ERR_clear_error();
    return out;
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  // Go accepts any certificate in its root pool as an anchor, CA or not.
  unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
  if (!check_time) flags |= X509_V_FLAG_NO_CHECK_TIME;
  X509_VERIFY_PARAM_set_flags(param, flags);
  if (check_time && at != 0) X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  if (!name.empty()) {
    const std::string n(name);
    if (is_ip_literal(n)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, n.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
      X509_VERIFY_PARAM_set1_host(param, n.c_str(), n.size());
    }
  }
  const bool ok = X509_verify_cert(ctx.get()) == 1;
  ERR_clear_error();
  if (ok) return out;
  out.error = X509_STORE_CTX_get_error(ctx.get());
  out.text = X509_verify_cert_error_string(out.error);
  out.depth = X509_STORE_CTX_get_error_depth(ctx.get());
  if (out.depth > 0) out.text += " (at depth " + std::to_string(out.depth) + ")";
  if (X509* at_fault = X509_STORE_CTX_get_current_cert(ctx.get()); at_fault != nullptr && X509_up_ref(at_fault) == 1) {
    out.cert = Certificate(at_fault);
  }
  return out;
}

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CertCheck verify_chain(const std::vector<Certificate>& presented, const std::vector<Certificate>& roots,
                       std::int64_t now) {
  CertCheck out;
  if (presented.empty()) {
    out.failure = TlsFailure::kUnknownAuthority;
    out.error = "x509: certificate signed by unknown authority (the server presented no certificate)";
    return out;
  }
  const Verdict v = openssl_verdict(presented, roots, "", false, false);
  switch (v.error) {
    case X509_V_OK: {
      // Go drops an intermediate or root outside its validity period while
      // it builds the chain and reports that period; the leaf's own period
      // is check_validity's. OpenSSL checks periods from the root down, so
      // a CA at fault is found before an expired leaf.
      const Verdict timed = openssl_verdict(presented, roots, "", false, true, now);
      if ((timed.error == X509_V_ERR_CERT_HAS_EXPIRED || timed.error == X509_V_ERR_CERT_NOT_YET_VALID) &&
          timed.depth > 0 && !timed.cert.empty()) {
        out = check_validity(timed.cert, now);
        out.error += " (CA certificate " + timed.cert.subject() + ")";
      }
      return out;
    }
    case X509_V_ERR_INVALID_PURPOSE:
      out.failure = TlsFailure::kChainInvalid;
      out.error = "x509: certificate specifies an incompatible key usage (OpenSSL: " + v.text + ")";
      break;
    case X509_V_ERR_INVALID_CA:
      out.failure = TlsFailure::kChainInvalid;
      out.error = "x509: certificate is not authorized to sign other certificates (OpenSSL: " + v.text + ")";
      break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      out.failure = TlsFailure::kUnknownAuthority;
      out.error = "x509: certificate signed by unknown authority (OpenSSL: " + v.text + ")";
      break;
    default:
      out.failure = TlsFailure::kChainInvalid;
      out.error = "x509: the certificate chain does not verify (OpenSSL: " + v.text + ")";
      break;
  }
  return out;
}

std::string openssl_verify(const std::vector<Certificate>& presented, const std::vector<Certificate>& roots,
                           std::string_view name, bool system_roots) {
  if (presented.empty()) return "the server presented no certificate";
  return openssl_verdict(presented, roots, name, system_roots, true).text;
}

}  // namespace wirecheck::net
