#include "cli/serve_flags.hpp"

#include <charconv>

namespace wirecheck::cli {

std::string FlagReader::next_flag() {
  std::string arg = args_[i_++];
  inline_value_.reset();
  if (arg.rfind("--", 0) == 0) {
    const std::size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      inline_value_ = arg.substr(eq + 1);
      arg.resize(eq);
    }
  }
  return arg;
}

std::optional<std::string> FlagReader::value() {
  if (inline_value_) {
    auto v = std::move(inline_value_);
    inline_value_.reset();
    return v;
  }
  if (i_ >= args_.size()) return std::nullopt;
  return args_[i_++];
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double number = 0;
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  const std::string digits(text.substr(0, i));
  try {
    number = std::stod(digits);
  } catch (...) {
    return std::nullopt;
  }
  const std::string_view unit = text.substr(i);
  double ms = 0;
  if (unit == "ms") ms = number;
  else if (unit == "s" || (unit.empty() && number == 0)) ms = number * 1000;
  else if (unit == "m") ms = number * 60000;
  else return std::nullopt;
  // Casting a double past int64's range is undefined: "1e300s" is refused,
  // like any duration over about 30 years.
  if (!(ms < 1e12)) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

bool parse_listen(std::string_view text, std::string& host, int& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = text.substr(0, colon);
  const std::string_view p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  host = h.empty() ? "0.0.0.0" : std::string(h);
  const auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  return ec == std::errc() && ptr == p.data() + p.size() && port >= 0 && port < 65536;
}

}  // namespace wirecheck::cli
