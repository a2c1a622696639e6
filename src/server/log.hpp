// Structured logs: one JSON object per line on stderr, through spdlog.
// `setup_json_logging` installs the pattern {"ts":..,"level":..,"msg":..,<fields>};
// a LogLine builds the message part, escaping every value, so that a line is
// always valid JSON whatever a request carried. Objects are never logged.
//
// Thread-safety: spdlog's default logger is thread-safe; LogLine is a local value.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wirecheck::server {

// Makes the default logger write JSON lines to stderr at `level`.
void setup_json_logging(spdlog::level::level_enum level);

class LogLine {
 public:
  explicit LogLine(std::string_view msg);
  LogLine& str(std::string_view key, std::string_view value);
  LogLine& num(std::string_view key, std::int64_t value);
  LogLine& real(std::string_view key, double value);
  LogLine& boolean(std::string_view key, bool value);
  LogLine& list(std::string_view key, const std::vector<std::string>& values);
  void emit(spdlog::level::level_enum level) const;

 private:
  void key(std::string_view key);
  std::string text_;
};

}  // namespace wirecheck::server
