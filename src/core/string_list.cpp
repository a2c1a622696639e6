#include "wirecheck/string_list.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>

namespace wirecheck::core {

StringList::StringList(const std::vector<std::string>& items) {
  const std::vector<std::string_view> views(items.begin(), items.end());
  assign(views.data(), views.size());
}

StringList::StringList(const StringList& other) : size_(other.size_), chars_(other.chars_) {
  if (other.data_ == nullptr) return;
  const std::size_t bytes = kOffsetBytes * size_ + chars_;
  data_ = std::make_unique_for_overwrite<char[]>(bytes);
  std::memcpy(data_.get(), other.data_.get(), bytes);
}

StringList& StringList::operator=(const StringList& other) {
  if (this != &other) *this = StringList(other);
  return *this;
}

std::uint32_t StringList::end_offset(std::size_t i) const {
  std::uint32_t offset = 0;
  std::memcpy(&offset, data_.get() + kOffsetBytes * i, kOffsetBytes);
  return offset;
}

std::string_view StringList::operator[](std::size_t i) const {
  const std::uint32_t begin = i == 0 ? 0 : end_offset(i - 1);
  return std::string_view(data_.get() + kOffsetBytes * size_ + begin, end_offset(i) - begin);
}

void StringList::assign(const std::string_view* items, std::size_t n) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < n; ++i) total += items[i].size();
  // Decoded objects are bounded far below this (request and object size limits).
  if (n > std::numeric_limits<std::uint32_t>::max() || total > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("StringList: more than 4 GiB of strings");
  }
  std::unique_ptr<char[]> block;
  if (n > 0) {
    block = std::make_unique_for_overwrite<char[]>(kOffsetBytes * n + total);
    char* text = block.get() + kOffsetBytes * n;
    std::uint32_t end = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!items[i].empty()) std::memcpy(text + end, items[i].data(), items[i].size());
      end += static_cast<std::uint32_t>(items[i].size());
      std::memcpy(block.get() + kOffsetBytes * i, &end, kOffsetBytes);
    }
  }
  data_ = std::move(block);
  size_ = static_cast<std::uint32_t>(n);
  chars_ = static_cast<std::uint32_t>(total);
}

void StringList::push_back(std::string_view item) {
  std::vector<std::string_view> items(begin(), end());
  items.push_back(item);
  assign(items.data(), items.size());
}

bool operator==(const StringList& a, const StringList& b) {
  if (a.size_ != b.size_ || a.chars_ != b.chars_) return false;
  const std::size_t bytes = StringList::kOffsetBytes * a.size_ + a.chars_;
  return bytes == 0 || std::memcmp(a.data_.get(), b.data_.get(), bytes) == 0;
}

}  // namespace wirecheck::core
