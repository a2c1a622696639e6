// The libyaml fast path of the manifest loader against the yaml-cpp reading
// it replaces: same objects (JSON content compared after a parse), same
// source lines, same errors and skipped documents, over every fixture, the
// shared corpus and a table of YAML edge cases.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/manifest_loader.hpp"
#include "core/yaml_tree.hpp"
#include "support.hpp"

namespace {

using wirecheck::core::LoadOptions;
using wirecheck::core::ManifestSet;

struct Reading {
  ManifestSet set;
  std::vector<std::string> objects;  // each object's JSON, normalised
};

Reading read(const std::string& text, bool libyaml) {
  Reading r;
  LoadOptions options;
  options.libyaml = libyaml;
  options.on_object = [&](std::string_view json) {
    const auto parsed = nlohmann::json::parse(json, nullptr, false);
    r.objects.push_back(parsed.is_discarded() ? "<invalid JSON> " + std::string(json) : parsed.dump());
  };
  wirecheck::core::load_stream(text, "input.yaml", r.set, options);
  return r;
}

std::string describe(const ManifestSet& set) {
  std::string s;
  for (const auto& o : set.objects) {
    s += o.ref.kind + " " + o.ref.ns + "/" + o.ref.name + " line " + std::to_string(o.source().line) + "\n";
  }
  for (const auto& e : set.errors) s += "error line " + std::to_string(e.line) + ": " + e.message + "\n";
  for (const auto& e : set.skipped) s += "skipped line " + std::to_string(e.line) + ": " + e.message + "\n";
  return s;
}

// Where the two readings may differ: the wording of an error, not which
// document fails. A mutated document that one parser calls malformed and the
// other reads as something that is not a Kubernetes object is refused either
// way, on the same line.
std::string describe_loosely(const ManifestSet& set) {
  std::string s;
  for (const auto& o : set.objects) {
    s += o.ref.kind + " " + o.ref.ns + "/" + o.ref.name + " line " + std::to_string(o.source().line) + "\n";
  }
  for (const auto& e : set.errors) s += "error line " + std::to_string(e.line) + "\n";
  for (const auto& e : set.skipped) s += "skipped line " + std::to_string(e.line) + "\n";
  return s;
}

void same_reading(const std::string& text, const std::string& name, bool exact_errors = true) {
  INFO(name);
  const Reading fast = read(text, true);
  const Reading reference = read(text, false);
  if (exact_errors) {
    CHECK(describe(fast.set) == describe(reference.set));
  } else {
    CHECK(describe_loosely(fast.set) == describe_loosely(reference.set));
  }
  REQUIRE(fast.objects.size() == reference.objects.size());
  for (std::size_t i = 0; i < fast.objects.size(); ++i) CHECK(fast.objects[i] == reference.objects[i]);
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::filesystem::path> yaml_files(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const char* const kHead = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: edge\n";

// Each case is the rest of a ConfigMap (or a whole stream when it starts
// with "!stream").
const std::vector<std::string> kEdgeCases = {
    // numbers vs strings
    "data:\n  a: 0755\n  b: \"0755\"\n  c: 1e3\n  d: yes\n  e: no\n  f: on\n  g: 0x1F\n  h: +5\n  i: -0\n",
    "data:\n  a: .5\n  b: 5.\n  c: 1_000\n  d: 0o17\n  e: 12e\n  f: .inf\n  g: .nan\n  h: 1e999\n  i: 99999999999999999999\n",
    "data:\n  a: 3.14159265358979\n  b: -2.5e-3\n  c: 1.0\n  d: 1E3\n  e: true\n  f: False\n  g: TRUE\n  h: 007\n",
    "data:\n  a: ~\n  b: null\n  c: Null\n  d:\n  e: ''\n  f: \"\"\n  g: NULL\n  h: nil\n",
    // tags
    "data:\n  a: !!str 123\n  b: !!int \"5\"\n  c: !custom x\n  d: ! 12\n  e: !!float 1\n  f: !!bool true\n  g: !!null ~\n  h: !!str\n",
    "data: !!map\n  a: !<tag:yaml.org,2002:int> 42\n  b: !!binary aGVsbG8=\n",
    // block scalars
    "data:\n  a: |\n    line one\n    line two\n  b: |-\n    stripped\n  c: |+\n    kept\n\n  d: >\n    folded\n    text\n\n    para\n  e: >-\n    x\n      more indented\n    y\n  f: |2\n      indented\n",
    "data:\n  a: >\n\n    leading blank\n  b: |\n    trailing spaces   \n  c: \"multi\n    line\n\n    quoted\"\n  d: plain\n    continued\n",
    // anchors and aliases, merge keys
    "data: &d\n  a: &x one\n  b: *x\n  c: *x\nbinaryData: *d\n",
    "metadata2:\n  base: &base {a: 1, b: 2}\n  derived:\n    <<: *base\n    c: 3\n",
    "data:\n  a: *undefined\n",
    "data: &loop\n  a: *loop\n",
    // keys
    "data:\n  ? complex\n  : value\n  \"quoted key\": 1\n  'single': 2\n  1: int key\n  true: bool key\n  ~: null key\n",
    "data:\n  ~: null key\n  null: the same key\n",
    "data:\n  [a, b]: flow key\n",
    "data:\n  a: 1\n  a: 2\n",
    "data:\n  &k key: value\n",
    // flow collections, escapes, unicode
    "data: {a: [1, 2, {b: c}], d: 'it''s', e: \"tab\\there\", f: \"\\u00e9\\x41\\U0001F600\"}\n",
    "data:\n  a: \"\\ud800\"\n  b: \"nul\\0byte\"\n  c: \"\\/\"\n  d: caf\xc3\xa9\n  e: \"\\e\\a\\N\\_\\L\\P\"\n",
    "data:\n  a: \"\xff\xfe invalid\"\n  b: \xc3\n",
    "data:\n\ta: tab\n",
    "data:\r\n  a: crlf\r\n  b: |\r\n    block\r\n",
    "data:\n  a: lone\rcr\n\r  b: x\n",
    "data:\n  a: # comment\n    1\n  b: 'x' # trailing\n",
    // documents and lists
    "!stream\xef\xbb\xbf" "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bom}\n",
    "!stream---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- &i\n  apiVersion: v1\n  kind: Secret\n  metadata:\n    name: b\n- *i\n- just text\n- {kind: X}\n",
    "!stream# only a comment\n---\n...\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n...\n",
    "!stream%YAML 1.2\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n",
    "!stream--- !!map\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\n--- just a string\n--- [1, 2]\n--- 12\n--- null\n",
    "!stream\napiVersion: 1\nkind: ConfigMap\n---\nkind: [a]\napiVersion: v1\n---\nkind: PodList\napiVersion: v1\nitems: {}\n",
    "!streamapiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
    "!streamapiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n bad: indent\n",
    "!stream- a\n- b\n",
    "!streamapiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + std::string(300, '[') + std::string(300, ']') + "\n",
};

// A YAML-shaped edit of `text`: a line repeated (duplicate keys), re-indented
// or cut, or a token of the constructs where parsers differ inserted.
std::string yaml_mutation(const std::string& text, std::mt19937& rng) {
  static const char* const kTokens[] = {"&x ", "*x", "!!str ", "!!int ", "! ", "|\n", ">-\n", "? ",
                                        "<<: *x\n", "'", "\"", "~", "0x", "1e", ".", "# c\n",
                                        "{", "}", "[", "]", ", ", ": ", "- ", "\t", "\r", "--- "};
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  std::uniform_int_distribution<std::size_t> line(0, lines.size() - 1);
  for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
    std::string& l = lines[line(rng)];
    switch (rng() % 4) {
      case 0:
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(line(rng)), l);
        break;
      case 1:
        l = rng() % 2 ? "  " + l : l.substr(std::min<std::size_t>(l.size(), 2));
        break;
      case 2:
        l.resize(l.empty() ? 0 : rng() % l.size());
        break;
      default:
        l.insert(l.empty() ? 0 : rng() % l.size(), kTokens[rng() % std::size(kTokens)]);
        break;
    }
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("yaml front end: libyaml reads every fixture as yaml-cpp does") {
  for (const auto& p : yaml_files(WIRECHECK_FIXTURES_DIR)) same_reading(slurp(p), p.string());
}

TEST_CASE("yaml front end: libyaml reads the shared corpus as yaml-cpp does") {
  const std::filesystem::path corpus = std::filesystem::path(wirecheck::testing::shared_dir()) / "corpus";
  REQUIRE(std::filesystem::is_directory(corpus));
  for (const auto& p : yaml_files(corpus)) same_reading(slurp(p), p.string());
}

TEST_CASE("yaml front end: edge cases (numbers, tags, block scalars, aliases, keys, documents) read alike") {
  for (const std::string& c : kEdgeCases) {
    const std::string text = c.rfind("!stream", 0) == 0 ? c.substr(7) : kHead + c;
    same_reading(text, text);
  }
}

TEST_CASE("yaml front end: YAML-shaped mutations of the fixtures read alike") {
  std::vector<std::string> texts;
  for (const auto& p : yaml_files(WIRECHECK_FIXTURES_DIR)) texts.push_back(slurp(p));
  REQUIRE(texts.size() > 50);
  std::mt19937 rng(20261129);
  for (int round = 0; round < 5000; ++round) {
    const std::string input = yaml_mutation(texts[rng() % texts.size()], rng);
    same_reading(input, input, /*exact_errors=*/false);
  }
}

TEST_CASE("yaml front end: libyaml reads common constructs itself and declines the doubtful ones") {
  wirecheck::core::YamlTree tree;
  const auto fast = [&](std::string_view needle) {
    const auto it = std::find_if(kEdgeCases.begin(), kEdgeCases.end(),
                                 [&](const std::string& c) { return c.find(needle) != std::string::npos; });
    REQUIRE(it != kEdgeCases.end());
    INFO(*it);
    return tree.parse(kHead + *it);
  };
  // Read by the fast path (the differential cases above check the result).
  for (std::string_view c : {"a: 0755", "a: .5", "a: 3.14", "a: ~", "!<tag:", "a: |\n", "a: >\n\n",
                             "data: &d", "<<: *base", "? complex", "{a: [1, 2", "crlf", "# comment"}) {
    CHECK(fast(c));
  }
  // Left to yaml-cpp: a tagged empty value, undefined and recursive aliases,
  // keys that are collections, duplicated or anchored, invalid UTF-8, a tab
  // indent, a lone CR.
  for (std::string_view c : {"h: !!str\n", "*undefined", "*loop", "[a, b]: flow", "a: 1\n  a: 2",
                             "the same key", "&k key", "\xff\xfe", "\ta: tab", "lone\rcr"}) {
    CHECK_FALSE(fast(c));
  }
}
