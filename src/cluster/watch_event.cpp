#include "cluster/watch_event.hpp"

#include "cluster/lister.hpp"

namespace wirecheck::cluster {

using simdjson::SUCCESS;
using simdjson::dom::element;
using Result = WatchEventOutcome::Result;

WatchEventOutcome apply_watch_event(simdjson::dom::parser& parser, std::string_view line, const WatchedKind& kind,
                                    std::string_view api_version, Store& store) {
  WatchEventOutcome out;
  element event;
  element object;
  std::string_view type;
  if (parser.parse(line.data(), line.size()).get(event) != SUCCESS ||
      event["type"].get_string().get(type) != SUCCESS || event["object"].get(object) != SUCCESS ||
      !object.is_object()) {
    return out;
  }
  if (type == "ERROR") {
    std::int64_t code = 0;
    if (object["code"].get_int64().get(code) == SUCCESS && code == 410) {
      out.result = Result::kExpired;
    } else {
      out.result = Result::kError;
      out.detail = std::string(string_at(object, "message"));
    }
    return out;
  }
  const auto metadata_string = [&](std::string_view key) { return string_at(object["metadata"], key); };
  if (type == "BOOKMARK") {
    out.result = Result::kBookmark;
    out.resource_version = std::string(metadata_string("resourceVersion"));
    return out;
  }
  const bool change = type == "ADDED" || type == "MODIFIED";
  if (!change && type != "DELETED") {
    out.result = Result::kUnknownType;
    out.detail = std::string(type);
    return out;
  }
  // Every object an API server sends has a name: one without is no event.
  const std::string_view ns = metadata_string("namespace");
  const std::string_view name = metadata_string("name");
  if (name.empty()) return out;
  // An object the cache does not keep (run by a cached controller) may have
  // been kept before its owner reference was set: drop that copy.
  ObjectPtr cached = change ? cache_object(object, kind.kind, api_version) : nullptr;
  if (cached) {
    store.upsert(std::move(cached));
  } else {
    store.erase(kind.kind, ns, name);
  }
  out.resource_version = std::string(metadata_string("resourceVersion"));
  out.result = Result::kApplied;
  return out;
}

}  // namespace wirecheck::cluster
