// OpsServer: the operations listener, separate from the webhook port so that
// probes and scrapes never compete with admission traffic and never need the
// webhook's client certificate.
//
//   GET /healthz  200 while the process serves (503 when `not_live` says the
//                 webhook listener stopped accepting or its loop is stuck)
//   GET /readyz   200 when ready (certificate loaded, not draining, webhook
//                 listener able to take a request), else 503 with the reason
//   GET /metrics  Prometheus text format 0.0.4
//   GET <path>    each of options.json_endpoints (e.g. /audit, the last background audit)
//
// Plain HTTP, or HTTPS when given its own certificate store. It runs on its
// own HttpListener (own I/O thread, own connection cap and deadlines), so no
// number of idle or slow connections to either port stalls the probes.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "server/cert_store.hpp"
#include "server/http_listener.hpp"
#include "server/metrics.hpp"
#include "wirecheck/result.hpp"

namespace wirecheck::server {

struct OpsServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;  // 0: any free port
  CertStore* tls = nullptr;  // non-null: serve HTTPS with this pair
  // Further GET endpoints answering JSON (e.g. /audit), path -> body.
  std::map<std::string, std::function<std::string()>> json_endpoints;
  // Returns why the process is not live ("" when it is); null: always live.
  std::function<std::string()> not_live;
  std::size_t max_connections = 256;
  std::size_t max_pending_per_source = 64;
  // The webhook's deadlines (serve copies its flags here), so that no kind of
  // connection outlives on this port what it may on the webhook's.
  std::chrono::milliseconds head_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
};

class OpsServer final : private HttpRoutes {
 public:
  // `not_ready` returns why the server is not ready, or "" when it is.
  OpsServer(Metrics& metrics, std::function<std::string()> not_ready, OpsServerOptions options);
  ~OpsServer() override;
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  core::Status bind();
  void start();
  // Stops accepting; with `join`, waits for open connections to end.
  void stop(bool join = true);
  int port() const { return listener_->port(); }

 private:
  bool accept_head(const HttpHead& head, HttpAnswer& answer) override;
  void respond(const HttpHead& head, std::string& body, HttpAnswer& answer) override;
  void refuse(int status, std::string_view reason, std::string_view message, HttpAnswer& answer) override;

  Metrics& metrics_;
  std::function<std::string()> not_ready_;
  OpsServerOptions options_;
  std::unique_ptr<HttpListener> listener_;
};

}  // namespace wirecheck::server
