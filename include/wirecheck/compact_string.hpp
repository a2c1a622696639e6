// CompactString: an owning string in 16 bytes, for the many short string
// fields of the object model (container and port names, protocols, probe
// hosts, the namespace and name of every object). A std::string is 32 bytes
// however short its text, and the cluster cache holds tens of thousands of
// objects with a few dozen such fields each, most of them short or empty.
//
// Up to 15 characters are held inline (no allocation); longer strings live in
// one heap block of exactly their size. The text is always NUL-terminated
// (c_str()). Copies are deep, moves steal the block.
//
// It reads like the std::string it replaces: it converts implicitly to
// std::string_view (and explicitly to std::string), compares with strings,
// views and literals, concatenates with `+` into a std::string, streams and
// hashes.
// What it lacks on purpose are in-place edits (push_back, +=, resize): fields
// are written once, when an object is decoded, by assignment.
//
// Thread-safety: a const CompactString may be read from any number of threads.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

namespace wirecheck::core {

class CompactString {
 public:
  using size_type = std::size_t;
  using const_iterator = const char*;
  using iterator = const_iterator;
  static constexpr size_type npos = std::string_view::npos;
  // The longest text held without an allocation.
  static constexpr size_type kInlineCapacity = 15;

  CompactString() noexcept { set_inline_size(0); }
  // From a literal implicitly, as a std::string field took one. From a
  // string or a view explicitly: they convert both ways, so with implicit
  // constructors `c ? s : field` (which rules write) would be ambiguous.
  // Assigning one works all the same.
  CompactString(const char* text) { init(std::string_view(text)); }  // NOLINT
  explicit CompactString(std::string_view text) { init(text); }
  explicit CompactString(const std::string& text) { init(std::string_view(text)); }
  CompactString(std::nullptr_t) = delete;
  CompactString(const CompactString& other);
  CompactString(CompactString&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.set_inline_size(0);
  }
  CompactString& operator=(const CompactString& other) { return assign(other.view()); }
  CompactString& operator=(CompactString&& other) noexcept;
  CompactString& operator=(std::string_view text) { return assign(text); }
  CompactString& operator=(const char* text) { return assign(std::string_view(text)); }
  CompactString& operator=(const std::string& text) { return assign(std::string_view(text)); }
  ~CompactString() { release(); }

  // Replaces the text; `text` may view this string's own characters.
  CompactString& assign(std::string_view text);

  size_type size() const noexcept { return on_heap() ? heap_size() : kInlineCapacity - tag(); }
  size_type length() const noexcept { return size(); }
  bool empty() const noexcept { return size() == 0; }
  const char* data() const noexcept { return on_heap() ? heap_data() : bytes_; }
  const char* c_str() const noexcept { return data(); }
  const_iterator begin() const noexcept { return data(); }
  const_iterator end() const noexcept { return data() + size(); }
  char operator[](size_type i) const noexcept { return data()[i]; }
  char front() const noexcept { return data()[0]; }
  char back() const noexcept { return data()[size() - 1]; }
  std::string_view view() const noexcept { return {data(), size()}; }
  std::string str() const { return std::string(view()); }

  // The std::string_view members string fields are read with.
  size_type find(std::string_view s, size_type pos = 0) const noexcept { return view().find(s, pos); }
  size_type find(char c, size_type pos = 0) const noexcept { return view().find(c, pos); }
  size_type rfind(std::string_view s, size_type pos = npos) const noexcept { return view().rfind(s, pos); }
  size_type rfind(char c, size_type pos = npos) const noexcept { return view().rfind(c, pos); }
  bool starts_with(std::string_view s) const noexcept { return view().starts_with(s); }
  bool starts_with(char c) const noexcept { return view().starts_with(c); }
  bool ends_with(std::string_view s) const noexcept { return view().ends_with(s); }
  bool ends_with(char c) const noexcept { return view().ends_with(c); }
  int compare(std::string_view s) const noexcept { return view().compare(s); }
  int compare(size_type pos, size_type n, std::string_view s) const { return view().compare(pos, n, s); }
  int compare(size_type pos, size_type n, std::string_view s, size_type spos, size_type sn) const {
    return view().compare(pos, n, s, spos, sn);
  }
  // A copy, as std::string::substr makes (throws std::out_of_range past the end).
  std::string substr(size_type pos = 0, size_type n = npos) const { return std::string(view().substr(pos, n)); }

  operator std::string_view() const noexcept { return view(); }  // NOLINT: implicit on purpose
  // To a std::string explicitly: implicitly, every field passed to a
  // `const std::string&` parameter would be copied into a temporary, and a
  // view the callee returns into it would dangle. A temporary CompactString
  // (`c ? "literal" : field`) converts implicitly: that yields a temporary
  // std::string, as it did when fields were strings.
  explicit operator std::string() const& { return str(); }
  operator std::string() const&& { return str(); }  // NOLINT: implicit on purpose

  // A std::string compares through its view. No overload takes one: with
  // it, `json == field` (nlohmann) would be ambiguous.
  friend bool operator==(const CompactString& a, const CompactString& b) noexcept { return a.view() == b.view(); }
  friend bool operator==(const CompactString& a, std::string_view b) noexcept { return a.view() == b; }
  friend bool operator==(const CompactString& a, const char* b) noexcept { return a.view() == b; }
  friend std::strong_ordering operator<=>(const CompactString& a, const CompactString& b) noexcept {
    return a.view() <=> b.view();
  }
  friend std::strong_ordering operator<=>(const CompactString& a, std::string_view b) noexcept {
    return a.view() <=> b;
  }
  friend std::strong_ordering operator<=>(const CompactString& a, const char* b) noexcept {
    return a.view() <=> std::string_view(b);
  }

 private:
  // bytes_[15] is the tag: kInlineCapacity - size for inline text (so a
  // 15-character text is terminated by its own tag), kHeapTag for a heap
  // block, whose pointer is in bytes_[0..7] and size in bytes_[8..11].
  static constexpr unsigned char kHeapTag = 0x80;
  static constexpr std::size_t kTagIndex = 15;

  unsigned char tag() const noexcept { return static_cast<unsigned char>(bytes_[kTagIndex]); }
  bool on_heap() const noexcept { return tag() == kHeapTag; }
  const char* heap_data() const noexcept {
    const char* p = nullptr;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  size_type heap_size() const noexcept {
    std::uint32_t n = 0;
    std::memcpy(&n, bytes_ + sizeof(char*), sizeof n);
    return n;
  }
  void set_inline_size(size_type n) noexcept {
    bytes_[n] = '\0';
    bytes_[kTagIndex] = static_cast<char>(kInlineCapacity - n);
  }
  // Sets the text of a string that holds no heap block.
  void init(std::string_view text);
  void release() noexcept {
    if (on_heap()) delete[] heap_data();
  }

  // Zero-initialised: moves copy all 16 bytes, never indeterminate ones.
  alignas(char*) char bytes_[16] = {};
};

static_assert(sizeof(CompactString) == 16);

// Concatenation yields a std::string, as with the std::string fields before.
std::string operator+(const CompactString& a, const CompactString& b);
std::string operator+(const std::string& a, const CompactString& b);
std::string operator+(std::string&& a, const CompactString& b);
std::string operator+(const CompactString& a, const std::string& b);
std::string operator+(const CompactString& a, std::string&& b);
std::string operator+(const char* a, const CompactString& b);
std::string operator+(const CompactString& a, const char* b);
std::string operator+(char a, const CompactString& b);
std::string operator+(const CompactString& a, char b);

std::ostream& operator<<(std::ostream& out, const CompactString& s);

}  // namespace wirecheck::core

template <>
struct std::hash<wirecheck::core::CompactString> {
  std::size_t operator()(const wirecheck::core::CompactString& s) const noexcept {
    return std::hash<std::string_view>()(s.view());
  }
};
