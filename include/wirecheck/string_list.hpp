// StringList: an immutable-in-practice list of strings (a container's
// command and args, the keys and values of a StringMap) held in one heap
// block: the end offset of every string, then their characters. 16 bytes in
// the object plus one allocation, where a vector of strings costs 32 bytes a
// string plus an allocation for every string past 15 characters (most
// command-line flags). The cluster cache holds tens of thousands of objects,
// so this is where their memory goes.
//
// Reading yields string_views, in order; they stay valid until the list is
// modified or destroyed. Modifying (push_back) rebuilds the block: lists are
// built once, when an object is decoded, and read many times.
//
// Thread-safety: a const StringList may be read from any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wirecheck::core {

// Iterates an indexable sequence whose elements are computed views
// (`sequence[i]` returns a Value), so it yields values, not references.
template <typename Sequence, typename Value>
class IndexIterator {
 public:
  using iterator_concept = std::forward_iterator_tag;
  using iterator_category = std::input_iterator_tag;
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  using reference = Value;
  using pointer = void;

  IndexIterator() = default;
  IndexIterator(const Sequence* sequence, std::size_t index) : sequence_(sequence), index_(index) {}
  Value operator*() const { return (*sequence_)[index_]; }
  IndexIterator& operator++() {
    ++index_;
    return *this;
  }
  IndexIterator operator++(int) {
    IndexIterator before = *this;
    ++index_;
    return before;
  }
  bool operator==(const IndexIterator& other) const { return index_ == other.index_; }

 private:
  const Sequence* sequence_ = nullptr;
  std::size_t index_ = 0;
};

class StringList {
 public:
  using value_type = std::string_view;

  using const_iterator = IndexIterator<StringList, std::string_view>;
  using iterator = const_iterator;

  StringList() = default;
  StringList(std::initializer_list<std::string_view> items) { assign(items.begin(), items.size()); }
  explicit StringList(const std::vector<std::string_view>& items) { assign(items.data(), items.size()); }
  // Implicit, so that code and tests that built a vector of strings still do.
  StringList(const std::vector<std::string>& items);  // NOLINT
  StringList(const StringList& other);
  StringList& operator=(const StringList& other);
  StringList(StringList&&) noexcept = default;
  StringList& operator=(StringList&&) noexcept = default;
  ~StringList() = default;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // String `i` (i < size()).
  std::string_view operator[](std::size_t i) const;
  std::string_view front() const { return (*this)[0]; }
  std::string_view back() const { return (*this)[size_ - 1]; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

  void push_back(std::string_view item);

  friend bool operator==(const StringList& a, const StringList& b);

 private:
  // Builds the block from `n` strings (which may view this list's block).
  void assign(const std::string_view* items, std::size_t n);
  std::uint32_t end_offset(std::size_t i) const;

  static constexpr std::size_t kOffsetBytes = sizeof(std::uint32_t);

  // size_ end offsets (relative to the characters), then the characters;
  // null when empty.
  std::unique_ptr<char[]> data_;
  std::uint32_t size_ = 0;
  std::uint32_t chars_ = 0;  // characters of all strings
};

}  // namespace wirecheck::core
