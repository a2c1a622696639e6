// Decoding: JSON text -> the typed object model (object.hpp), built on
// simdjson. The one decoder every front end uses: the server on the
// AdmissionReview object, `lint` on YAML documents converted to JSON text.
// Decoding is total: only text that is not a JSON object fails.
//
// Thread-safety: uses one simdjson parser per thread; safe to call from
// many threads.
#pragma once

#include <string_view>

#include "wirecheck/object.hpp"
#include "wirecheck/result.hpp"

namespace wirecheck::core {

// Decodes one Kubernetes object given as JSON text.
Result<Object> decode_object(std::string_view json);

}  // namespace wirecheck::core
