// Store: the cluster cache's typed objects, indexed by kind, namespace and
// name, handed out as immutable snapshots.
//
// Layout: a generation is an array of per-kind views; a kind view maps each
// namespace to an immutable shard (objects sorted by name). Applying an
// event copies only the shard of that kind and namespace and the kind's
// namespace map (shared_ptr copies), then publishes a new generation: the
// objects themselves are never copied, unchanged shards are shared between
// generations, and a reader holding an old snapshot keeps a consistent view
// for as long as it likes. Readers take the current generation under a
// mutex held for one shared_ptr copy, so writers never wait for readers and
// readers never wait for a writer's work.
//
// Snapshot implements policy::Context for admission: complete() is false
// (RULES.md: a counterpart missing at admission may be apply order, so it is
// warn), knows(kind) is true once that kind has synced once.
//
// Thread-safety: every method may be called from any thread; writes are
// serialised among themselves.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "wirecheck/context.hpp"
#include "wirecheck/object.hpp"

namespace wirecheck::cluster {

using ObjectPtr = std::shared_ptr<const core::Object>;

// Room for every core::Kind value (the enum grows with new kinds).
inline constexpr std::size_t kKindSlots = 64;

enum class KindState : std::uint8_t {
  kUnknown,    // not discovered yet
  kNotServed,  // the API server does not serve this kind (CRD not installed)
  kSyncing,    // served, first LIST not finished
  kSynced,     // listed at least once; kept up to date by a watch
};
std::string_view kind_state_name(KindState state);

class Snapshot final : public policy::Context {
 public:
  bool knows(core::Kind kind) const override { return state(kind) == KindState::kSynced; }
  bool complete() const override { return false; }
  std::string_view unknown_reason(core::Kind kind) const override;
  const core::Object* find(core::Kind kind, std::string_view ns, std::string_view name) const override;
  std::vector<const core::Object*> list(core::Kind kind, std::string_view ns) const override;
  std::vector<const core::Object*> list_all(core::Kind kind) const override;

  KindState state(core::Kind kind) const;
  std::size_t count(core::Kind kind) const;
  std::size_t total() const;

 private:
  friend class Store;
  struct Shard {
    std::vector<ObjectPtr> objects;  // sorted by name
  };
  struct KindView {
    std::map<std::string, std::shared_ptr<const Shard>, std::less<>> by_ns;
    std::size_t count = 0;
  };
  static std::size_t slot(core::Kind kind) { return static_cast<std::size_t>(kind) % kKindSlots; }

  std::array<std::shared_ptr<const KindView>, kKindSlots> kinds_{};
  std::array<KindState, kKindSlots> states_{};
};

class Store {
 public:
  Store();

  // The current generation (never null).
  std::shared_ptr<const Snapshot> snapshot() const;

  // Replaces every object of `kind` (a LIST result) and marks it synced.
  void replace(core::Kind kind, std::vector<ObjectPtr> objects);
  // Adds or replaces one object (keyed by kind, namespace, name).
  void upsert(ObjectPtr object);
  // Removes one object; no-op when absent.
  void erase(core::Kind kind, std::string_view ns, std::string_view name);
  void set_state(core::Kind kind, KindState state);

 private:
  template <typename Edit>
  void publish(Edit&& edit);

  mutable std::mutex current_mutex_;  // held only to copy or swap current_
  std::shared_ptr<const Snapshot> current_;
  std::mutex write_mutex_;            // serialises writers
};

}  // namespace wirecheck::cluster
