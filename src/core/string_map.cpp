#include "wirecheck/string_map.hpp"

namespace wirecheck::core {

StringList StringMap::flatten(const value_type* entries, std::size_t n) {
  std::vector<std::string_view> items;
  items.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    items.push_back(entries[i].first);
    items.push_back(entries[i].second);
  }
  return StringList(items);
}

void StringMap::emplace_back(std::string_view key, std::string_view value) {
  std::vector<value_type> entries(begin(), end());
  entries.emplace_back(key, value);
  entries_ = flatten(entries.data(), entries.size());
}

FoundValue find_value(const StringMap& map, std::string_view key) {
  for (const auto& [k, v] : map) {
    if (k == key) return v;
  }
  return std::nullopt;
}

}  // namespace wirecheck::core
