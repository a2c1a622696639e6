#include "rules/names.hpp"

#include <algorithm>
#include <cctype>

namespace wirecheck::rules {

namespace {

char lower_char(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

}  // namespace

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower_char);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower_char(x) == lower_char(y); });
}

bool san_covers(std::string_view san, std::string_view name) {
  if (iequals(san, name)) return true;
  if (san.size() > 2 && san.substr(0, 2) == "*.") {
    const std::size_t dot = name.find('.');
    return dot != std::string_view::npos && dot > 0 && iequals(san.substr(1), name.substr(dot));
  }
  return false;
}

}  // namespace wirecheck::rules
