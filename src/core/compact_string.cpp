#include "wirecheck/compact_string.hpp"

#include <limits>
#include <ostream>
#include <stdexcept>
#include <utility>

namespace wirecheck::core {

void CompactString::init(std::string_view text) {
  const size_type n = text.size();
  if (n <= kInlineCapacity) {
    if (n > 0) std::memcpy(bytes_, text.data(), n);
    set_inline_size(n);
    return;
  }
  // Decoded objects are bounded far below this (request and object size limits).
  if (n > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("CompactString: over 4 GiB");
  char* block = new char[n + 1];
  std::memcpy(block, text.data(), n);
  block[n] = '\0';
  const auto size = static_cast<std::uint32_t>(n);
  std::memcpy(bytes_, &block, sizeof block);
  std::memcpy(bytes_ + sizeof block, &size, sizeof size);
  bytes_[kTagIndex] = static_cast<char>(kHeapTag);
}

CompactString::CompactString(const CompactString& other) {
  if (other.on_heap()) {
    init(other.view());
  } else {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
  }
}

CompactString& CompactString::operator=(CompactString&& other) noexcept {
  if (this != &other) {
    release();
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.set_inline_size(0);
  }
  return *this;
}

CompactString& CompactString::assign(std::string_view text) {
  if (!on_heap() && text.size() <= kInlineCapacity) {
    // `text` may be this string's own inline characters: memmove.
    if (!text.empty()) std::memmove(bytes_, text.data(), text.size());
    set_inline_size(text.size());
    return *this;
  }
  // Built aside first: `text` may view the block about to be freed.
  CompactString copy(text);
  *this = std::move(copy);
  return *this;
}

namespace {

std::string joined(std::string_view a, std::string_view b) {
  std::string out;
  out.reserve(a.size() + b.size());
  out.append(a);
  out.append(b);
  return out;
}

}  // namespace

std::string operator+(const CompactString& a, const CompactString& b) { return joined(a, b); }
std::string operator+(const std::string& a, const CompactString& b) { return joined(a, b); }
std::string operator+(std::string&& a, const CompactString& b) { return std::move(a.append(b.view())); }
std::string operator+(const CompactString& a, const std::string& b) { return joined(a, b); }
std::string operator+(const CompactString& a, std::string&& b) { return std::move(b.insert(0, a.view())); }
std::string operator+(const char* a, const CompactString& b) { return joined(a, b); }
std::string operator+(const CompactString& a, const char* b) { return joined(a, b); }
std::string operator+(char a, const CompactString& b) { return joined(std::string_view(&a, 1), b); }
std::string operator+(const CompactString& a, char b) { return joined(a, std::string_view(&b, 1)); }

std::ostream& operator<<(std::ostream& out, const CompactString& s) { return out << s.view(); }

}  // namespace wirecheck::core
