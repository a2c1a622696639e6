// Internal: the manifest loader with its front end selectable, for the
// differential test of the libyaml fast path against yaml-cpp
// (tests/yaml_front_end_test.cpp). Everything else calls load_stream().
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "wirecheck/manifest.hpp"

namespace wirecheck::core {

struct LoadOptions {
  // false: every YAML document through yaml-cpp (the reference reading).
  bool libyaml = true;
  // Called with each object's JSON text just before it is decoded.
  std::function<void(std::string_view json)> on_object;
};

void load_stream(std::string_view text, const std::string& file, ManifestSet& out,
                 const LoadOptions& options);

}  // namespace wirecheck::core
