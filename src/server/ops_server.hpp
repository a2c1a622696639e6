// OpsServer: the operations listener, separate from the webhook port so that
// probes and scrapes never compete with admission traffic and never need the
// webhook's client certificate.
//
//   GET /healthz  200 while the process serves
//   GET /readyz   200 when ready (certificate loaded, not draining, and later
//                 the cluster cache synced), else 503 with the reason
//   GET /metrics  Prometheus text format 0.0.4
//   GET <path>    each of options.json_endpoints (e.g. /audit, the last background audit)
//
// Plain HTTP, or HTTPS when given its own certificate store.
#pragma once

#include <httplib.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "server/cert_store.hpp"
#include "server/metrics.hpp"
#include "wirecheck/result.hpp"

namespace wirecheck::server {

struct OpsServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;  // 0: any free port
  CertStore* tls = nullptr;  // non-null: serve HTTPS with this pair
  // Further GET endpoints answering JSON (e.g. /audit), path -> body.
  std::map<std::string, std::function<std::string()>> json_endpoints;
};

class OpsServer {
 public:
  // `not_ready` returns why the server is not ready, or "" when it is.
  OpsServer(Metrics& metrics, std::function<std::string()> not_ready, OpsServerOptions options);
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  core::Status bind();
  void start();
  // Stops accepting; with `join`, waits for open connections to end.
  void stop(bool join = true);
  int port() const { return port_; }

 private:
  Metrics& metrics_;
  std::function<std::string()> not_ready_;
  OpsServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace wirecheck::server
