// WATCH stream lines -> the cluster cache's store -> the rules over what was
// stored, as the background audit reviews it. What the API server (or
// anything answering at the kubeconfig's address) sends the cache. The first
// byte picks the watched kind; every following line is one event.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cluster/store.hpp"
#include "cluster/watch_event.hpp"
#include "cluster/watched_kinds.hpp"
#include "wirecheck/engine.hpp"

using namespace wirecheck;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const policy::Engine engine;
  if (size == 0) return 0;
  const auto& kinds = cluster::watched_kinds();
  const cluster::WatchedKind& kind = kinds[data[0] % kinds.size()];
  const std::string api_version =
      kind.group.empty() ? std::string(kind.versions.front()) : std::string(kind.group) + "/" + std::string(kind.versions.front());

  cluster::Store store;
  simdjson::dom::parser parser;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    (void)cluster::apply_watch_event(parser, line, kind, api_version, store);
  }

  // The store stays consistent, and every stored object can be reviewed.
  const auto snapshot = store.snapshot();
  const auto objects = snapshot->list_all(kind.kind);
  if (objects.size() != snapshot->count(kind.kind)) std::abort();
  for (const core::Object* object : objects) {
    if (object == nullptr) std::abort();
    (void)engine.evaluate(*object, nullptr, policy::Operation::kCreate, *snapshot);
  }
  return 0;
}
