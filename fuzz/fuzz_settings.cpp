// Configuration files (`--config`, `lint --config`) -> Settings, and an
// engine built from whatever parses.
#include <cstdint>
#include <string_view>

#include "wirecheck/engine.hpp"
#include "wirecheck/settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto settings = wirecheck::policy::parse_settings(std::string_view(reinterpret_cast<const char*>(data), size));
  if (settings) wirecheck::policy::Engine engine(std::move(settings).value());
  return 0;
}
