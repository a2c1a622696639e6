// Internal: one YAML document read with libyaml's event parser into a small
// tree of resolved values, the fast front end of the manifest loader.
//
// The loader's reference reading is yaml-cpp's DOM with YAML 1.2 core-schema
// scalar resolution (manifest.cpp). This tree reads a document the same way
// and gives up (parse() returns false) on anything where the two could
// disagree: a libyaml error, a duplicate or non-scalar mapping key, a tagged
// empty scalar, an alias to an unknown or unfinished node, more than one
// document, a CR not followed by LF. The loader then reads that document with yaml-cpp, so results
// and error messages stay exactly those of yaml-cpp
// (tests/yaml_front_end_test.cpp compares both over fixtures and corpus).
//
// Not thread-safe; one tree per document, reused across documents: the
// nodes of the last document, with their text and child lists, are
// overwritten by the next one instead of being freed and allocated again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wirecheck::core {

// A resolved plain scalar (YAML 1.2 core schema, as manifest.cpp applies it).
struct PlainScalar {
  enum class Type : std::uint8_t { kNull, kBool, kInt, kFloat, kString };
  Type type = Type::kNull;
  bool flag = false;
  std::int64_t num = 0;
  double real = 0;
};
// Resolution of an untagged plain scalar: null, bool, int (decimal or 0x
// hex), float, else string (also for numbers out of range).
PlainScalar resolve_plain(const std::string& s);

class YamlTree {
 public:
  enum class Type : std::uint8_t { kNull, kBool, kInt, kFloat, kString, kSeq, kMap };
  struct Node {
    Type type = Type::kNull;
    bool flag = false;
    std::int64_t num = 0;
    double real = 0;
    std::string text;             // string value, or the key of a map entry
    std::vector<std::uint32_t> kids;  // seq: items; map: key text node, value, ...
    int line = 0;                 // 0-based line where the node starts
    bool done = false;            // complete (an alias to it is allowed)
  };

  // Reads one document; false when it must be read with yaml-cpp instead.
  bool parse(std::string_view text);
  // nullptr for an empty document (comments only).
  const Node* root() const { return root_ == kNone ? nullptr : &nodes_[root_]; }
  // The value of `key` in a map node; nullptr when absent.
  const Node* get(const Node& map, std::string_view key) const;
  const Node& at(std::uint32_t index) const { return nodes_[index]; }
  // Appends `node` as JSON text, object keys sorted (as nlohmann::json does).
  void write_json(const Node& node, std::string& out) const;

 private:
  bool has_duplicate_key(const Node& map);

  static constexpr std::uint32_t kNone = UINT32_MAX;
  // nodes_[0, used_) are this document's; the others keep their buffers
  // for the next document.
  std::vector<Node> nodes_;
  std::size_t used_ = 0;
  std::uint32_t root_ = kNone;
  std::vector<std::uint32_t> open_;             // containers being read, innermost last
  std::string scalar_;                          // the scalar being read
  std::vector<std::string_view> keys_;          // duplicate-key check of large maps
  mutable std::vector<std::uint32_t> order_;    // write_json's key order, a stack across levels
};

}  // namespace wirecheck::core
