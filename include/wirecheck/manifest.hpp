// Manifests: reading Kubernetes objects from files for `lint` and tests.
// Multi-document YAML, JSON, and `kind: List` / `*List` items are expanded.
// Every object keeps the file and line it starts at. A document that does
// not parse is recorded as an error with its file and line; the rest are
// still read. YAML goes libyaml events -> JSON text -> decode.hpp, so lint
// and the server share one decoder; a document the libyaml path declines
// (errors, duplicate keys, ...) is read by yaml-cpp -> nlohmann::json, the
// reference reading both paths agree with (src/core/yaml_tree.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wirecheck/object.hpp"

namespace wirecheck::core {

struct LoadError {
  std::string file;
  int line = 0;  // 0 when unknown
  std::string message;
  // Well-formed YAML/JSON that is not a Kubernetes object (no apiVersion/kind).
  bool not_object = false;
};

struct ManifestSet {
  std::vector<Object> objects;
  std::vector<LoadError> errors;
  // Documents met while walking a directory that are not Kubernetes objects
  // (a kustomization.yaml without apiVersion, a dashboard JSON, values.yaml):
  // skipped, not errors. Named files and stdin report them as errors.
  std::vector<LoadError> skipped;
  // Set before loading to also keep each object as JSON text, in the order
  // of `objects` (tests wrap them in AdmissionReviews).
  bool keep_json = false;
  std::vector<std::string> json;
};

// Reads a YAML (or JSON) stream; `file` names it in locations and errors.
void load_stream(std::string_view text, const std::string& file, ManifestSet& out);
// Reads a file, a directory (recursive, *.yaml *.yml *.json, sorted; documents
// that are not Kubernetes objects are skipped) or "-" (standard input).
void load_path(const std::string& path, ManifestSet& out);

}  // namespace wirecheck::core
