#include "yaml_tree.hpp"

#include <yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <unordered_map>

namespace wirecheck::core {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view unsigned_part(std::string_view s) {
  return !s.empty() && (s.front() == '-' || s.front() == '+') ? s.substr(1) : s;
}

// [-+]? ( \.[0-9]+ | [0-9]+ (\.[0-9]*)? ) ([eE][-+]?[0-9]+)?
bool is_float(std::string_view s) {
  s = unsigned_part(s);
  const auto e = s.find_first_of("eE");
  std::string_view mantissa = s.substr(0, e);
  if (e != std::string_view::npos && !all_digits(unsigned_part(s.substr(e + 1)))) return false;
  const auto dot = mantissa.find('.');
  if (dot == std::string_view::npos) return all_digits(mantissa);
  const std::string_view whole = mantissa.substr(0, dot);
  const std::string_view frac = mantissa.substr(dot + 1);
  if (whole.empty()) return all_digits(frac);
  return all_digits(whole) && (frac.empty() || all_digits(frac));
}

bool is_null_string(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool is_core_tag(std::string_view tag) {
  return tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
         tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null";
}

// Deeper documents go to yaml-cpp, which has its own limit; writing JSON
// here recurses once per level.
constexpr std::size_t kMaxDepth = 200;

class Parser {
 public:
  explicit Parser(std::string_view text) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  ~Parser() { yaml_parser_delete(&parser_); }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // The next event; false on a parse error.
  bool next(yaml_event_t& event) { return yaml_parser_parse(&parser_, &event) != 0; }

 private:
  yaml_parser_t parser_;
};

struct Event {
  yaml_event_t e{};
  ~Event() { yaml_event_delete(&e); }
};

}  // namespace

PlainScalar resolve_plain(const std::string& s) {
  PlainScalar out;
  if (is_null_string(s)) return out;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    out.type = PlainScalar::Type::kBool;
    out.flag = s[0] == 't' || s[0] == 'T';
    return out;
  }
  try {
    if (all_digits(unsigned_part(s))) {
      out.num = std::stoll(s);
      out.type = PlainScalar::Type::kInt;
      return out;
    }
    if (s.size() > 2 && s[0] == '0' && s[1] == 'x' &&
        std::all_of(s.begin() + 2, s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
      out.num = std::stoll(s, nullptr, 16);
      out.type = PlainScalar::Type::kInt;
      return out;
    }
    if (is_float(s)) {
      out.real = std::stod(s);
      out.type = PlainScalar::Type::kFloat;
      return out;
    }
  } catch (const std::out_of_range&) {
    // too large for a number: keep the text
  }
  out.type = PlainScalar::Type::kString;
  return out;
}

bool YamlTree::parse(std::string_view text) {
  used_ = 0;
  root_ = kNone;
  // libyaml takes a lone CR for a line break, yaml-cpp for a character.
  for (std::size_t cr = text.find('\r'); cr != std::string_view::npos; cr = text.find('\r', cr + 1)) {
    if (cr + 1 == text.size() || text[cr + 1] != '\n') return false;
  }
  Parser parser(text);
  std::unordered_map<std::string, std::uint32_t> anchors;
  std::vector<std::uint32_t>& open = open_;
  open.clear();
  int documents = 0;

  // Places node `index` in the innermost open container (or as the root).
  auto attach = [&](std::uint32_t index) {
    if (open.empty()) {
      root_ = index;
    } else {
      nodes_[open.back()].kids.push_back(index);
    }
  };
  auto expects_key = [&]() {
    return !open.empty() && nodes_[open.back()].type == Type::kMap && nodes_[open.back()].kids.size() % 2 == 0;
  };
  // A node as Node{} would be, but for `type` and `line`, keeping the
  // buffers of its text and children when it was used before.
  auto new_node = [&](Type type, const yaml_mark_t& mark) {
    if (used_ == nodes_.size()) nodes_.emplace_back();
    Node& node = nodes_[used_];
    node.type = type;
    node.flag = false;
    node.num = 0;
    node.real = 0;
    node.text.clear();
    node.kids.clear();
    node.line = static_cast<int>(mark.line);
    node.done = false;
    return static_cast<std::uint32_t>(used_++);
  };
  auto remember = [&](const yaml_char_t* anchor, std::uint32_t index) {
    if (anchor != nullptr) anchors[reinterpret_cast<const char*>(anchor)] = index;
  };

  for (;;) {
    Event ev;
    if (!parser.next(ev.e)) return false;
    yaml_event_t& e = ev.e;
    switch (e.type) {
      case YAML_STREAM_END_EVENT:
        return open.empty();
      case YAML_DOCUMENT_START_EVENT:
        if (++documents > 1) return false;
        break;
      case YAML_ALIAS_EVENT: {
        const auto it = anchors.find(reinterpret_cast<const char*>(e.data.alias.anchor));
        if (it == anchors.end() || !nodes_[it->second].done || expects_key()) return false;
        attach(it->second);
        break;
      }
      case YAML_SCALAR_EVENT: {
        std::string& value = scalar_;
        value.assign(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        const bool plain = e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        const char* tag = reinterpret_cast<const char*>(e.data.scalar.tag);
        if (tag != nullptr && value.empty()) return false;
        if (expects_key() && e.data.scalar.anchor != nullptr) return false;
        const std::uint32_t index = new_node(Type::kString, e.start_mark);
        Node& node = nodes_[index];
        node.done = true;
        if (expects_key()) {
          // yaml-cpp reads a key with as<std::string>(): the text as written,
          // "null" for a null node.
          if (tag == nullptr && plain && is_null_string(value)) node.text = "null";
          else node.text = value;
        } else if ((tag == nullptr && plain) || (tag != nullptr && is_core_tag(tag))) {
          const PlainScalar r = resolve_plain(value);
          static_assert(static_cast<int>(Type::kString) == static_cast<int>(PlainScalar::Type::kString));
          node.type = static_cast<Type>(r.type);
          node.flag = r.flag;
          node.num = r.num;
          node.real = r.real;
          if (r.type == PlainScalar::Type::kString) node.text = value;
        } else {
          node.text = value;  // quoted, block, !!str or any other tag: a string
        }
        remember(e.data.scalar.anchor, index);
        attach(index);
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        if (expects_key() || open.size() >= kMaxDepth) return false;
        const bool map = e.type == YAML_MAPPING_START_EVENT;
        const std::uint32_t index = new_node(map ? Type::kMap : Type::kSeq, e.start_mark);
        remember(map ? e.data.mapping_start.anchor : e.data.sequence_start.anchor, index);
        attach(index);
        open.push_back(index);
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Node& node = nodes_[open.back()];
        if (node.type == Type::kMap && has_duplicate_key(node)) {
          // Duplicate keys: nlohmann keeps the last, yaml-cpp's node["k"]
          // the first; leave the choice to the reference path.
          return false;
        }
        node.done = true;
        open.pop_back();
        break;
      }
      default:
        break;
    }
  }
}

bool YamlTree::has_duplicate_key(const Node& map) {
  const std::size_t n = map.kids.size() / 2;
  if (n <= 16) {
    // Most maps are small: pairwise, without a buffer.
    for (std::size_t i = 1; i < n; ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (nodes_[map.kids[2 * i]].text == nodes_[map.kids[2 * j]].text) return true;
      }
    }
    return false;
  }
  keys_.clear();
  for (std::size_t i = 0; i < map.kids.size(); i += 2) keys_.push_back(nodes_[map.kids[i]].text);
  std::sort(keys_.begin(), keys_.end());
  return std::adjacent_find(keys_.begin(), keys_.end()) != keys_.end();
}

const YamlTree::Node* YamlTree::get(const Node& map, std::string_view key) const {
  if (map.type != Type::kMap) return nullptr;
  for (std::size_t i = 0; i + 1 < map.kids.size(); i += 2) {
    if (nodes_[map.kids[i]].text == key) return &nodes_[map.kids[i + 1]];
  }
  return nullptr;
}

namespace {

void write_string(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending unescaped run
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    run = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '\n': out.push_back('n'); break;
      case '\t': out.push_back('t'); break;
      case '\r': out.push_back('r'); break;
      default:
        out.append("u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.substr(run));
  out.push_back('"');
}

}  // namespace

void YamlTree::write_json(const Node& node, std::string& out) const {
  switch (node.type) {
    case Type::kNull:
      out.append("null");
      return;
    case Type::kBool:
      out.append(node.flag ? "true" : "false");
      return;
    case Type::kInt:
      out.append(std::to_string(node.num));
      return;
    case Type::kFloat: {
      char buf[64];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, node.real);
      const std::string_view text(buf, static_cast<std::size_t>(end - buf));
      out.append(text);
      // Still a float to the JSON parser, as nlohmann writes it.
      if (text.find_first_of(".eE") == std::string_view::npos) out.append(".0");
      return;
    }
    case Type::kString:
      write_string(node.text, out);
      return;
    case Type::kSeq: {
      out.push_back('[');
      for (std::size_t i = 0; i < node.kids.size(); ++i) {
        if (i > 0) out.push_back(',');
        write_json(nodes_[node.kids[i]], out);
      }
      out.push_back(']');
      return;
    }
    case Type::kMap: {
      // nlohmann::json objects are std::maps: keys come out sorted. The
      // order is kept on one stack shared by every level (no allocation
      // per map once it has grown).
      const std::size_t base = order_.size();
      for (std::size_t i = 0; i + 1 < node.kids.size(); i += 2) order_.push_back(static_cast<std::uint32_t>(i));
      std::sort(order_.begin() + static_cast<std::ptrdiff_t>(base), order_.end(), [&](std::uint32_t a, std::uint32_t b) {
        return nodes_[node.kids[a]].text < nodes_[node.kids[b]].text;
      });
      out.push_back('{');
      for (std::size_t k = base; k < order_.size(); ++k) {
        const std::uint32_t i = order_[k];
        if (k > base) out.push_back(',');
        write_string(nodes_[node.kids[i]].text, out);
        out.push_back(':');
        write_json(nodes_[node.kids[i + 1]], out);
      }
      order_.resize(base);
      out.push_back('}');
      return;
    }
  }
}

}  // namespace wirecheck::core
