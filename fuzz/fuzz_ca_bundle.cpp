// caBundle text -> base64 -> PEM -> X.509, and PEM bytes alone: the bundles
// webhook configurations, CRDs and APIServices carry.
#include <cstdint>
#include <string_view>

#include "wirecheck/ca_bundle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)wirecheck::core::parse_ca_bundle(text);
  (void)wirecheck::core::parse_pem_certificates(text);
  return 0;
}
