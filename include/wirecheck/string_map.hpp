// StringMap: the ordered key/value pairs of labels, annotations, a Service's
// selector and matchLabels. Objects carry a handful of entries, so a linear
// scan beats any map; what costs is memory, since the cluster cache holds
// tens of thousands of objects with four such maps each. Every key and value
// therefore lives in one heap block (their end offsets, then their
// characters): 16 bytes in the object plus one allocation, where a vector of
// string pairs costs 64 bytes an entry plus an allocation for every key past
// 15 characters (every `app.kubernetes.io/...` key).
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
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace wirecheck::core {

class StringMap {
 public:
  using value_type = std::pair<std::string_view, std::string_view>;

  class const_iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;  // yields values, not references
    using value_type = StringMap::value_type;
    using difference_type = std::ptrdiff_t;
    using reference = value_type;
    using pointer = void;

    const_iterator() = default;
    value_type operator*() const { return (*map_)[index_]; }
    const_iterator& operator++() {
      ++index_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++index_;
      return before;
    }
    bool operator==(const const_iterator& other) const { return index_ == other.index_; }

   private:
    friend class StringMap;
    const_iterator(const StringMap* map, std::size_t index) : map_(map), index_(index) {}
    const StringMap* map_ = nullptr;
    std::size_t index_ = 0;
  };
  using iterator = const_iterator;

  StringMap() = default;
  StringMap(std::initializer_list<value_type> entries) { assign(entries.begin(), entries.size()); }
  explicit StringMap(const std::vector<value_type>& entries) { assign(entries.data(), entries.size()); }
  StringMap(const StringMap& other);
  StringMap& operator=(const StringMap& other);
  StringMap(StringMap&&) noexcept = default;
  StringMap& operator=(StringMap&&) noexcept = default;
  ~StringMap() = default;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Entry `i` (i < size()).
  value_type operator[](std::size_t i) const;
  value_type front() const { return (*this)[0]; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

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
    if (kept.size() != size_) *this = StringMap(kept);
  }

  friend bool operator==(const StringMap& a, const StringMap& b);

 private:
  // Builds the block from `n` entries (which may view this map's block).
  void assign(const value_type* entries, std::size_t n);
  std::uint32_t end_offset(std::size_t i) const;
  const char* chars() const { return data_.get() + kOffsetBytes * 2 * size_; }

  static constexpr std::size_t kOffsetBytes = sizeof(std::uint32_t);

  // 2 * size_ end offsets (key i ends at offset 2i, its value at 2i + 1,
  // relative to the characters), then the characters; null when empty.
  std::unique_ptr<char[]> data_;
  std::uint32_t size_ = 0;
  std::uint32_t chars_ = 0;  // characters of all keys and values
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
