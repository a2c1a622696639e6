#include "cluster/api_client.hpp"

#include <array>
#include <limits>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/tls_client.hpp"

namespace wirecheck::cluster {
namespace {

namespace http = boost::beast::http;
using boost::system::error_code;
using core::Result;

// The API server's heads are a few hundred bytes; Beast's default is 8 KiB.
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kErrorBodyLimit = 64 * 1024;

// Boost 1.74's Beast takes boost::string_view.
boost::beast::string_view beast_view(std::string_view s) { return {s.data(), s.size()}; }

net::TlsClientOptions tls_options(const KubeConfig& config, const ApiClientOptions& options) {
  net::TlsClientOptions o;
  o.host = config.host;
  o.port = config.port;
  // The name in the server URL is what is verified (an IP against IP SANs).
  o.server_name = config.host;
  o.verify = !config.insecure_skip_verify;
  if (o.verify) {
    o.ca_file = config.ca_file;
    o.ca_pem = config.ca_pem;
    // Without a CA the system trust store is used (a public API endpoint).
    o.system_roots = config.ca_file.empty() && config.ca_pem.empty();
  }
  o.client_cert_pem = config.client_cert_pem;
  o.client_key_pem = config.client_key_pem;
  o.alpn = {"http/1.1"};
  o.timeout = options.connect_timeout;
  return o;
}

std::string host_header(const KubeConfig& config) {
  std::string host = config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host;
  if (config.port != 443) host += ":" + std::to_string(config.port);
  return host;
}

// The request as bytes: head and body in one buffer, one write.
Result<std::string> serialize(http::request<http::string_body>& req) {
  std::string wire;
  http::request_serializer<http::string_body> serializer(req);
  error_code ec;
  while (!ec && !serializer.is_done()) {
    serializer.next(ec, [&](error_code& e, const auto& buffers) {
      e = {};
      std::size_t n = 0;
      for (const auto b : boost::beast::buffers_range_ref(buffers)) {
        wire.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      serializer.consume(n);
    });
  }
  if (ec) return Result<std::string>::failure("cannot frame the request: " + ec.message());
  return wire;
}

// How reading one answer ended.
struct Answer {
  int status = 0;
  bool complete = false;    // read to its end
  bool stopped = false;     // the sink asked to stop
  bool keep_alive = false;  // complete, and the connection may carry the next request
  bool nothing = false;     // the connection closed before the first byte
  std::string error;        // when neither complete nor stopped
};

// Reads one answer, handing its body to `on_body` as it is decoded.
// `read_timeout` bounds each wait for bytes.
Answer read_answer(net::TlsClient& tls, std::chrono::milliseconds read_timeout,
                   const std::function<bool(int, std::string_view)>& on_body) {
  Answer a;
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(kHeaderLimit);
  // A LIST page is as large as the server makes it. Not boost::none: Beast
  // 1.74 compares the Content-Length with the optional itself when the head
  // ends, and a disengaged optional fails every body that is not in the
  // same read as the head.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.eager(true);
  std::string in;               // bytes received, not yet parsed
  std::array<char, 16384> out;  // decoded body, handed on before the next put
  auto& body = parser.get().body();
  for (;;) {
    while (!in.empty()) {
      body.data = out.data();
      body.size = out.size();
      error_code ec;
      const std::size_t used = parser.put(boost::asio::buffer(in), ec);
      in.erase(0, used);
      if (a.status == 0 && parser.is_header_done()) a.status = parser.get().result_int();
      const std::size_t decoded = out.size() - body.size;
      if (decoded > 0 && !on_body(a.status, std::string_view(out.data(), decoded))) {
        a.stopped = true;
        return a;
      }
      if (parser.is_done()) {
        a.complete = true;
        a.keep_alive = parser.keep_alive() && in.empty();
        return a;
      }
      if (ec == http::error::need_buffer) continue;  // `out` was full
      if (ec == http::error::need_more) break;       // a head or chunk header not whole yet
      if (ec) {
        a.error = "malformed HTTP answer: " + ec.message();
        return a;
      }
    }
    switch (tls.read_some(in, read_timeout)) {
      case net::TlsClient::Read::kData:
        break;
      case net::TlsClient::Read::kClosed: {
        if (!parser.got_some() && in.empty()) {
          a.nothing = true;
          a.error = "connection closed by the server before an answer";
          return a;
        }
        error_code ec;
        if (in.empty()) parser.put_eof(ec);
        if (in.empty() && !ec && parser.is_done()) {
          a.complete = true;  // a body that ends with the connection
          return a;
        }
        a.error = parser.is_header_done() ? "connection closed by the server in the middle of the body"
                                          : "connection closed by the server in the middle of the answer's head";
        return a;
      }
      case net::TlsClient::Read::kTimeout:
        a.error = "no data from the server for " + std::to_string(read_timeout.count()) + " ms";
        return a;
      case net::TlsClient::Read::kFailed:
        a.error = tls.error();
        return a;
    }
  }
}

}  // namespace

ApiClient::ApiClient(KubeConfig config, ApiClientOptions options)
    : config_(std::move(config)),
      options_(options),
      tls_(std::make_unique<net::TlsClient>(tls_options(config_, options_))) {}

ApiClient::~ApiClient() = default;

core::Result<int> ApiClient::exchange(std::string_view method, const std::string& path, const std::string& body,
                                      std::string_view content_type, std::chrono::milliseconds read_timeout,
                                      const BodySink& on_body) {
  const std::string what = std::string(method) + " " + path;
  const auto failure = [&](const std::string& why) { return Result<int>::failure(what + ": " + why); };
  auto token = current_token(config_);
  if (!token) return Result<int>::failure(token.error());

  http::request<http::string_body> req;
  const http::verb verb = http::string_to_verb(beast_view(method));
  if (verb == http::verb::unknown) {
    req.method_string(beast_view(method));
  } else {
    req.method(verb);
  }
  req.target(config_.base_path + path);
  req.version(11);
  req.set(http::field::host, host_header(config_));
  req.set(http::field::user_agent, "wirecheck/" WIRECHECK_VERSION);
  req.set(http::field::accept, "application/json");
  if (!token->empty()) req.set(http::field::authorization, "Bearer " + *token);
  if (verb != http::verb::get) {
    req.set(http::field::content_type, beast_view(content_type));
    req.body() = body;
  }
  req.prepare_payload();
  auto wire = serialize(req);
  if (!wire) return failure(wire.error());

  // A connection the server closed while it was idle is replaced first. The
  // server may still close it as the request goes out: then an idempotent
  // request that got no byte back is sent again on a new connection.
  if (tls_->connected() && !tls_->idle_usable()) tls_->close();
  const bool idempotent = verb == http::verb::get || verb == http::verb::put;
  for (bool retried = false;; retried = true) {
    const bool reused = tls_->connected();
    if (!tls_->connect()) {
      if (tls_->failed_stage() == net::TlsClient::Stage::kConnect && !tls_->cancelled()) {
        return failure("cannot connect to " + config_.server + ": " + tls_->error());
      }
      return failure(tls_->error());
    }
    const bool retry = reused && idempotent && !retried;
    if (!tls_->write(*wire)) {
      if (retry && !tls_->cancelled() && !tls_->timed_out()) continue;
      return failure(tls_->error());
    }
    Answer a = read_answer(*tls_, read_timeout, on_body);
    if (a.stopped) {
      tls_->close();
      return a.status;
    }
    if (!a.complete) {
      tls_->close();
      if (a.nothing && retry) continue;
      return failure(a.error);
    }
    if (!a.keep_alive) tls_->close();
    return a.status;
  }
}

core::Result<ApiResponse> ApiClient::get(const std::string& path) {
  ApiResponse response;
  auto status = exchange("GET", path, {}, {}, options_.read_timeout, [&](int, std::string_view data) {
    response.body.append(data);
    return true;
  });
  if (!status) return Result<ApiResponse>::failure(status.error());
  response.status = *status;
  return response;
}

core::Result<ApiResponse> ApiClient::send(const std::string& method, const std::string& path,
                                          const std::string& body, const std::string& content_type) {
  ApiResponse response;
  auto status = exchange(method, path, body, content_type, options_.read_timeout, [&](int, std::string_view data) {
    response.body.append(data);
    return true;
  });
  if (!status) return Result<ApiResponse>::failure(status.error());
  response.status = *status;
  return response;
}

core::Result<int> ApiClient::stream(const std::string& path, std::chrono::milliseconds read_timeout,
                                    const std::function<bool(std::string_view)>& on_data,
                                    std::string* error_body) {
  return exchange("GET", path, {}, {}, read_timeout, [&](int status, std::string_view data) {
    if (status == 200) return on_data(data);
    if (error_body != nullptr && error_body->size() < kErrorBodyLimit) {
      error_body->append(data.substr(0, kErrorBodyLimit - error_body->size()));
    }
    return true;
  });
}

void ApiClient::cancel() { tls_->cancel(); }

}  // namespace wirecheck::cluster
