// YAML and JSON manifests -> objects. The stream is split into documents by
// hand (`---` / `...` lines) so that one broken document is reported with its
// line and the others are still read; yaml-cpp would give up on the rest.
#include "wirecheck/manifest.hpp"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <cctype>
#include <cstdio>
#include <stdexcept>

#include "wirecheck/decode.hpp"
#include "manifest_loader.hpp"
#include "yaml_tree.hpp"

namespace wirecheck::core {

namespace {

using nlohmann::json;

// YAML 1.2 core schema resolution for plain (unquoted, untagged) scalars.
json plain_scalar(const std::string& s) {
  const PlainScalar r = resolve_plain(s);
  switch (r.type) {
    case PlainScalar::Type::kNull:
      return nullptr;
    case PlainScalar::Type::kBool:
      return r.flag;
    case PlainScalar::Type::kInt:
      return r.num;
    case PlainScalar::Type::kFloat:
      return r.real;
    case PlainScalar::Type::kString:
      break;
  }
  return s;
}

// An alias inside the node it names (`a: &x [*x]`) makes yaml-cpp's node
// graph cyclic: without a bound, converting it recursed until the stack
// overflowed. 1,000 levels is far past any real manifest and fits the stack
// also under ASan (10,000 overflowed the 8 MiB main-thread stack there).
constexpr int kMaxJsonDepth = 1000;

json to_json(const YAML::Node& node, int depth = 0) {
  if (depth > kMaxJsonDepth) {
    throw std::runtime_error("nesting deeper than " + std::to_string(kMaxJsonDepth) +
                             " levels (an alias inside the node it names?)");
  }
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = to_json(kv.second, depth + 1);
      return obj;
    }
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : node) arr.push_back(to_json(item, depth + 1));
      return arr;
    }
    case YAML::NodeType::Scalar: {
      const std::string& tag = node.Tag();
      const std::string& value = node.Scalar();
      if (tag == "?") return plain_scalar(value);
      if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
          tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
        return plain_scalar(value);
      }
      return value;  // quoted ("!") or !!str or any other tag: a string
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return nullptr;
}

bool is_list_kind(const json& doc) {
  const auto kind = doc.find("kind");
  if (kind == doc.end() || !kind->is_string()) return false;
  const std::string& k = kind->get_ref<const std::string&>();
  return k.size() >= 4 && k.compare(k.size() - 4, 4, "List") == 0 && doc.contains("items") &&
         doc["items"].is_array();
}

void add_decoded(std::string_view text, const std::string& file, int line, ManifestSet& out,
                 const LoadOptions& options);

void add_object(const json& doc, const std::string& file, int line, ManifestSet& out,
                const LoadOptions& options) {
  if (!doc.is_object()) {
    out.errors.push_back({file, line, "document is not a mapping (not a Kubernetes object)", true});
    return;
  }
  const auto kind = doc.find("kind");
  const auto api = doc.find("apiVersion");
  if (kind == doc.end() || !kind->is_string() || api == doc.end() || !api->is_string()) {
    out.errors.push_back({file, line, "document has no apiVersion/kind (not a Kubernetes object)", true});
    return;
  }
  // Manifests are not always valid UTF-8; replacing bad bytes (U+FFFD) keeps
  // the object instead of failing the whole document.
  add_decoded(doc.dump(-1, ' ', false, json::error_handler_t::replace), file, line, out, options);
}

void add_decoded(std::string_view text, const std::string& file, int line, ManifestSet& out,
                 const LoadOptions& options) {
  if (options.on_object) options.on_object(text);
  auto decoded = decode_object(text);
  if (!decoded) {
    out.errors.push_back({file, line, decoded.error()});
    return;
  }
  decoded->set_source({file, line});
  out.objects.push_back(std::move(decoded).value());
  if (out.keep_json) out.json.emplace_back(text);
}

// One parsed document: expand Lists, keep item lines.
void add_document(const YAML::Node& node, const std::string& file, int first_line, ManifestSet& out,
                  const LoadOptions& options) {
  const json doc = to_json(node);
  if (doc.is_null()) return;  // empty document (comments only)
  const int line = first_line + static_cast<int>(node.Mark().line);
  if (doc.is_object() && is_list_kind(doc)) {
    const YAML::Node items = node["items"];
    std::size_t i = 0;
    for (const json& item : doc["items"]) {
      const int item_line = items && items.IsSequence() && i < items.size()
                                ? first_line + static_cast<int>(items[i].Mark().line)
                                : line;
      add_object(item, file, item_line, out, options);
      ++i;
    }
    return;
  }
  add_object(doc, file, line, out, options);
}

// The fast path: the same checks and results as add_document/add_object,
// on a document libyaml read.
bool is_string_field(const YamlTree& tree, const YamlTree::Node& map, std::string_view key) {
  const YamlTree::Node* v = tree.get(map, key);
  return v != nullptr && v->type == YamlTree::Type::kString;
}

void add_tree_object(const YamlTree& tree, const YamlTree::Node& node, const std::string& file,
                     int line, ManifestSet& out, const LoadOptions& options, std::string& text) {
  if (node.type != YamlTree::Type::kMap) {
    out.errors.push_back({file, line, "document is not a mapping (not a Kubernetes object)", true});
    return;
  }
  if (!is_string_field(tree, node, "kind") || !is_string_field(tree, node, "apiVersion")) {
    out.errors.push_back({file, line, "document has no apiVersion/kind (not a Kubernetes object)", true});
    return;
  }
  text.clear();
  tree.write_json(node, text);
  add_decoded(text, file, line, out, options);
}

// `text` is the JSON buffer, kept across documents: grown by doubling for
// each one, it cost several reallocations per object.
void add_tree_document(const YamlTree& tree, const std::string& file, int first_line, ManifestSet& out,
                       const LoadOptions& options, std::string& text) {
  const YamlTree::Node* root = tree.root();
  if (root == nullptr || root->type == YamlTree::Type::kNull) return;  // empty document
  const int line = first_line + root->line;
  const YamlTree::Node* kind = tree.get(*root, "kind");
  const YamlTree::Node* items = tree.get(*root, "items");
  if (kind != nullptr && kind->type == YamlTree::Type::kString && kind->text.size() >= 4 &&
      kind->text.ends_with("List") && items != nullptr && items->type == YamlTree::Type::kSeq) {
    for (std::uint32_t item : items->kids) {
      add_tree_object(tree, tree.at(item), file, first_line + tree.at(item).line, out, options, text);
    }
    return;
  }
  add_tree_object(tree, *root, file, line, out, options, text);
}

// The whole file (or standard input for nullptr) in one buffer, read
// straight into it: a stringstream copied the text twice and grew by
// doubling, 16% of `wirecheck lint` on a 23 MB input (perf).
bool read_all(const char* file, std::string& out) {
  std::FILE* f = file == nullptr ? stdin : std::fopen(file, "rb");
  if (f == nullptr) return false;
  struct stat st {};
  if (::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    out.resize(static_cast<std::size_t>(st.st_size));
    out.resize(std::fread(out.data(), 1, out.size(), f));
  }
  char chunk[1 << 16];  // a pipe, or what a file grew by meanwhile
  bool ok = true;
  for (;;) {
    const std::size_t n = std::fread(chunk, 1, sizeof chunk, f);
    out.append(chunk, n);
    if (n < sizeof chunk) {
      ok = std::ferror(f) == 0;
      break;
    }
  }
  if (file != nullptr) std::fclose(f);
  return ok;
}

bool is_document_marker(std::string_view line, std::string_view marker) {
  if (line.substr(0, 3) != marker) return false;
  const std::string_view rest = line.substr(3);
  return rest.empty() || rest.front() == ' ' || rest.front() == '\t' || rest.front() == '\r' ||
         rest.front() == '#';
}

void load_json(const json& doc, const std::string& file, ManifestSet& out, const LoadOptions& options) {
  if (doc.is_array()) {
    for (const json& item : doc) add_object(item, file, 1, out, options);
  } else if (doc.is_object() && is_list_kind(doc)) {
    for (const json& item : doc["items"]) add_object(item, file, 1, out, options);
  } else {
    add_object(doc, file, 1, out, options);
  }
}

}  // namespace

void load_stream(std::string_view text, const std::string& file, ManifestSet& out) {
  load_stream(text, file, out, LoadOptions{});
}

void load_stream(std::string_view text, const std::string& file, ManifestSet& out,
                 const LoadOptions& options) {
  // A JSON file is read as JSON: faster, and exact about numbers.
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_discarded()) {
      load_json(doc, file, out, options);
      return;
    }
  }

  // Room for every document at once: growing the vector moves each Object
  // (a variant of several containers) again and again.
  std::size_t markers = 1;
  for (std::size_t at = text.find("\n---"); at != std::string_view::npos; at = text.find("\n---", at + 4)) ++markers;
  if (const std::size_t need = out.objects.size() + markers; need > out.objects.capacity()) {
    out.objects.reserve(std::max(need, out.objects.capacity() * 2));
  }

  std::size_t pos = 0;
  int line_no = 1;
  // The document being gathered: a view of `text` from line `doc_start`,
  // or (after `--- {inline}`, whose marker line holds content) a copy.
  std::size_t doc_begin = 0;
  int doc_start = 1;
  bool copied = false;
  std::string current;
  YamlTree tree;
  std::string json_text;
  auto flush = [&](std::size_t doc_end) {
    if (!copied && doc_end == text.size() && doc_end > doc_begin && text.back() != '\n') {
      // The last line without its line break: read as if it had one.
      copied = true;
      current.assign(text.substr(doc_begin)).push_back('\n');
    }
    const std::string_view doc = copied ? std::string_view(current) : text.substr(doc_begin, doc_end - doc_begin);
    if (doc.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      try {
        // libyaml's events first (several times faster); yaml-cpp reads
        // whatever the fast path declines, errors included.
        if (options.libyaml && tree.parse(doc)) {
          add_tree_document(tree, file, doc_start, out, options, json_text);
        } else {
          add_document(YAML::Load(std::string(doc)), file, doc_start, out, options);
        }
      } catch (const YAML::Exception& e) {
        const int line = e.mark.is_null() ? doc_start : doc_start + e.mark.line;
        out.errors.push_back({file, line, "YAML: " + e.msg});
      } catch (const std::exception& e) {
        // The io boundary: nothing from yaml-cpp or nlohmann escapes a document.
        out.errors.push_back({file, doc_start, std::string("cannot read document: ") + e.what()});
      }
    }
    current.clear();
    copied = false;
  };
  while (pos <= text.size()) {
    const auto end = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    const std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    if (is_document_marker(line, "---") || is_document_marker(line, "...")) {
      flush(pos);
      // `--- {inline}` keeps content after the marker on the same line.
      const std::string_view rest = line.substr(3);
      if (rest.find_first_not_of(" \t\r") != std::string_view::npos && rest.front() != '#') {
        copied = true;
        current.append(rest).push_back('\n');
        doc_start = line_no;
      } else {
        doc_start = line_no + 1;
      }
      doc_begin = next;
    } else if (copied) {
      current.append(line).push_back('\n');
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
    ++line_no;
  }
  flush(text.size());
}

void load_path(const std::string& path, ManifestSet& out) {
  namespace fs = std::filesystem;
  auto read_file = [&](const std::string& file) {
    std::string text;
    if (!read_all(file.c_str(), text)) {
      out.errors.push_back({file, 0, "cannot read file"});
      return;
    }
    load_stream(text, file, out);
  };

  if (path == "-") {
    std::string text;
    if (!read_all(nullptr, text)) {
      out.errors.push_back({"<stdin>", 0, "cannot read standard input"});
      return;
    }
    load_stream(text, "<stdin>", out);
    return;
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> files;
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      const std::string ext = it->path().extension().string();
      if (ext == ".yaml" || ext == ".yml" || ext == ".json") files.push_back(it->path().string());
    }
    if (ec) out.errors.push_back({path, 0, "cannot list directory: " + ec.message()});
    std::sort(files.begin(), files.end());
    const std::size_t first_new = out.errors.size();
    for (const std::string& f : files) read_file(f);
    // A directory holds more than manifests; only broken documents are errors.
    auto errors_end = std::stable_partition(out.errors.begin() + static_cast<std::ptrdiff_t>(first_new),
                                            out.errors.end(), [](const LoadError& e) { return !e.not_object; });
    out.skipped.insert(out.skipped.end(), errors_end, out.errors.end());
    out.errors.erase(errors_end, out.errors.end());
    return;
  }
  if (!fs::exists(path, ec)) {
    out.errors.push_back({path, 0, "no such file or directory"});
    return;
  }
  read_file(path);
}

}  // namespace wirecheck::core
