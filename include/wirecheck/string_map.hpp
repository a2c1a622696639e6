// StringMap: the ordered key/value pairs of labels, annotations, a Service's
// selector and matchLabels. Objects carry a handful of entries, so a linear
// scan beats any map; what costs is memory, since the cluster cache holds
// tens of thousands of objects with up to four such maps each. The keys and
// values are one StringList (string_list.hpp): 16 bytes in the object plus
// one allocation, where a vector of string pairs costs 64 bytes an entry plus
// an allocation for every key past 15 characters (every
// `app.kubernetes.io/...` key).
//
// Reading yields string_view pairs, in insertion order:
//   for (const auto& [key, value] : object.meta.labels) ...
// The views stay valid until the map is modified or destroyed. Modifying
// (emplace_back, erase_if) rebuilds the block: maps are built once, when an
// object is decoded, and read many times.
//
// Thread-safety: a const StringMap may be read from any number of threads.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "wirecheck/string_list.hpp"

namespace wirecheck::core {

class StringMap {
 public:
  using value_type = std::pair<std::string_view, std::string_view>;

  using const_iterator = IndexIterator<StringMap, value_type>;
  using iterator = const_iterator;

  StringMap() = default;
  StringMap(std::initializer_list<value_type> entries) : entries_(flatten(entries.begin(), entries.size())) {}
  explicit StringMap(const std::vector<value_type>& entries) : entries_(flatten(entries.data(), entries.size())) {}

  std::size_t size() const { return entries_.size() / 2; }
  bool empty() const { return entries_.empty(); }
  // Entry `i` (i < size()).
  value_type operator[](std::size_t i) const { return {entries_[2 * i], entries_[2 * i + 1]}; }
  value_type front() const { return (*this)[0]; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

  // Appends an entry (no check for an existing key, as with a vector).
  void emplace_back(std::string_view key, std::string_view value);
  void push_back(const value_type& entry) { emplace_back(entry.first, entry.second); }
  // Removes the entries for which `remove(entry)` is true; keeps the order
  // of the others.
  template <typename Predicate>
  void erase_if(Predicate remove) {
    std::vector<value_type> kept;
    for (const value_type& entry : *this) {
      if (!remove(entry)) kept.push_back(entry);
    }
    if (kept.size() != size()) *this = StringMap(kept);
  }

  friend bool operator==(const StringMap& a, const StringMap& b) = default;

 private:
  static StringList flatten(const value_type* entries, std::size_t n);

  StringList entries_;  // key 0, value 0, key 1, value 1, ...
};

// A value looked up in a StringMap: empty when the key is absent. It compares
// to nullptr as the `const std::string*` it replaces did (`v != nullptr`,
// `*v`, `v->empty()`), and to a string by value (`v == "true"` is false when
// absent).
class FoundValue : public std::optional<std::string_view> {
 public:
  using std::optional<std::string_view>::optional;
  friend bool operator==(const FoundValue& v, std::nullptr_t) { return !v.has_value(); }
};

// The value of the first entry with `key`.
FoundValue find_value(const StringMap& map, std::string_view key);

}  // namespace wirecheck::core
