#include "server/listener.hpp"
#include "server/ops_server.hpp"

#include "server/tls.hpp"

namespace wirecheck::server {

OpsServer::OpsServer(Metrics& metrics, std::function<std::string()> not_ready, OpsServerOptions options)
    : metrics_(metrics), not_ready_(std::move(not_ready)), options_(std::move(options)) {}

OpsServer::~OpsServer() { stop(); }

core::Status OpsServer::bind() {
  if (options_.tls != nullptr) {
    core::Status tls_status = core::ok_status();
    http_ = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
      tls_status = configure_server_tls(ctx, *options_.tls, "");
      return tls_status.ok();
    });
    if (!tls_status) return tls_status;
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  if (!http_->is_valid()) return core::Status::failure("cannot create the ops server");
  http_->new_task_queue = [] { return new httplib::ThreadPool(4); };
  http_->set_keep_alive_max_count(1000);
  http_->set_keep_alive_timeout(30);
  http_->set_read_timeout(5, 0);
  http_->set_write_timeout(5, 0);
  http_->set_payload_max_length(64 * 1024);

  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  http_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const std::string reason = not_ready_ ? not_ready_() : std::string();
    if (reason.empty()) {
      res.set_content("ok\n", "text/plain; charset=utf-8");
    } else {
      res.status = 503;
      res.set_content("not ready: " + reason + "\n", "text/plain; charset=utf-8");
    }
  });
  for (const auto& [path, body] : options_.json_endpoints) {
    http_->Get(path, [body = body](const httplib::Request&, httplib::Response& res) {
      res.set_content(body(), "application/json");
    });
  }
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
  });

  auto bound = bind_exclusive(*http_, options_.host, options_.port);
  if (!bound) return core::Status::failure(bound.error());
  port_ = bound.value();
  return core::ok_status();
}

void OpsServer::start() {
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  for (int i = 0; i < 2000 && !http_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void OpsServer::stop(bool join) {
  if (http_) http_->stop();
  if (join && thread_.joinable()) thread_.join();
}

}  // namespace wirecheck::server
