// Manifest text (YAML or JSON, multi-document) -> loading -> lint of every
// object against the others: what `wirecheck lint` reads from a repository.
#include <cstdint>
#include <string_view>

#include "wirecheck/engine.hpp"
#include "wirecheck/lint.hpp"
#include "wirecheck/manifest.hpp"

using namespace wirecheck;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const policy::Engine engine;
  core::ManifestSet set;
  core::load_stream(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml", set);
  (void)policy::lint_manifests(set, engine);
  return 0;
}
