#include "server/https_client.hpp"

#include <cctype>
#include <cstdlib>

namespace wirecheck::server {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

net::TlsClientOptions tls_options(const HttpsClientOptions& o) {
  net::TlsClientOptions t;
  t.host = o.host;
  t.port = o.port;
  t.ca_file = o.verify ? o.ca_file : std::string();
  t.verify = o.verify;
  t.client_cert_file = o.client_cert_file;
  t.client_key_file = o.client_key_file;
  t.alpn = {"http/1.1"};
  t.timeout = o.timeout;
  return t;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpsClient::HttpsClient(HttpsClientOptions options) : options_(std::move(options)), tls_(tls_options(options_)) {}

HttpsClient::~HttpsClient() = default;

bool HttpsClient::fail(Stage stage, std::string message) {
  stage_ = stage;
  error_ = std::move(message);
  close();
  return false;
}

bool HttpsClient::tls_failed() {
  switch (tls_.failed_stage()) {
    case net::TlsClient::Stage::kConnect:
      return fail(Stage::kConnect, "cannot connect to " + options_.host + ":" + std::to_string(options_.port) +
                                       ": " + tls_.error());
    case net::TlsClient::Stage::kTls:
      return fail(Stage::kTls, tls_.error());
    default:
      return fail(Stage::kHttp, tls_.error());
  }
}

void HttpsClient::close() {
  tls_.close();
  buffer_.clear();
}

bool HttpsClient::connect() {
  if (tls_.connected()) return true;
  stage_ = Stage::kNone;
  error_.clear();
  buffer_.clear();
  return tls_.connect() || tls_failed();
}

bool HttpsClient::write_all(std::string_view bytes) {
  if (tls_.write(bytes)) return true;
  if (tls_.failed_stage() == net::TlsClient::Stage::kTls) return tls_failed();
  return fail(Stage::kHttp, "write failed (connection closed?)");
}

bool HttpsClient::read_more() { return tls_.read_some(buffer_) == net::TlsClient::Read::kData; }

bool HttpsClient::send_raw(std::string_view bytes) {
  if (!connect()) return false;
  return write_all(bytes);
}

bool HttpsClient::post(std::string_view target, std::string_view body, HttpResponse& out,
                       std::string_view content_type) {
  if (!connect()) return false;
  std::string request = "POST ";
  request += target;
  request += " HTTP/1.1\r\nHost: " + options_.host + ":" + std::to_string(options_.port) +
             "\r\nUser-Agent: wirecheck-selftest\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\nAccept: application/json, */*\r\nContent-Type: ";
  request += content_type;
  request += "\r\n\r\n";
  request += body;
  if (!write_all(request)) return false;
  return read_response(out);
}

bool HttpsClient::get(std::string_view target, HttpResponse& out) {
  if (!connect()) return false;
  std::string request = "GET ";
  request += target;
  request += " HTTP/1.1\r\nHost: " + options_.host + ":" + std::to_string(options_.port) + "\r\n\r\n";
  if (!write_all(request)) return false;
  return read_response(out);
}

bool HttpsClient::read_response(HttpResponse& out) {
  out = HttpResponse{};
  if (!tls_.connected()) return fail(Stage::kHttp, "not connected");
  const auto cut = [&](const char* what) {
    if (tls_.failed_stage() == net::TlsClient::Stage::kTls) return tls_failed();
    return fail(Stage::kHttp, what);
  };
  std::size_t end = 0;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (buffer_.size() > 65536 || !read_more()) return cut("no HTTP response (connection closed)");
  }
  const std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    return fail(Stage::kHttp, "malformed status line: " + status_line);
  }
  out.status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    out.headers[lower(line.substr(0, colon))] = value;
  }
  const std::string length = out.header("content-length");
  if (!length.empty()) {
    const std::size_t want = std::strtoull(length.c_str(), nullptr, 10);
    while (buffer_.size() < want) {
      if (!read_more()) return cut("response body cut short");
    }
    out.body = buffer_.substr(0, want);
    buffer_.erase(0, want);
  } else if (!out.header("transfer-encoding").empty()) {
    return fail(Stage::kHttp, "chunked responses are not supported");
  } else {
    while (read_more()) {
    }
    out.body = std::move(buffer_);
    buffer_.clear();
    close();
    return true;
  }
  if (lower(out.header("connection")) == "close") close();
  return true;
}

bool HttpsClient::peer_closed(std::chrono::milliseconds wait) {
  if (!tls_.connected()) return true;
  switch (tls_.read_some(buffer_, wait)) {
    case net::TlsClient::Read::kData:
    case net::TlsClient::Read::kTimeout:
      return false;
    case net::TlsClient::Read::kClosed:
    case net::TlsClient::Read::kFailed:
      return true;
  }
  return true;
}

std::string HttpsClient::peer_serial_hex() const {
  const net::Certificate* leaf = tls_.presented().leaf();
  return tls_.connected() && leaf != nullptr ? leaf->serial_hex() : std::string();
}

std::string HttpsClient::negotiated_alpn() const { return tls_.connected() ? tls_.presented().alpn : ""; }

std::string HttpsClient::tls_version() const { return tls_.connected() ? tls_.presented().protocol : ""; }

bool parse_https_url(std::string_view url, std::string& host, int& port, std::string& target) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) return false;
  url.remove_prefix(kScheme.size());
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  port = 443;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return false;
      port = std::atoi(std::string(authority.substr(1)).c_str());
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = std::atoi(std::string(authority.substr(colon + 1)).c_str());
  }
  return !host.empty() && port > 0 && port < 65536;
}

}  // namespace wirecheck::server
