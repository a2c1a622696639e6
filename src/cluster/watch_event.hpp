// One line of a WATCH stream (`{"type": ..., "object": {...}}`) applied to the
// Store. Kept apart from the Reflector's connection handling so that what an
// API server (or whatever answers in its place) sends can be tested and fuzzed
// without a connection: the line is untrusted input.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "cluster/store.hpp"
#include "cluster/watched_kinds.hpp"

namespace wirecheck::cluster {

struct WatchEventOutcome {
  enum class Result {
    kApplied,    // ADDED / MODIFIED / DELETED reached the store
    kBookmark,   // only the resourceVersion moved
    kExpired,    // ERROR 410: the history is gone, relist
    kError,      // another ERROR event: restart the watch
    kMalformed,  // not an event: restart the watch
    kUnknownType,
  };
  Result result = Result::kMalformed;
  // The event object's resourceVersion ("" when it has none): where a resumed
  // watch starts. Set for kApplied and kBookmark.
  std::string resource_version;
  // For the log: the error message or the unknown type.
  std::string detail;
};

// Parses `line` with `parser` and applies it to `store` as an event of `kind`
// served at `api_version`. Never throws; anything that is not an event
// (including a change to an object with no name) is kMalformed and leaves
// the store unchanged.
WatchEventOutcome apply_watch_event(simdjson::dom::parser& parser, std::string_view line, const WatchedKind& kind,
                                    std::string_view api_version, Store& store);

}  // namespace wirecheck::cluster
