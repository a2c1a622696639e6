// Lister: the one-shot reads of a kind, shared by the Reflector (which then
// watches) and `wirecheck audit` (which lists each kind once and never
// watches): discovery of the served version, a paginated LIST (`limit` +
// `continue`), and the trimming of items into the objects the cache keeps.
//
// Errors are values. Functions use the client and parser given; the caller
// owns their thread-safety (one of each per thread).
#pragma once

#include <simdjson.h>

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/api_client.hpp"
#include "cluster/store.hpp"
#include "cluster/watched_kinds.hpp"

namespace wirecheck::cluster {

// The first of `kind.versions` the API server serves; "" when it serves
// none (the CRD is not installed). Fails on transport errors, an HTTP status
// other than 200/404, or an answer that is not an APIResourceList.
core::Result<std::string> discover_version(ApiClient& client, const WatchedKind& kind,
                                           simdjson::dom::parser& parser);

struct KindList {
  std::vector<ObjectPtr> objects;
  std::string resource_version;  // of the list, for a watch to start from
};

// Every object of `kind` at `version`, page by page; a continue token that
// expired between pages starts the list again. Stops early (with an error)
// when `stopping` becomes true. Fails on transport errors, a non-200 answer
// (the body's start is in the message) or an answer that is not JSON.
core::Result<KindList> list_kind(ApiClient& client, const WatchedKind& kind, const std::string& version,
                                 std::size_t page_size, simdjson::dom::parser& parser,
                                 const std::atomic<bool>* stopping = nullptr);

// One LIST item or watch event object of `kind` (served at `api_version`) as
// the cache keeps it: decoded into the typed model, what no rule reads
// dropped (annotations other than exemptions and CA injection, and the
// last-applied copy). Null when it is not cached: run by a controller whose
// own object is cached (a Deployment's ReplicaSets, every controller's Pods),
// whose template is checked on the owner; or not of `kind`.
ObjectPtr cache_object(simdjson::dom::element item, core::Kind kind, std::string_view api_version);

// The string at `key` of an object element; "" when absent or not a string,
// or when `e` is itself an error (a missing parent: `string_at(o["metadata"],
// "name")` is safe where converting `o["metadata"]` to an element throws).
std::string_view string_at(simdjson::dom::element e, std::string_view key);
std::string_view string_at(simdjson::simdjson_result<simdjson::dom::element> e, std::string_view key);
// Percent-encodes everything but unreserved characters (query values).
std::string url_escape(std::string_view s);

}  // namespace wirecheck::cluster
