#include "server/webhook_server.hpp"

#include <malloc.h>
#include <simdjson.h>
#include <sys/socket.h>

#include <cctype>
#include <thread>

#include "admission/response.hpp"
#include "core/decode_dom.hpp"
#include "server/listener.hpp"
#include "server/log.hpp"
#include "server/tls.hpp"

namespace wirecheck::server {
namespace {

// Per-thread buffers up to this size stay warm between requests.
constexpr std::size_t kKeepPerThreadBytes = 1u << 20;

using admission::Mode;
using httplib::Server;

// A content type httplib does not compress: the API server asks for gzip,
// but deflating a few hundred bytes costs more than the whole decision.
constexpr const char* kJsonContentType = "application/json; charset=utf-8";

std::optional<std::optional<Mode>> mode_for_path(std::string_view path) {
  // Outer optional: known path; inner: explicit mode (none = server default).
  if (path == "/validate") return std::optional<Mode>();
  constexpr std::string_view kPrefix = "/validate/";
  if (path.substr(0, kPrefix.size()) == kPrefix) {
    if (auto mode = admission::parse_mode(path.substr(kPrefix.size()))) return std::optional<Mode>(mode);
  }
  return std::nullopt;
}

void reject(httplib::Response& res, int code, std::string_view reason, std::string_view message) {
  res.status = code;
  res.body = admission::build_status_error(code, reason, message);
  res.set_header("Content-Type", kJsonContentType);
}

bool has_body(const httplib::Request& req) {
  return req.has_header("Transfer-Encoding") ||
         (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
}

std::string_view decision_label(const admission::Outcome& out) {
  if (!out.parsed) return "invalid";
  if (out.internal_error) return "error";
  return out.allowed ? "allowed" : "denied";
}

}  // namespace

bool is_json_media_type(std::string_view content_type) {
  const std::size_t semi = content_type.find(';');
  std::string_view media = content_type.substr(0, semi);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  constexpr std::string_view kJson = "application/json";
  if (media.size() != kJson.size()) return false;
  for (std::size_t i = 0; i < media.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(media[i])) != kJson[i]) return false;
  }
  return true;
}

WebhookServer::WebhookServer(const admission::AdmissionHandler& handler, CertStore& certs,
                             Metrics& metrics, WebhookServerOptions options)
    : handler_(handler),
      certs_(certs),
      metrics_(metrics),
      options_(std::move(options)),
      deadline_(options_.request_timeout, [&metrics] { metrics.record_request_deadline_exceeded(); }) {}

WebhookServer::~WebhookServer() { stop(true); }

core::Status WebhookServer::bind() {
  core::Status tls_status = core::ok_status();
  http_ = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    tls_status = configure_server_tls(ctx, certs_, options_.client_ca_file);
    deadline_.install(ctx);
    return tls_status.ok();
  });
  if (!tls_status) return tls_status;
  if (!http_->is_valid()) return core::Status::failure("cannot create the TLS context");

  const std::size_t threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_keep_alive_max_count(options_.keep_alive_max_requests);
  http_->set_keep_alive_timeout(options_.keep_alive_timeout_s);
  http_->set_read_timeout(options_.read_timeout_s, 0);
  http_->set_write_timeout(options_.write_timeout_s, 0);
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_tcp_nodelay(true);

  http_->set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return pre_route(req, res); });
  // curl sends `Expect: 100-continue` for larger bodies: refuse before the
  // client sends the body at all (httplib answers directly unless we say 100).
  http_->set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    return pre_route(req, res) == Server::HandlerResponse::Handled ? res.status : 100;
  });
  http_->Post(R"(/validate(/(enforce|warn|audit))?)",
              [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
                const auto mode = mode_for_path(req.path);
                handle_review(req, res, reader, mode && *mode ? **mode : options_.default_mode);
              });
  // Runs after the response is written: a response marked `Connection: close`
  // (refused body, draining) really closes the connection, so an unread body
  // is never parsed as the next request and drained clients reconnect elsewhere.
  http_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    RequestDeadline::request_done(req.ssl);
    if (req.ssl != nullptr && res.get_header_value("Connection") == "close") {
      const int fd = SSL_get_fd(req.ssl);
      if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    }
  });
  http_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    reject(res, 500, "InternalError", "internal error");
  });

  auto bound = bind_exclusive(*http_, options_.host, options_.port);
  if (!bound) return core::Status::failure(bound.error());
  port_ = bound.value();
  return core::ok_status();
}

httplib::Server::HandlerResponse WebhookServer::pre_route(const httplib::Request& req,
                                                          httplib::Response& res) {
  int code = 0;
  const auto mode = mode_for_path(req.path);
  if (!mode) {
    code = 404;
    reject(res, code, "NotFound", "no such path; POST AdmissionReviews to /validate[/enforce|/warn|/audit]");
  } else if (req.method != "POST") {
    code = 405;
    reject(res, code, "MethodNotAllowed", "only POST is allowed on " + req.path);
    res.set_header("Allow", "POST");
  } else if (!is_json_media_type(req.get_header_value("Content-Type"))) {
    code = 415;
    reject(res, code, "UnsupportedMediaType",
           "Content-Type must be application/json, got '" + req.get_header_value("Content-Type") + "'");
  } else if (req.has_header("Transfer-Encoding") || !req.has_header("Content-Length")) {
    code = 411;
    reject(res, code, "LengthRequired", "a Content-Length body is required");
  } else {
    const std::string length_text = req.get_header_value("Content-Length");
    std::uint64_t length = 0;
    bool valid = !length_text.empty();
    for (char c : length_text) {
      if (c < '0' || c > '9' || length > (UINT64_MAX - 9) / 10) {
        valid = false;
        break;
      }
      length = length * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (!valid || length > options_.max_body_bytes) {
      code = 413;
      reject(res, code, "RequestEntityTooLarge",
             "body of " + length_text + " bytes is over the limit of " +
                 std::to_string(options_.max_body_bytes) + " bytes");
    }
  }
  if (code == 0) return Server::HandlerResponse::Unhandled;
  if (has_body(req) || draining()) res.set_header("Connection", "close");
  metrics_.record_rejected(code);
  LogLine("request refused")
      .num("code", code)
      .str("method", req.method)
      .str("path", req.path)
      .str("remote", req.remote_addr)
      .emit(spdlog::level::info);
  return Server::HandlerResponse::Handled;
}

void WebhookServer::handle_review(const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader, Mode mode) {
  in_flight_.fetch_add(1);
  metrics_.add_in_flight(1);
  struct Done {
    WebhookServer& self;
    ~Done() {
      self.metrics_.add_in_flight(-1);
      self.in_flight_.fetch_sub(1);
    }
  } done{*this};

  // One buffer per connection thread, reused: no allocation per request once
  // warm, and room for simdjson's padding so it parses in place. Buffers
  // (and the thread's parser) that a large review grew are released after it:
  // 64 threads each keeping an 8 MiB peak would exceed the pod's memory limit.
  thread_local std::string body;
  body.clear();
  struct ReleaseLarge {
    ~ReleaseLarge() {
      const bool large = body.capacity() > kKeepPerThreadBytes;
      if (large) std::string().swap(body);
      core::release_large_thread_parser(kKeepPerThreadBytes);
      // The decoded object of a large review was many small allocations:
      // hand the pages they leave free back to the OS (glibc keeps them).
      if (large) malloc_trim(0);
    }
  } release_large;
  const std::size_t limit = options_.max_body_bytes;
  std::size_t expected = 0;
  try {
    expected = static_cast<std::size_t>(std::stoull(req.get_header_value("Content-Length")));
  } catch (...) {
    expected = 0;
  }
  body.reserve(std::min(expected, limit) + simdjson::SIMDJSON_PADDING);
  bool too_large = false;
  const bool complete = reader([&](const char* data, std::size_t len) {
    if (body.size() + len > limit) {  // e.g. a compressed body that inflates
      too_large = true;
      return false;
    }
    body.append(data, len);
    return true;
  });
  if (too_large || !complete) {
    const int code = too_large ? 413 : 400;
    reject(res, code, too_large ? "RequestEntityTooLarge" : "BadRequest",
           too_large ? "body is over the limit" : "incomplete body");
    res.set_header("Connection", "close");
    metrics_.record_rejected(code);
    return;
  }
  const std::size_t size = body.size();
  body.append(simdjson::SIMDJSON_PADDING, '\0');

  const auto start = std::chrono::steady_clock::now();
  admission::Outcome out;
  handler_.handle(body.data(), size, mode, out);
  const auto own = std::chrono::steady_clock::now() - start;
  metrics_.record_review(out, std::chrono::duration_cast<std::chrono::nanoseconds>(own));

  res.status = out.http_status;
  if (out.body.empty()) {
    res.body = admission::build_status_error(500, "InternalError", "internal error");
  } else {
    res.body = std::move(out.body);
  }
  res.set_header("Content-Type", kJsonContentType);
  if (draining()) res.set_header("Connection", "close");

  // One line per decision; never the object.
  LogLine line(out.parsed ? "admission decision" : "invalid admission review");
  line.str("uid", out.uid);
  if (out.parsed) {
    std::vector<std::string> rules;
    std::vector<std::string> exempted;
    for (const auto& f : out.findings) (f.exempted ? exempted : rules).push_back(f.rule);
    line.str("kind", out.kind)
        .str("namespace", out.ns)
        .str("name", out.name)
        .str("operation", out.operation)
        .str("user", out.user)
        .str("mode", admission::mode_name(mode))
        .str("decision", decision_label(out))
        .boolean("dryRun", out.dry_run)
        .list("rules", rules);
    if (!exempted.empty()) line.list("exempted", exempted);
  } else {
    line.str("decision", decision_label(out)).str("remote", req.remote_addr);
  }
  line.real("duration_us", std::chrono::duration<double, std::micro>(own).count());
  if (!out.not_checked.empty()) line.str("notChecked", out.not_checked);
  if (out.internal_error || !out.parsed || !out.not_checked.empty()) line.str("error", out.error);
  line.emit(out.internal_error ? spdlog::level::err
                               : (out.parsed && out.not_checked.empty() ? spdlog::level::info
                                                                        : spdlog::level::warn));
}

void WebhookServer::start() {
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // listen_after_bind flips is_running() once it accepts; bounded wait.
  for (int i = 0; i < 2000 && !http_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void WebhookServer::stop(bool join) {
  if (http_) http_->stop();
  if (join && thread_.joinable()) thread_.join();
}

bool WebhookServer::wait_idle(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_flight_.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace wirecheck::server
