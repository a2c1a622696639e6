#include "server/ops_server.hpp"

#include "server/tls.hpp"

namespace wirecheck::server {
namespace {

constexpr const char* kText = "text/plain; charset=utf-8";

}  // namespace

OpsServer::OpsServer(Metrics& metrics, std::function<std::string()> not_ready, OpsServerOptions options)
    : metrics_(metrics), not_ready_(std::move(not_ready)), options_(std::move(options)) {
  HttpListenerOptions o;
  o.name = "ops";
  o.host = options_.host;
  o.port = options_.port;
  if (options_.tls != nullptr) {
    o.configure_tls = [this](SSL_CTX& ctx) { return configure_server_tls(ctx, *options_.tls, ""); };
  }
  // Probes and scrapes are small: a small cap and body limit, and the
  // webhook's deadlines.
  o.max_connections = options_.max_connections;
  o.max_pending_per_source = options_.max_pending_per_source;
  o.head_timeout = options_.head_timeout;
  o.request_timeout = options_.request_timeout;
  o.write_timeout = options_.write_timeout;
  o.idle_timeout = options_.idle_timeout;
  o.max_body_bytes = 64 * 1024;
  o.workers = 0;
  listener_ = std::make_unique<HttpListener>(static_cast<HttpRoutes&>(*this), metrics_.ops_transport(), std::move(o));
}

OpsServer::~OpsServer() { listener_->stop(true); }

core::Status OpsServer::bind() { return listener_->bind(); }

void OpsServer::start() { listener_->start(); }

void OpsServer::stop(bool join) { listener_->stop(join); }

void OpsServer::refuse(int status, std::string_view, std::string_view message, HttpAnswer& answer) {
  answer.status = status;
  answer.content_type = kText;
  answer.body = std::string(message) + "\n";
}

bool OpsServer::accept_head(const HttpHead& head, HttpAnswer& answer) {
  const std::string_view path = head.path();
  if (path != "/healthz" && path != "/readyz" && path != "/metrics" &&
      options_.json_endpoints.find(std::string(path)) == options_.json_endpoints.end()) {
    refuse(404, "NotFound", "not found", answer);
    return false;
  }
  if (head.method() != "GET" && head.method() != "HEAD") {
    refuse(405, "MethodNotAllowed", "only GET is allowed", answer);
    answer.headers.emplace_back("Allow", "GET");
    return false;
  }
  return true;
}

void OpsServer::respond(const HttpHead& head, std::string&, HttpAnswer& answer) {
  const std::string_view path = head.path();
  answer.content_type = kText;
  if (path == "/metrics") {
    answer.content_type = "text/plain; version=0.0.4; charset=utf-8";
    answer.body = metrics_.render();
    return;
  }
  if (auto endpoint = options_.json_endpoints.find(std::string(path)); endpoint != options_.json_endpoints.end()) {
    answer.content_type = "application/json";
    answer.body = endpoint->second();
    return;
  }
  const std::string reason = path == "/healthz" ? (options_.not_live ? options_.not_live() : std::string())
                                                : (not_ready_ ? not_ready_() : std::string());
  if (reason.empty()) {
    answer.body = "ok\n";
  } else {
    answer.status = 503;
    answer.body = (path == "/healthz" ? "not live: " : "not ready: ") + reason + "\n";
  }
}

}  // namespace wirecheck::server
