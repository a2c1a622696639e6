#include "server/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <charconv>

#include "admission/response.hpp"

namespace wirecheck::server {

namespace {

// A value cut to kMaxLogValueBytes (at a UTF-8 boundary), saying how long it was.
void append_capped(std::string& text, std::string_view value) {
  if (value.size() <= kMaxLogValueBytes) {
    admission::append_json_string(text, value);
    return;
  }
  std::string cut = admission::truncate_utf8(std::string(value.substr(0, kMaxLogValueBytes + 4)),
                                             kMaxLogValueBytes);
  cut += "(" + std::to_string(value.size()) + " bytes)";
  admission::append_json_string(text, cut);
}

}  // namespace

void setup_json_logging(spdlog::level::level_enum level) {
  auto logger = spdlog::stderr_logger_mt("wirecheck");
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":%v})",
                      spdlog::pattern_time_type::utc);
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

LogLine::LogLine(std::string_view msg) {
  text_.reserve(256);
  admission::append_json_string(text_, msg);
}

void LogLine::key(std::string_view key) {
  text_ += ',';
  admission::append_json_string(text_, key);
  text_ += ':';
}

LogLine& LogLine::str(std::string_view k, std::string_view value) {
  key(k);
  append_capped(text_, value);
  return *this;
}

LogLine& LogLine::num(std::string_view k, std::int64_t value) {
  key(k);
  text_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::real(std::string_view k, double value) {
  key(k);
  // As printf's "%.6g" prints it, without the locale and format-string work.
  char buf[32];
  const auto end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 6).ptr;
  text_.append(buf, end);
  return *this;
}

LogLine& LogLine::boolean(std::string_view k, bool value) {
  key(k);
  text_ += value ? "true" : "false";
  return *this;
}

LogLine& LogLine::list(std::string_view k, const std::vector<std::string>& values) {
  key(k);
  text_ += '[';
  for (std::size_t i = 0; i < values.size() && i < kMaxLogListItems; ++i) {
    if (i > 0) text_ += ',';
    append_capped(text_, values[i]);
  }
  if (values.size() > kMaxLogListItems) {
    text_ += ',';
    admission::append_json_string(text_, "+" + std::to_string(values.size() - kMaxLogListItems) + " more");
  }
  text_ += ']';
  return *this;
}

void LogLine::emit(spdlog::level::level_enum level) const {
  // The text as the message, not a format string: no formatting pass over it.
  spdlog::log(level, spdlog::string_view_t(text_));
}

}  // namespace wirecheck::server
