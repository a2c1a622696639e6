// Mode: what the webhook does with findings (RULES.md "Modes"). The server
// has a default mode; the paths /validate/enforce, /validate/warn and
// /validate/audit override it so that one deployment can serve several
// webhook entries with different namespaceSelectors.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace wirecheck::admission {

enum class Mode : std::uint8_t { kEnforce = 0, kWarn = 1, kAudit = 2 };

inline constexpr std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::kEnforce: return "enforce";
    case Mode::kWarn: return "warn";
    case Mode::kAudit: return "audit";
  }
  return "warn";
}

inline constexpr std::optional<Mode> parse_mode(std::string_view text) {
  if (text == "enforce") return Mode::kEnforce;
  if (text == "warn") return Mode::kWarn;
  if (text == "audit") return Mode::kAudit;
  return std::nullopt;
}

}  // namespace wirecheck::admission
