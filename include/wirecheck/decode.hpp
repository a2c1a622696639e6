// Decoding: JSON text -> the typed object model (object.hpp), built on
// simdjson. The one decoder every front end uses: the server on the
// AdmissionReview object, `lint` on YAML documents converted to JSON text.
// Decoding is total: only text that is not a JSON object fails.
//
// Thread-safety: uses one simdjson parser per thread; safe to call from
// many threads.
#pragma once

#include <cstddef>
#include <string_view>

#include "wirecheck/object.hpp"
#include "wirecheck/result.hpp"

namespace wirecheck::core {

// What one object may hold before decoding stops and marks it
// `over_limit` (object.hpp). Each cap is per object, summed over all its
// containers or webhooks, and one to two orders of magnitude above the
// largest real objects seen (tens of containers, a few hundred env entries).
// They bound memory: an 8 MiB body of empty list entries would otherwise
// expand into gigabytes of structs (a Container is ~500 bytes, `{}` is 3).
struct DecodeLimits {
  std::size_t containers = 1000;       // containers + initContainers
  std::size_t ports = 10000;           // containers[].ports, Service spec.ports
  std::size_t env = 10000;             // containers[].env
  std::size_t args = 10000;            // containers[].command + args
  std::size_t endpoints = 1000;        // ServiceMonitor endpoints / PodMonitor podMetricsEndpoints
  std::size_t webhooks = 1000;         // webhook configuration webhooks[]
  std::size_t rules = 10000;           // webhooks[].rules
  std::size_t entries = 100000;        // every list and map entry of the object, the above included
};
inline constexpr DecodeLimits kDecodeLimits{};

// Decodes one Kubernetes object given as JSON text.
Result<Object> decode_object(std::string_view json);

}  // namespace wirecheck::core
