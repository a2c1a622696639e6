#include "server/webhook_server.hpp"

#include <malloc.h>
#include <simdjson.h>

#include <cctype>

#include "admission/response.hpp"
#include "core/decode_dom.hpp"
#include "server/log.hpp"
#include "server/tls.hpp"

namespace wirecheck::server {
namespace {

// Per-thread buffers up to this size stay warm between requests.
constexpr std::size_t kKeepPerThreadBytes = 1u << 20;

using admission::Mode;

// The API server asks for gzip, but deflating a few hundred bytes costs more
// than the whole decision: answers are never compressed.
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
      listener_(*this, metrics.webhook_transport(), [this] {
        HttpListenerOptions o;
        o.name = "webhook";
        o.host = options_.host;
        o.port = options_.port;
        o.configure_tls = [this](SSL_CTX& ctx) {
          return configure_server_tls(ctx, certs_, options_.client_ca_file);
        };
        o.max_connections = options_.max_connections;
        o.max_pending_per_source = options_.max_pending_per_source;
        o.head_timeout = options_.head_timeout;
        o.request_timeout = options_.request_timeout;
        o.write_timeout = options_.write_timeout;
        o.idle_timeout = options_.idle_timeout;
        o.max_body_bytes = options_.max_body_bytes;
        o.max_body_bytes_in_flight = std::max(options_.max_body_bytes_in_flight, options_.max_body_bytes);
        o.body_padding = simdjson::SIMDJSON_PADDING;
        o.workers = options_.threads;
        return o;
      }()) {}

WebhookServer::~WebhookServer() { listener_.stop(true); }

core::Status WebhookServer::bind() { return listener_.bind(); }

void WebhookServer::start() { listener_.start(); }

void WebhookServer::refuse(int status, std::string_view reason, std::string_view message, HttpAnswer& answer) {
  answer.status = status;
  answer.content_type = kJsonContentType;
  answer.body = admission::build_status_error(status, reason, message);
  metrics_.record_rejected(status);
}

bool WebhookServer::accept_head(const HttpHead& head, HttpAnswer& answer) {
  int code = 0;
  const std::string_view path = head.path();
  const auto mode = mode_for_path(path);
  if (!mode) {
    code = 404;
    refuse(code, "NotFound", "no such path; POST AdmissionReviews to /validate[/enforce|/warn|/audit]", answer);
  } else if (head.method() != "POST") {
    code = 405;
    refuse(code, "MethodNotAllowed", "only POST is allowed on " + std::string(path), answer);
    answer.headers.emplace_back("Allow", "POST");
  } else if (!is_json_media_type(head.header("Content-Type"))) {
    code = 415;
    refuse(code, "UnsupportedMediaType",
           "Content-Type must be application/json, got '" + std::string(head.header("Content-Type")) + "'", answer);
  } else if (head.has("Transfer-Encoding") || !head.has("Content-Length")) {
    code = 411;
    refuse(code, "LengthRequired", "a Content-Length body is required", answer);
  } else {
    const std::string_view length_text = head.header("Content-Length");
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
      refuse(code, "RequestEntityTooLarge",
             "body of " + std::string(length_text) + " bytes is over the limit of " +
                 std::to_string(options_.max_body_bytes) + " bytes", answer);
    }
  }
  if (code == 0) return true;
  LogLine("request refused")
      .num("code", code)
      .str("method", head.method())
      .str("path", path)
      .str("remote", head.remote())
      .emit(spdlog::level::info);
  return false;
}

void WebhookServer::respond(const HttpHead& head, std::string& body, HttpAnswer& answer) {
  const auto mode_path = mode_for_path(head.path());
  const Mode mode = mode_path && *mode_path ? **mode_path : options_.default_mode;
  metrics_.add_in_flight(1);
  // Declared before the outcome, so this runs after the decoded object and
  // findings are freed.
  struct Done {
    Metrics& metrics;
    bool large;  // a body over kKeepPerThreadBytes
    ~Done() {
      metrics.add_in_flight(-1);
      // The thread's parser grew for a large review: give the memory back.
      core::release_large_thread_parser(kKeepPerThreadBytes);
      // The decoded object of a large review was many small allocations:
      // hand the pages they leave free back to the OS (glibc keeps them).
      if (large) malloc_trim(0);
    }
  } done{metrics_, body.size() > kKeepPerThreadBytes};

  const auto start = std::chrono::steady_clock::now();
  admission::Outcome out;
  handler_.handle(body.data(), body.size(), mode, out);
  const auto own = std::chrono::steady_clock::now() - start;
  metrics_.record_review(out, std::chrono::duration_cast<std::chrono::nanoseconds>(own));

  answer.status = out.http_status;
  answer.body = out.body.empty() ? admission::build_status_error(500, "InternalError", "internal error")
                                 : std::move(out.body);
  answer.content_type = kJsonContentType;

  // One line per decision; never the object. A clean allow (no finding, no
  // rule skipped, nothing exempted) is the common case and says nothing the
  // metrics do not: it is logged at debug, everything else at info or above.
  const spdlog::level::level_enum level =
      out.internal_error ? spdlog::level::err
      : !out.parsed || !out.not_checked.empty() ? spdlog::level::warn
      : out.findings.empty() && out.skipped.empty() ? spdlog::level::debug
                                                    : spdlog::level::info;
  if (!spdlog::should_log(level)) return;
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
    if (!out.skipped.empty()) {
      std::vector<std::string> skipped;
      for (const auto& s : out.skipped) skipped.emplace_back(s.rule);
      line.list("skipped", skipped).str("skipReason", out.skipped.front().reason);
    }
  } else {
    line.str("decision", decision_label(out)).str("remote", head.remote());
  }
  line.real("duration_us", std::chrono::duration<double, std::micro>(own).count());
  if (!out.not_checked.empty()) line.str("notChecked", out.not_checked);
  if (out.internal_error || !out.parsed || !out.not_checked.empty()) line.str("error", out.error);
  line.emit(level);
}

}  // namespace wirecheck::server
