// YAML and JSON manifests -> objects. The stream is split into documents by
// hand (`---` / `...` lines) so that one broken document is reported with its
// line and the others are still read; yaml-cpp would give up on the rest.
#include "wirecheck/manifest.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <cctype>
#include <sstream>

#include "wirecheck/decode.hpp"

namespace wirecheck::core {

namespace {

using nlohmann::json;

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

// YAML 1.2 core schema resolution for plain (unquoted, untagged) scalars.
json plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  try {
    if (all_digits(unsigned_part(s))) return std::stoll(s);
    if (s.size() > 2 && s[0] == '0' && s[1] == 'x' &&
        std::all_of(s.begin() + 2, s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
      return std::stoll(s, nullptr, 16);
    }
    if (is_float(s)) return std::stod(s);
  } catch (const std::out_of_range&) {
    return s;  // too large for a number: keep the text
  }
  return s;
}

json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = to_json(kv.second);
      return obj;
    }
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : node) arr.push_back(to_json(item));
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

void add_object(const json& doc, const std::string& file, int line, ManifestSet& out) {
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
  std::string text = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  auto decoded = decode_object(text);
  if (!decoded) {
    out.errors.push_back({file, line, decoded.error()});
    return;
  }
  decoded->source = {file, line};
  out.objects.push_back(std::move(decoded).value());
  if (out.keep_json) out.json.push_back(std::move(text));
}

// One parsed document: expand Lists, keep item lines.
void add_document(const YAML::Node& node, const std::string& file, int first_line, ManifestSet& out) {
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
      add_object(item, file, item_line, out);
      ++i;
    }
    return;
  }
  add_object(doc, file, line, out);
}

bool is_document_marker(std::string_view line, std::string_view marker) {
  if (line.substr(0, 3) != marker) return false;
  const std::string_view rest = line.substr(3);
  return rest.empty() || rest.front() == ' ' || rest.front() == '\t' || rest.front() == '\r' ||
         rest.front() == '#';
}

void load_json(const json& doc, const std::string& file, ManifestSet& out) {
  if (doc.is_array()) {
    for (const json& item : doc) add_object(item, file, 1, out);
  } else if (doc.is_object() && is_list_kind(doc)) {
    for (const json& item : doc["items"]) add_object(item, file, 1, out);
  } else {
    add_object(doc, file, 1, out);
  }
}

}  // namespace

void load_stream(std::string_view text, const std::string& file, ManifestSet& out) {
  // A JSON file is read as JSON: faster, and exact about numbers.
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_discarded()) {
      load_json(doc, file, out);
      return;
    }
  }

  std::size_t pos = 0;
  int line_no = 1;
  int doc_start = 1;
  std::string current;
  auto flush = [&]() {
    if (current.find_first_not_of(" \t\r\n") != std::string::npos) {
      try {
        add_document(YAML::Load(current), file, doc_start, out);
      } catch (const YAML::Exception& e) {
        const int line = e.mark.is_null() ? doc_start : doc_start + e.mark.line;
        out.errors.push_back({file, line, "YAML: " + e.msg});
      } catch (const std::exception& e) {
        // The io boundary: nothing from yaml-cpp or nlohmann escapes a document.
        out.errors.push_back({file, doc_start, std::string("cannot read document: ") + e.what()});
      }
    }
    current.clear();
  };
  while (pos <= text.size()) {
    const auto end = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (is_document_marker(line, "---") || is_document_marker(line, "...")) {
      flush();
      doc_start = line_no;
      // `--- {inline}` keeps content after the marker on the same line.
      const std::string_view rest = line.substr(3);
      if (rest.find_first_not_of(" \t\r") != std::string_view::npos && rest.front() != '#') {
        current.append(rest).push_back('\n');
      } else {
        current.push_back('\n');  // keep line numbers aligned
      }
    } else {
      current.append(line).push_back('\n');
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
    ++line_no;
  }
  flush();
}

void load_path(const std::string& path, ManifestSet& out) {
  namespace fs = std::filesystem;
  auto read_file = [&](const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      out.errors.push_back({file, 0, "cannot read file"});
      return;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    load_stream(buf.str(), file, out);
  };

  if (path == "-") {
    std::stringstream buf;
    buf << std::cin.rdbuf();
    load_stream(buf.str(), "<stdin>", out);
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
