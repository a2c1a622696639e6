#include "admission/response.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace wirecheck::admission {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 if invalid.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  std::size_t len = 0;
  std::uint32_t min = 0;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1Fu, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0Fu, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Bytes JSON carries as they are: printable ASCII but the quote and the
// backslash. A table, so that scanning a run costs one load per byte.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

// Whether all 8 bytes of `w` are plain, with word arithmetic instead of a
// byte loop (the classic "has a byte less than n" / "has a zero byte"
// tests; they never miss a byte, so a word they pass is plain).
constexpr bool all_plain(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const std::uint64_t below_space = (w - 0x20 * kOnes) & ~w & kHigh;
  return ((w & kHigh) | below_space | has_zero(w ^ ('"' * kOnes)) | has_zero(w ^ ('\\' * kOnes))) == 0;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  out.reserve(out.size() + text.size() + 2);
  out += '"';
  std::size_t i = 0;
  while (i < text.size()) {
    // A run of printable ASCII other than '"' and '\\' is copied as is, in
    // one append: names, uids and messages are nearly all such bytes.
    const std::size_t run = i;
    for (; i + 8 <= text.size(); i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, text.data() + i, 8);
      if (!all_plain(w)) break;
    }
    while (i < text.size() && kPlain[static_cast<unsigned char>(text[i])]) ++i;
    if (i > run) out.append(text.data() + run, i - run);
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(text, i);
      if (len == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(text.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escaped, sizeof escaped);
      }
    }
    ++i;
  }
  out += '"';
}

namespace {

void open_review(std::string& out, std::string_view api_version, std::string_view uid) {
  out += R"({"apiVersion":)";
  append_json_string(out, api_version.empty() ? std::string_view("admission.k8s.io/v1") : api_version);
  out += R"(,"kind":"AdmissionReview","response":{"uid":)";
  append_json_string(out, uid);
}

}  // namespace

std::string build_review_response(std::string_view api_version, std::string_view uid,
                                  const Decision& decision) {
  std::string out;
  out.reserve(256 + decision.message.size() + decision.warnings.size() * 160);
  open_review(out, api_version, uid);
  out += decision.allowed ? R"(,"allowed":true)" : R"(,"allowed":false)";
  out += R"(,"status":{"metadata":{},"code":)";
  out += std::to_string(decision.code);
  if (!decision.reason.empty()) {
    out += R"(,"reason":)";
    append_json_string(out, decision.reason);
  }
  if (!decision.message.empty()) {
    out += R"(,"message":)";
    append_json_string(out, decision.message);
  }
  out += '}';
  if (!decision.warnings.empty()) {
    out += R"(,"warnings":[)";
    for (std::size_t i = 0; i < decision.warnings.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, decision.warnings[i]);
    }
    out += ']';
  }
  if (!decision.audit_annotations.empty()) {
    out += R"(,"auditAnnotations":{)";
    for (std::size_t i = 0; i < decision.audit_annotations.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, decision.audit_annotations[i].first);
      out += ':';
      append_json_string(out, decision.audit_annotations[i].second);
    }
    out += '}';
  }
  out += "}}";
  return out;
}

std::string build_bad_review(std::string_view api_version, std::string_view uid,
                             std::string_view message) {
  std::string out;
  open_review(out, api_version, uid);
  out += R"(,"allowed":false,"status":{"metadata":{},"code":400,"reason":"BadRequest","message":)";
  append_json_string(out, message);
  out += "}}}";
  return out;
}

std::string build_status_error(int code, std::string_view reason, std::string_view message) {
  std::string out = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)";
  append_json_string(out, message);
  out += R"(,"reason":)";
  append_json_string(out, reason);
  out += R"(,"code":)";
  out += std::to_string(code);
  out += '}';
  return out;
}

}  // namespace wirecheck::admission
