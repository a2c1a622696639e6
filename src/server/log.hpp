// Structured logs: one JSON object per line on stderr, through spdlog.
// `setup_json_logging` installs the pattern {"ts":..,"level":..,"msg":..,<fields>};
// a LogLine builds the message part, escaping every value, so that a line is
// always valid JSON whatever a request carried. Objects are never logged.
// Values come from clients (uid, name, namespace, user, kind, paths, error
// texts quoting them): each is cut to kMaxLogValueBytes and each list to
// kMaxLogListItems, so a 50 MB name makes a line of a few KB, not 50 MB.
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

// Longer than any Kubernetes name (253), uid (36) or username seen; the cut
// value ends with its original length, e.g. "...(52428800 bytes)".
inline constexpr std::size_t kMaxLogValueBytes = 512;
inline constexpr std::size_t kMaxLogListItems = 32;

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
