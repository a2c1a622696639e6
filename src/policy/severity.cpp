#include "wirecheck/severity.hpp"

namespace wirecheck::policy {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarn:
      return "warn";
    case Severity::kDeny:
      return "deny";
  }
  return "warn";
}

std::optional<Severity> parse_severity(std::string_view text) {
  if (text == "info") return Severity::kInfo;
  if (text == "warn" || text == "warning") return Severity::kWarn;
  if (text == "deny") return Severity::kDeny;
  return std::nullopt;
}

std::string_view operation_name(Operation op) {
  switch (op) {
    case Operation::kCreate:
      return "CREATE";
    case Operation::kUpdate:
      return "UPDATE";
    case Operation::kDelete:
      return "DELETE";
    case Operation::kConnect:
      return "CONNECT";
  }
  return "CREATE";
}

std::optional<Operation> parse_operation(std::string_view text) {
  if (text == "CREATE") return Operation::kCreate;
  if (text == "UPDATE") return Operation::kUpdate;
  if (text == "DELETE") return Operation::kDelete;
  if (text == "CONNECT") return Operation::kConnect;
  return std::nullopt;
}

}  // namespace wirecheck::policy
