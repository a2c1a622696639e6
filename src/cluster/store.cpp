#include "cluster/store.hpp"

#include <algorithm>

namespace wirecheck::cluster {
namespace {

bool by_name(const ObjectPtr& a, const ObjectPtr& b) { return a->name() < b->name(); }

struct NameLess {
  bool operator()(const ObjectPtr& a, std::string_view name) const { return a->name() < name; }
};

}  // namespace

std::string_view kind_state_name(KindState state) {
  switch (state) {
    case KindState::kUnknown: return "unknown";
    case KindState::kNotServed: return "not_served";
    case KindState::kSyncing: return "syncing";
    case KindState::kSynced: return "synced";
  }
  return "unknown";
}

// ------------------------------------------------------------------ Snapshot

KindState Snapshot::state(core::Kind kind) const { return states_[slot(kind)]; }

std::string_view Snapshot::unknown_reason(core::Kind kind) const {
  switch (state(kind)) {
    case KindState::kNotServed: return "api_not_served";
    case KindState::kSynced: return "other";
    default: return "not_synced";
  }
}

std::size_t Snapshot::count(core::Kind kind) const {
  const auto& view = kinds_[slot(kind)];
  return view ? view->count : 0;
}

std::size_t Snapshot::total() const {
  std::size_t n = 0;
  for (const auto& view : kinds_) n += view ? view->count : 0;
  return n;
}

const core::Object* Snapshot::find(core::Kind kind, std::string_view ns, std::string_view name) const {
  const auto& view = kinds_[slot(kind)];
  if (!view) return nullptr;
  const auto it = view->by_ns.find(ns);
  if (it == view->by_ns.end()) return nullptr;
  const auto& objects = it->second->objects;
  const auto pos = std::lower_bound(objects.begin(), objects.end(), name, NameLess{});
  return pos != objects.end() && (*pos)->name() == name ? pos->get() : nullptr;
}

std::vector<const core::Object*> Snapshot::list(core::Kind kind, std::string_view ns) const {
  std::vector<const core::Object*> out;
  const auto& view = kinds_[slot(kind)];
  if (!view) return out;
  const auto it = view->by_ns.find(ns);
  if (it == view->by_ns.end()) return out;
  out.reserve(it->second->objects.size());
  for (const ObjectPtr& o : it->second->objects) out.push_back(o.get());
  return out;
}

std::vector<const core::Object*> Snapshot::list_all(core::Kind kind) const {
  std::vector<const core::Object*> out;
  const auto& view = kinds_[slot(kind)];
  if (!view) return out;
  out.reserve(view->count);
  for (const auto& [ns, shard] : view->by_ns) {
    for (const ObjectPtr& o : shard->objects) out.push_back(o.get());
  }
  return out;
}

// --------------------------------------------------------------------- Store

Store::Store() : current_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const Snapshot> Store::snapshot() const {
  std::lock_guard<std::mutex> lock(current_mutex_);
  return current_;
}

template <typename Edit>
void Store::publish(Edit&& edit) {
  std::lock_guard<std::mutex> writer(write_mutex_);
  auto next = std::make_shared<Snapshot>(*snapshot());  // shares every view
  edit(*next);
  std::shared_ptr<const Snapshot> published = std::move(next);
  {
    std::lock_guard<std::mutex> lock(current_mutex_);
    current_.swap(published);
  }
  // `published` now holds the previous generation; when it is the last
  // reference, its unshared parts are freed here, outside the lock.
}

void Store::replace(core::Kind kind, std::vector<ObjectPtr> objects) {
  auto view = std::make_shared<Snapshot::KindView>();
  std::map<std::string, std::vector<ObjectPtr>, std::less<>> grouped;
  for (ObjectPtr& o : objects) {
    if (o) grouped[std::string(o->ns())].push_back(std::move(o));
  }
  for (auto& [ns, list] : grouped) {
    std::sort(list.begin(), list.end(), by_name);
    // A LIST never has duplicates; keep the last if a caller passes some.
    list.erase(std::unique(list.begin(), list.end(),
                           [](const ObjectPtr& a, const ObjectPtr& b) { return a->name() == b->name(); }),
               list.end());
    view->count += list.size();
    auto shard = std::make_shared<Snapshot::Shard>();
    shard->objects = std::move(list);
    view->by_ns.emplace(ns, std::move(shard));
  }
  publish([&](Snapshot& s) {
    s.kinds_[Snapshot::slot(kind)] = std::move(view);
    s.states_[Snapshot::slot(kind)] = KindState::kSynced;
  });
}

void Store::upsert(ObjectPtr object) {
  if (!object) return;
  publish([&](Snapshot& s) {
    auto& slot = s.kinds_[Snapshot::slot(object->kind)];
    auto view = slot ? std::make_shared<Snapshot::KindView>(*slot) : std::make_shared<Snapshot::KindView>();
    auto shard = std::make_shared<Snapshot::Shard>();
    if (const auto it = view->by_ns.find(object->ns()); it != view->by_ns.end()) shard->objects = it->second->objects;
    auto& objects = shard->objects;
    const auto pos = std::lower_bound(objects.begin(), objects.end(), object->name(), NameLess{});
    if (pos != objects.end() && (*pos)->name() == object->name()) {
      *pos = std::move(object);
    } else {
      objects.insert(pos, std::move(object));
      ++view->count;
    }
    const std::string ns(objects.front()->ns());
    view->by_ns.insert_or_assign(ns, std::move(shard));
    slot = std::move(view);
  });
}

void Store::erase(core::Kind kind, std::string_view ns, std::string_view name) {
  publish([&](Snapshot& s) {
    auto& slot = s.kinds_[Snapshot::slot(kind)];
    if (!slot) return;
    const auto it = slot->by_ns.find(ns);
    if (it == slot->by_ns.end()) return;
    const auto& old = it->second->objects;
    const auto pos = std::lower_bound(old.begin(), old.end(), name, NameLess{});
    if (pos == old.end() || (*pos)->name() != name) return;
    auto view = std::make_shared<Snapshot::KindView>(*slot);
    auto shard = std::make_shared<Snapshot::Shard>();
    shard->objects.reserve(old.size() - 1);
    shard->objects.insert(shard->objects.end(), old.begin(), pos);
    shard->objects.insert(shard->objects.end(), pos + 1, old.end());
    --view->count;
    if (shard->objects.empty()) {
      view->by_ns.erase(view->by_ns.find(ns));
    } else {
      view->by_ns.find(ns)->second = std::move(shard);
    }
    slot = std::move(view);
  });
}

void Store::set_state(core::Kind kind, KindState state) {
  publish([&](Snapshot& s) { s.states_[Snapshot::slot(kind)] = state; });
}

}  // namespace wirecheck::cluster
