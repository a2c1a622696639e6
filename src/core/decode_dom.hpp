// Internal: decoding from an already-parsed simdjson DOM element, for callers
// that parse a larger document themselves (the admission server parses the
// AdmissionReview once and decodes `request.object` / `request.oldObject`
// from it without re-parsing).
#pragma once

#include <simdjson.h>

#include "wirecheck/object.hpp"

namespace wirecheck::core {

// Decodes an object element. Total: anything not an object yields an Object
// of kind kOther with empty fields.
Object decode_element(simdjson::dom::element element);

// The same for the items of a LIST response, which carry no apiVersion and
// kind: those are taken from the list's type when the item omits them.
Object decode_list_item(simdjson::dom::element element, std::string_view api_version,
                        std::string_view kind);

// This thread's parser (simdjson parsers are not thread-safe; one per thread
// reuses its buffers across requests).
simdjson::dom::parser& thread_parser();

// Frees this thread's parser buffers when they have grown past `keep_bytes`
// of document capacity. A parser keeps the size of the largest document it
// ever parsed: without this, every server thread that once saw a multi-MB
// review would hold several times that for the life of the process.
void release_large_thread_parser(std::size_t keep_bytes);

}  // namespace wirecheck::core
