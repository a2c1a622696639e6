// caBundle parsing (src/core/ca_bundle.cpp) and the time-dependent branches
// of webhook-ca-bundle-invalid. Certificates are generated here with the
// OpenSSL API relative to the current time, so no checked-in certificate
// starts failing when a real clock passes its dates.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "support.hpp"
#include "wirecheck/ca_bundle.hpp"

using namespace wirecheck;

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

constexpr long kDay = 24 * 60 * 60;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

PkeyPtr make_key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  REQUIRE(key);
  return key;
}

// A self-signed CA certificate valid from now+not_before to now+not_after (seconds).
std::string make_cert_pem(const std::string& cn, long not_before, long not_after) {
  PkeyPtr key = make_key();
  X509Ptr cert(X509_new());
  REQUIRE(cert);
  REQUIRE(X509_set_version(cert.get(), 2) == 1);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  REQUIRE(X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before) != nullptr);
  REQUIRE(X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after) != nullptr);
  REQUIRE(X509_set_pubkey(cert.get(), key.get()) == 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("wirecheck tests"),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                             -1, 0);
  REQUIRE(X509_set_issuer_name(cert.get(), name) == 1);
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  BioPtr out(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509(out.get(), cert.get()) == 1);
  return bio_text(out.get());
}

std::string make_key_pem() {
  PkeyPtr key = make_key();
  BioPtr out(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  return bio_text(out.get());
}

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::int64_t now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

// ------------------------------------------------------------------ parser

TEST_CASE("ca bundle: one valid certificate -> subject, notBefore/notAfter as unix time and text") {
  const auto r = core::parse_ca_bundle(base64(make_cert_pem("webhook-ca", -kDay, 365 * kDay)));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  const core::CertificateInfo& c = r->front();
  CHECK(c.subject == "CN=webhook-ca,O=wirecheck tests");
  CHECK(std::abs(c.not_before - (now() - kDay)) < 120);
  CHECK(std::abs(c.not_after - (now() + 365 * kDay)) < 120);
  CHECK(c.not_after_text == core::format_unix_time(c.not_after));
  CHECK(c.not_after_text.size() == 20);
  CHECK(c.not_after_text.back() == 'Z');
}

TEST_CASE("ca bundle: several certificates come back in order, other PEM blocks are skipped") {
  const std::string pem =
      make_cert_pem("old-ca", -10 * kDay, -kDay) + make_key_pem() + make_cert_pem("new-ca", -kDay, 30 * kDay);
  const auto r = core::parse_ca_bundle(base64(pem));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK(contains((*r)[0].subject, "CN=old-ca"));
  CHECK(contains((*r)[1].subject, "CN=new-ca"));
  CHECK((*r)[0].not_after < (*r)[1].not_after);
}

TEST_CASE("ca bundle: base64 with line breaks and without padding is accepted") {
  std::string b64 = base64(make_cert_pem("wrapped", -kDay, kDay));
  std::string wrapped;
  for (std::size_t i = 0; i < b64.size(); i += 64) wrapped += b64.substr(i, 64) + "\n";
  CHECK(core::parse_ca_bundle(wrapped).ok());
  CHECK(core::decode_base64("aGk").ok());
  CHECK(*core::decode_base64("aGk") == "hi");
  CHECK(*core::decode_base64("aGk=") == "hi");
}

TEST_CASE("ca bundle: failures say what is wrong") {
  struct Case {
    std::string input;
    const char* error;
  };
  const std::string cert = make_cert_pem("c", -kDay, kDay);
  const std::vector<Case> cases = {
      {"", "is empty"},
      {"!!!not base64", "is not valid base64"},
      {"aGVsbG8=aGVsbG8=", "is not valid base64"},  // data after padding
      {"a", "is not valid base64"},                 // a lone symbol encodes no byte
      {cert, "is PEM text, not base64-encoded PEM"},
      {base64("hello world"), "holds no PEM data"},
      {base64(make_key_pem()), "holds no CERTIFICATE block, only PRIVATE KEY"},
      {base64(cert.substr(0, cert.size() / 2)), "truncated or malformed PEM block"},
      {base64("-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n"),
       "not valid X.509 certificates"},
  };
  for (const Case& c : cases) {
    INFO("input: " << c.input.substr(0, 60));
    const auto r = core::parse_ca_bundle(c.input);
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.error(), c.error));
  }
}

TEST_CASE("ca bundle: a broken CERTIFICATE block next to a good one is skipped, as the API server does") {
  const std::string pem = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n" +
                          make_cert_pem("good", -kDay, kDay);
  const auto r = core::parse_ca_bundle(base64(pem));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK(contains(r->front().subject, "CN=good"));
}

TEST_CASE("ca bundle: random bytes never crash, and PEM-framed random bytes are rejected") {
  std::mt19937 rng(20240611);  // fixed seed: reproducible
  std::uniform_int_distribution<int> byte(0, 255);
  const std::string header = "-----BEGIN CERTIFICATE-----\n";
  const std::string footer = "\n-----END CERTIFICATE-----\n";
  for (int round = 0; round < 300; ++round) {
    std::string bytes(static_cast<std::size_t>(round * 7 % 2048), '\0');
    for (char& ch : bytes) ch = static_cast<char>(byte(rng));
    // Raw random text, random text as base64, and random DER inside PEM framing.
    (void)core::parse_ca_bundle(bytes);
    CHECK_FALSE(core::parse_ca_bundle(base64(bytes)).ok());
    CHECK_FALSE(core::parse_ca_bundle(base64(header + base64(bytes) + footer)).ok());
  }
}

TEST_CASE("ca bundle: truncating a valid bundle at every length never crashes") {
  const std::string pem = make_cert_pem("truncated", -kDay, kDay);
  for (std::size_t n = 0; n < pem.size(); n += 13) {
    const auto r = core::parse_ca_bundle(base64(pem.substr(0, n)));
    // Cut before the END line the block is unusable; only the last few bytes
    // (trailing newline) may go missing harmlessly.
    if (n + 30 < pem.size()) CHECK_FALSE(r.ok());
  }
}

TEST_CASE("ca bundle: a 1 MB bundle of certificates parses, and 1 MB of garbage fails cleanly") {
  const std::string one = make_cert_pem("bulk", -kDay, kDay);
  std::string pem;
  while (pem.size() < 768 * 1024) pem += one;  // ~1 MB once base64-encoded
  const std::string b64 = base64(pem);
  REQUIRE(b64.size() >= 1000 * 1000);
  const auto r = core::parse_ca_bundle(b64);
  REQUIRE(r.ok());
  CHECK(r->size() == pem.size() / one.size());

  std::string garbage(1024 * 1024, 'A');
  CHECK_FALSE(core::parse_ca_bundle(garbage).ok());
  CHECK_FALSE(core::parse_ca_bundle(base64(std::string(1024 * 1024, '-'))).ok());
}

TEST_CASE("ca bundle: format_unix_time is UTC ISO 8601") {
  CHECK(core::format_unix_time(0) == "1970-01-01T00:00:00Z");
  CHECK(core::format_unix_time(978307200) == "2001-01-01T00:00:00Z");
}

// ----------------------------------- webhook-ca-bundle-invalid, clock-relative

namespace {

std::vector<policy::Finding> ca_findings(const std::string& pem,
                                         const policy::Settings& settings = policy::Settings::defaults()) {
  const std::string yaml = R"(
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: example-mutator}
webhooks:
- name: mutate.example.com
  clientConfig:
    caBundle: )" + base64(pem) + R"(
    service: {name: webhook-service, namespace: webhook-system}
)";
  const auto set = testing::load_yaml(yaml);
  return testing::of_rule(testing::evaluate(set, 0, policy::Operation::kCreate, nullptr, settings),
                          "webhook-ca-bundle-invalid");
}

}  // namespace

TEST_CASE("webhook-ca-bundle-invalid: valid for a year -> nothing") {
  CHECK(ca_findings(make_cert_pem("fresh-ca", -kDay, 365 * kDay)).empty());
}

TEST_CASE("webhook-ca-bundle-invalid: expired yesterday (generated) -> deny with subject and notAfter") {
  const std::string pem = make_cert_pem("stale-ca", -30 * kDay, -kDay);
  const auto f = ca_findings(pem);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == policy::Severity::kDeny);
  CHECK(f[0].path == "webhooks[0].clientConfig.caBundle");
  CHECK(contains(f[0].message, "has expired"));
  CHECK(contains(f[0].message, "CN=stale-ca"));
  CHECK(contains(f[0].message, core::format_unix_time(now() - kDay).substr(0, 10)));
  CHECK(contains(f[0].message, "mutate.example.com"));
}

TEST_CASE("webhook-ca-bundle-invalid: expiring in 10 days -> warn with days, subject and notAfter") {
  const auto f = ca_findings(make_cert_pem("short-lived-ca", -kDay, 10 * kDay));
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == policy::Severity::kWarn);
  CHECK(contains(f[0].message, "expires in 10 day(s)"));
  CHECK(contains(f[0].message, "CN=short-lived-ca"));
  CHECK(contains(f[0].message, core::format_unix_time(now() + 10 * kDay).substr(0, 10)));
  CHECK(contains(f[0].fix, "renew the CA before"));
  CHECK(f[0].message.size() < 256);
}

TEST_CASE("webhook-ca-bundle-invalid: the newest certificate decides, not the first") {
  const std::string pem = make_cert_pem("retired-ca", -60 * kDay, -kDay) + make_cert_pem("next-ca", -kDay, 5 * kDay);
  const auto f = ca_findings(pem);
  REQUIRE(f.size() == 1);
  CHECK(f[0].severity == policy::Severity::kWarn);
  CHECK(contains(f[0].message, "CN=next-ca"));
}

TEST_CASE("webhook-ca-bundle-invalid: the warning window follows caBundleExpiryDays") {
  const std::string pem = make_cert_pem("ca", -kDay, 10 * kDay);
  policy::Settings narrow = policy::Settings::defaults();
  narrow.ca_expiry_warn_days = 7;
  CHECK(ca_findings(pem, narrow).empty());
  policy::Settings wide = policy::Settings::defaults();
  wide.ca_expiry_warn_days = 60;
  CHECK(ca_findings(make_cert_pem("ca", -kDay, 45 * kDay), wide).size() == 1);
}
