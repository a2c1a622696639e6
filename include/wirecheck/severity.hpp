// Severity of a finding and the admission operation it was found on. Both
// are tiny value types shared by the engine, the CLI and the server.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

namespace wirecheck::policy {

// Ordered: kInfo < kWarn < kDeny.
enum class Severity : std::uint8_t { kInfo = 0, kWarn = 1, kDeny = 2 };

std::string_view severity_name(Severity s);  // "info" | "warn" | "deny"
std::optional<Severity> parse_severity(std::string_view text);

// Admission operation. `lint` evaluates with kCreate and no old object.
enum class Operation : std::uint8_t { kCreate, kUpdate, kDelete, kConnect };

std::string_view operation_name(Operation op);  // "CREATE", ...
std::optional<Operation> parse_operation(std::string_view text);

// A set of operations as a bit mask.
struct Operations {
  std::uint8_t bits = 0;
  constexpr Operations() = default;
  constexpr Operations(std::initializer_list<Operation> ops) {
    for (Operation op : ops) bits |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(op));
  }
  constexpr bool has(Operation op) const {
    return (bits >> static_cast<unsigned>(op)) & 1u;
  }
};

// What most rules look at: the object as it will be stored.
inline constexpr Operations kWrites{Operation::kCreate, Operation::kUpdate};

}  // namespace wirecheck::policy
