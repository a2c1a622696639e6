// Flag helpers shared by `serve` and `selftest`: `--flag value` /
// `--flag=value` parsing, durations ("5s", "250ms", "1m") and listen
// addresses ("0.0.0.0:8443", "[::1]:8443", ":8443").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "cli/commands.hpp"

namespace wirecheck::cli {

// Walks args; `next_value` fetches the value of the current flag.
class FlagReader {
 public:
  explicit FlagReader(const Args& args) : args_(args) {}
  bool done() const { return i_ >= args_.size(); }
  // The current flag name (without "=value"); advances.
  std::string next_flag();
  // The flag's value (inline or the next argument); nullopt when missing.
  std::optional<std::string> value();

 private:
  const Args& args_;
  std::size_t i_ = 0;
  std::optional<std::string> inline_value_;
};

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
bool parse_listen(std::string_view text, std::string& host, int& port);

}  // namespace wirecheck::cli
