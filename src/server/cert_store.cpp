#include "server/cert_store.hpp"
#include "server/tls.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wirecheck::server {
namespace {

bool read_whole(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace

KeyPair::~KeyPair() {
  X509_free(leaf_);
  EVP_PKEY_free(key_);
  if (chain_ != nullptr) sk_X509_pop_free(chain_, X509_free);
}

core::Result<std::shared_ptr<const KeyPair>> KeyPair::from_pem(const std::string& cert_pem,
                                                               const std::string& key_pem) {
  using R = core::Result<std::shared_ptr<const KeyPair>>;
  std::shared_ptr<KeyPair> pair(new KeyPair());
  BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  pair->leaf_ = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  if (pair->leaf_ == nullptr) {
    BIO_free(cert_bio);
    return R::failure("certificate file holds no PEM certificate: " + openssl_error());
  }
  pair->chain_ = sk_X509_new_null();
  while (X509* extra = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr)) {
    sk_X509_push(pair->chain_, extra);
  }
  ERR_clear_error();  // end of input is reported as an error
  BIO_free(cert_bio);

  BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  pair->key_ = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  if (pair->key_ == nullptr) return R::failure("key file holds no PEM private key: " + openssl_error());
  if (X509_check_private_key(pair->leaf_, pair->key_) != 1) {
    ERR_clear_error();
    return R::failure("private key does not match the certificate");
  }
  return std::shared_ptr<const KeyPair>(std::move(pair));
}

std::string KeyPair::serial_hex() const {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf_), nullptr);
  if (bn == nullptr) return {};
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::int64_t KeyPair::not_after_unix() const {
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf_), &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string KeyPair::subject() const {
  char buf[512];
  X509_NAME_oneline(X509_get_subject_name(leaf_), buf, sizeof buf);
  return buf;
}

CertStore::CertStore(std::string cert_path, std::string key_path)
    : cert_path_(std::move(cert_path)), key_path_(std::move(key_path)) {
  std::error_code ec;
  if (std::filesystem::is_directory(cert_path_, ec)) {
    const std::string dir = cert_path_;
    cert_path_ = dir + "/tls.crt";
    if (key_path_.empty()) key_path_ = dir + "/tls.key";
  } else if (!key_path_.empty() && std::filesystem::is_directory(key_path_, ec)) {
    key_path_ += "/tls.key";
  }
}

CertStore::~CertStore() { stop_watching(); }

void CertStore::set_listener(Listener listener) {
  std::lock_guard lock(reload_mutex_);
  listener_ = std::move(listener);
}

core::Status CertStore::reload() {
  std::lock_guard reload_lock(reload_mutex_);
  std::string cert_pem;
  std::string key_pem;
  std::string error;
  if (!read_whole(cert_path_, cert_pem, error) || !read_whole(key_path_, key_pem, error)) {
    // Report an unreadable pair once per distinct state, as for bad content.
    if (failed_cert_pem_ == error && failed_key_pem_.empty()) return core::Status::failure(error);
    failed_cert_pem_ = error;
    failed_key_pem_.clear();
    core::Status status = core::Status::failure(error);
    if (listener_) listener_(status, nullptr);
    return status;
  }
  if (cert_pem == loaded_cert_pem_ && key_pem == loaded_key_pem_) return core::ok_status();
  if (cert_pem == failed_cert_pem_ && key_pem == failed_key_pem_) {
    return core::Status::failure("unchanged invalid certificate/key pair");
  }
  auto pair = KeyPair::from_pem(cert_pem, key_pem);
  if (!pair) {
    failed_cert_pem_ = cert_pem;
    failed_key_pem_ = key_pem;
    core::Status status = core::Status::failure(cert_path_ + " / " + key_path_ + ": " + pair.error());
    if (listener_) listener_(status, nullptr);
    return status;
  }
  {
    std::lock_guard lock(mutex_);
    current_ = *pair;
  }
  loaded_cert_pem_ = std::move(cert_pem);
  loaded_key_pem_ = std::move(key_pem);
  failed_cert_pem_.clear();
  failed_key_pem_.clear();
  if (listener_) listener_(core::ok_status(), pair->get());
  return core::ok_status();
}

std::shared_ptr<const KeyPair> CertStore::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void CertStore::start_watching(std::chrono::milliseconds interval) {
  stop_watching();
  {
    std::lock_guard lock(watch_mutex_);
    watch_stop_ = false;
  }
  watcher_ = std::thread([this, interval] {
    std::unique_lock lock(watch_mutex_);
    while (!watch_cv_.wait_for(lock, interval, [this] { return watch_stop_; })) {
      lock.unlock();
      (void)reload();
      lock.lock();
    }
  });
}

void CertStore::stop_watching() {
  {
    std::lock_guard lock(watch_mutex_);
    watch_stop_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void CertStore::attach(SSL_CTX& ctx) {
  SSL_CTX_set_cert_cb(
      &ctx,
      [](SSL* ssl, void* arg) -> int {
        const auto pair = static_cast<CertStore*>(arg)->current();
        if (!pair) return 0;  // no certificate yet: abort the handshake
        return SSL_use_cert_and_key(ssl, pair->leaf(), pair->key(), pair->chain(), 1) == 1 ? 1 : 0;
      },
      this);
}

}  // namespace wirecheck::server
