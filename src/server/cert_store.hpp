// CertStore: the serving certificate and key, reloaded from files while the
// server runs. It only loads files and hands out the current pair under a
// lock (issuing is cert-manager's or certs/gen-dev-certs.sh's job). TLS
// handshakes ask for the pair through an OpenSSL certificate callback, so a
// new pair applies to new handshakes only; established connections keep the
// certificate they negotiated.
//
// A candidate pair replaces the current one only when both files parse and
// the key matches the certificate; otherwise the old pair keeps serving and
// the failure is reported. Files are re-read on every poll and compared by
// content, which also catches the kubelet's atomic symlink swap of Secret
// volumes (..data -> ..2024_...).
//
// Thread-safety: all methods are safe to call concurrently.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "wirecheck/result.hpp"

namespace wirecheck::server {

// A loaded certificate chain and private key (immutable once built).
class KeyPair {
 public:
  ~KeyPair();
  KeyPair(const KeyPair&) = delete;
  KeyPair& operator=(const KeyPair&) = delete;

  // Parses PEM text; fails when either does not parse or the key does not match.
  static core::Result<std::shared_ptr<const KeyPair>> from_pem(const std::string& cert_pem,
                                                               const std::string& key_pem);

  X509* leaf() const { return leaf_; }
  EVP_PKEY* key() const { return key_; }
  STACK_OF(X509)* chain() const { return chain_; }
  std::string serial_hex() const;          // e.g. "1A2B"
  std::int64_t not_after_unix() const;
  std::string subject() const;

 private:
  KeyPair() = default;
  X509* leaf_ = nullptr;
  EVP_PKEY* key_ = nullptr;
  STACK_OF(X509)* chain_ = nullptr;
};

class CertStore {
 public:
  // Reported after every load attempt that saw new file content.
  using Listener = std::function<void(const core::Status& status, const KeyPair* pair)>;

  // `cert_path` may be a directory holding tls.crt and tls.key (a mounted
  // Secret); `key_path` may then be empty.
  CertStore(std::string cert_path, std::string key_path);
  ~CertStore();
  CertStore(const CertStore&) = delete;
  CertStore& operator=(const CertStore&) = delete;

  // Reads the files; replaces the pair when they changed and are valid.
  // Returns the load error (the previous pair stays) or ok (also when unchanged).
  core::Status reload();
  void set_listener(Listener listener);

  std::shared_ptr<const KeyPair> current() const;
  bool loaded() const { return current() != nullptr; }

  // Polls the files every `interval` on a background thread until destroyed.
  void start_watching(std::chrono::milliseconds interval);
  void stop_watching();

  // Installs the handshake callback that serves current() on `ctx`. The store
  // must outlive every SSL made from `ctx`.
  void attach(SSL_CTX& ctx);

  const std::string& cert_path() const { return cert_path_; }
  const std::string& key_path() const { return key_path_; }

 private:
  std::string cert_path_;
  std::string key_path_;
  mutable std::mutex mutex_;
  std::shared_ptr<const KeyPair> current_;
  std::string loaded_cert_pem_;
  std::string loaded_key_pem_;
  std::string failed_cert_pem_;  // last rejected content: report it once
  std::string failed_key_pem_;
  Listener listener_;
  std::mutex reload_mutex_;  // one reload at a time

  std::mutex watch_mutex_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;
  std::thread watcher_;
};

}  // namespace wirecheck::server
