#include "wirecheck/ca_bundle.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <memory>

namespace wirecheck::core {
namespace {

// RAII owners for every OpenSSL allocation made here.
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct OpensslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using OsslString = std::unique_ptr<char, OpensslFree>;
using OsslBytes = std::unique_ptr<unsigned char, OpensslFree>;

// The error queue is per thread; leaving entries behind would leak into the
// next, unrelated OpenSSL call on this thread (e.g. the server's TLS code).
struct ErrorQueueGuard {
  ~ErrorQueueGuard() { ERR_clear_error(); }
};

// Keep messages short enough for admission warnings (256 characters).
constexpr std::size_t kMaxSubject = 120;

int base64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string subject_of(X509* cert) {
  BioPtr mem(BIO_new(BIO_s_mem()));
  if (!mem) return "";
  if (X509_NAME_print_ex(mem.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  long len = BIO_get_mem_data(mem.get(), &data);
  if (len <= 0 || data == nullptr) return "";
  std::string out(data, static_cast<std::size_t>(len));
  if (out.size() > kMaxSubject) out = out.substr(0, kMaxSubject - 3) + "...";
  return out;
}

bool unix_time_of(const ASN1_TIME* t, std::int64_t& out) {
  if (t == nullptr) return false;
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return false;
  out = static_cast<std::int64_t>(timegm(&tm));
  return true;
}

std::string pem_block_list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
    if (out.size() > 80) break;
  }
  return out;
}

}  // namespace

std::string format_unix_time(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(seconds);
  std::array<char, 32> buf{};
  std::size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

Result<std::string> decode_base64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t symbols = 0;  // alphabet characters seen
  std::size_t padding = 0;
  for (unsigned char c : text) {
    if (is_space(c)) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    int v = base64_value(c);
    if (v < 0 || padding > 0) {
      // Raw PEM pasted where base64 belongs is the common mistake.
      if (text.find("-----BEGIN") != std::string_view::npos) {
        return Result<std::string>::failure("is PEM text, not base64-encoded PEM");
      }
      return Result<std::string>::failure("is not valid base64");
    }
    ++symbols;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  // One leftover symbol cannot encode a byte; padding beyond 2 is malformed.
  if (symbols % 4 == 1 || padding > 2) return Result<std::string>::failure("is not valid base64");
  return out;
}

Result<std::vector<CertificateInfo>> parse_pem_certificates(std::string_view pem) {
  using R = Result<std::vector<CertificateInfo>>;
  ErrorQueueGuard guard;
  if (pem.empty()) return R::failure("is empty");
  if (pem.size() > static_cast<std::size_t>(INT32_MAX)) return R::failure("is too large");

  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return R::failure("could not be read (out of memory)");

  std::vector<CertificateInfo> certs;
  std::vector<std::string> other_blocks;
  std::size_t bad_certificates = 0;
  bool malformed_block = false;
  for (;;) {
    char* name_raw = nullptr;
    char* header_raw = nullptr;
    unsigned char* data_raw = nullptr;
    long len = 0;
    int ok = PEM_read_bio(bio.get(), &name_raw, &header_raw, &data_raw, &len);
    OsslString name(name_raw);
    OsslString header(header_raw);
    OsslBytes data(data_raw);
    if (ok != 1) {
      // NO_START_LINE is the normal end of input; anything else is a block
      // that started but is broken (truncated, bad base64 inside).
      unsigned long err = ERR_peek_last_error();
      if (!(ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
        malformed_block = true;
      }
      break;
    }
    std::string block_name = name ? name.get() : "";
    if (block_name != "CERTIFICATE") {
      other_blocks.push_back(block_name);
      continue;
    }
    const unsigned char* p = data.get();
    X509Ptr cert(d2i_X509(nullptr, &p, len));
    if (!cert) {
      ++bad_certificates;
      continue;
    }
    CertificateInfo info;
    info.subject = subject_of(cert.get());
    if (!unix_time_of(X509_get0_notBefore(cert.get()), info.not_before) ||
        !unix_time_of(X509_get0_notAfter(cert.get()), info.not_after)) {
      ++bad_certificates;
      continue;
    }
    info.not_before_text = format_unix_time(info.not_before);
    info.not_after_text = format_unix_time(info.not_after);
    certs.push_back(std::move(info));
  }

  if (!certs.empty()) return certs;
  if (bad_certificates > 0) {
    return R::failure("holds " + std::to_string(bad_certificates) +
                      " CERTIFICATE block(s) that are not valid X.509 certificates");
  }
  if (!other_blocks.empty()) {
    return R::failure("holds no CERTIFICATE block, only " + pem_block_list(other_blocks));
  }
  if (malformed_block) return R::failure("holds a truncated or malformed PEM block");
  return R::failure("holds no PEM data");
}

Result<std::vector<CertificateInfo>> parse_ca_bundle(std::string_view base64_text) {
  Result<std::string> bytes = decode_base64(base64_text);
  if (!bytes) return Result<std::vector<CertificateInfo>>::failure(bytes.error());
  Result<std::vector<CertificateInfo>> certs = parse_pem_certificates(*bytes);
  if (!certs) return Result<std::vector<CertificateInfo>>::failure("decodes to data that " + certs.error());
  return certs;
}

}  // namespace wirecheck::core
