#include "wirecheck/string_map.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>

namespace wirecheck::core {

StringMap::StringMap(const StringMap& other) : size_(other.size_), chars_(other.chars_) {
  if (other.data_ == nullptr) return;
  const std::size_t bytes = kOffsetBytes * 2 * size_ + chars_;
  data_ = std::make_unique_for_overwrite<char[]>(bytes);
  std::memcpy(data_.get(), other.data_.get(), bytes);
}

StringMap& StringMap::operator=(const StringMap& other) {
  if (this != &other) *this = StringMap(other);
  return *this;
}

std::uint32_t StringMap::end_offset(std::size_t i) const {
  std::uint32_t offset = 0;
  std::memcpy(&offset, data_.get() + kOffsetBytes * i, kOffsetBytes);
  return offset;
}

StringMap::value_type StringMap::operator[](std::size_t i) const {
  const std::uint32_t key_begin = i == 0 ? 0 : end_offset(2 * i - 1);
  const std::uint32_t key_end = end_offset(2 * i);
  const std::uint32_t value_end = end_offset(2 * i + 1);
  const char* text = chars();
  return {std::string_view(text + key_begin, key_end - key_begin),
          std::string_view(text + key_end, value_end - key_end)};
}

void StringMap::assign(const value_type* entries, std::size_t n) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < n; ++i) total += entries[i].first.size() + entries[i].second.size();
  // Decoded objects are bounded far below this (the request body limit).
  if (n > std::numeric_limits<std::uint32_t>::max() / 2 || total > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("StringMap: more than 4 GiB of keys and values");
  }
  std::unique_ptr<char[]> block;
  if (n > 0) {
    block = std::make_unique_for_overwrite<char[]>(kOffsetBytes * 2 * n + total);
    char* text = block.get() + kOffsetBytes * 2 * n;
    std::uint32_t end = 0;
    std::size_t slot = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (const std::string_view part : {entries[i].first, entries[i].second}) {
        if (!part.empty()) std::memcpy(text + end, part.data(), part.size());
        end += static_cast<std::uint32_t>(part.size());
        std::memcpy(block.get() + kOffsetBytes * slot++, &end, kOffsetBytes);
      }
    }
  }
  data_ = std::move(block);
  size_ = static_cast<std::uint32_t>(n);
  chars_ = static_cast<std::uint32_t>(total);
}

void StringMap::emplace_back(std::string_view key, std::string_view value) {
  std::vector<value_type> entries(begin(), end());
  entries.emplace_back(key, value);
  assign(entries.data(), entries.size());
}

bool operator==(const StringMap& a, const StringMap& b) {
  if (a.size_ != b.size_ || a.chars_ != b.chars_) return false;
  const std::size_t bytes = StringMap::kOffsetBytes * 2 * a.size_ + a.chars_;
  return bytes == 0 || std::memcmp(a.data_.get(), b.data_.get(), bytes) == 0;
}

FoundValue find_value(const StringMap& map, std::string_view key) {
  for (const auto& [k, v] : map) {
    if (k == key) return v;
  }
  return std::nullopt;
}

}  // namespace wirecheck::core
