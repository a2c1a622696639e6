#include "wirecheck/object_index.hpp"

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <string>

#include "wirecheck/client_configs.hpp"

namespace wirecheck::policy {

namespace {

constexpr std::size_t kHashMix = 0x9e3779b97f4a7c15ULL;

std::vector<const core::Object*> objects_of(const std::vector<ObjectIndex::Entry>* postings) {
  std::vector<const core::Object*> out;
  if (postings == nullptr) return out;
  out.reserve(postings->size());
  for (const ObjectIndex::Entry& e : *postings) out.push_back(e.object);
  return out;
}

}  // namespace

ObjectIndex::Key::Key(std::string_view a, std::string_view b, std::string_view c) : parts{a, b, c} {
  // Part by part, so that ("ab", "c") and ("a", "bc") differ.
  std::size_t h = 0;
  for (std::string_view p : parts) {
    h ^= std::hash<std::string_view>()(p) + kHashMix + (h << 6) + (h >> 2);
  }
  hash = h;
}

void ObjectIndex::add(const core::Object& object) {
  const Entry e{seq_++, &object};
  const std::string_view ns = object.ns();
  KindTables& t = kinds_[static_cast<std::size_t>(object.kind)];
  t.all.push_back(e);
  t.by_ns[Key(ns)].push_back(e);
  t.by_name.try_emplace(Key(ns, object.name()), e);
  for (const auto& [k, v] : selectable_labels(object)) {
    t.labeled[Key(ns, k, v)].push_back(e);
    t.labeled_all[Key(k, v)].push_back(e);
  }
  for (const auto& [k, v] : object.meta.annotations) t.annotated[Key(k, v)].push_back(e);
  // One pair is enough to find a Service: every pair of its selector must be
  // among the labels it is asked about.
  const core::Service* svc = object.service();
  if (svc != nullptr && svc->has_selector && !svc->selector.empty()) {
    const auto& [k, v] = svc->selector.front();
    selecting_[Key(ns, k, v)].push_back(e);
  }
  if (const core::Certificate* cert = object.certificate(); cert != nullptr) {
    by_secret_[Key(ns, cert->secret_name)].push_back(e);
  }
  for (const core::ClientConfigView& v : core::client_configs(object)) {
    if (v.service != nullptr) add_once(t.calling, Key(v.service->ns, v.service->name), e);
  }
  if (const core::Monitor* mon = object.monitor(); mon != nullptr) {
    // As Monitor::target_namespaces, without copying the names.
    if (mon->namespace_any) {
      t.monitoring_any.push_back(e);
    } else if (mon->namespace_names.empty()) {
      add_once(t.monitoring, Key(ns), e);
    } else {
      for (const std::string& n : mon->namespace_names) add_once(t.monitoring, Key(n), e);
    }
  }
  if (const core::Routes* routes = object.routes(); routes != nullptr) {
    for (const core::BackendRef& b : routes->backends) {
      add_once(t.routing, Key(b.ns.empty() ? ns : std::string_view(b.ns), b.service), e);
    }
  }
}

void ObjectIndex::add_once(Table& table, const Key& key, const Entry& e) {
  Postings& p = table[key];
  if (p.empty() || p.back().seq != e.seq) p.push_back(e);
}

const ObjectIndex::Postings* ObjectIndex::lookup(const Table& table, const Key& key) {
  if (table.empty()) return nullptr;
  const auto it = table.find(key);
  return it == table.end() ? nullptr : &it->second;
}

std::vector<const core::Object*> ObjectIndex::matching(const Table& pairs, const Postings* all,
                                                       std::optional<std::string_view> ns,
                                                       const core::LabelSelector& selector) {
  std::vector<const core::Object*> out;
  // No object of the kind (in the namespace): no pair can name one either.
  if (all == nullptr || all->empty()) return out;
  const Postings* candidates = all;
  for (const auto& [k, v] : selector.match_labels) {
    const Postings* with_pair = lookup(pairs, ns ? Key(*ns, k, v) : Key(k, v));
    if (with_pair == nullptr) return out;
    if (candidates == all || with_pair->size() < candidates->size()) candidates = with_pair;
  }
  for (const Entry& e : *candidates) {
    if (selector.matches(selectable_labels(*e.object))) out.push_back(e.object);
  }
  return out;
}

const core::Object* ObjectIndex::find(core::Kind kind, std::string_view ns,
                                      std::string_view name) const {
  const KindTables& t = kinds_[static_cast<std::size_t>(kind)];
  if (!t.by_name.empty()) {
    if (const auto it = t.by_name.find(Key(ns, name)); it != t.by_name.end()) return it->second.object;
  }
  if (!t.defaulted.empty()) {
    if (const auto it = t.defaulted.find(Key(name)); it != t.defaulted.end()) return it->second.object;
  }
  return nullptr;
}

void ObjectIndex::add_defaulted(const core::Object& object) {
  kinds_[static_cast<std::size_t>(object.kind)].defaulted.try_emplace(Key(object.name()), Entry{seq_, &object});
}

std::vector<const core::Object*> ObjectIndex::list(core::Kind kind, std::string_view ns) const {
  return objects_of(lookup(kinds_[static_cast<std::size_t>(kind)].by_ns, Key(ns)));
}

std::vector<const core::Object*> ObjectIndex::list_all(core::Kind kind) const {
  return objects_of(&kinds_[static_cast<std::size_t>(kind)].all);
}

std::vector<const core::Object*> ObjectIndex::list_matching(core::Kind kind, std::string_view ns,
                                                            const core::LabelSelector& selector) const {
  const KindTables& t = kinds_[static_cast<std::size_t>(kind)];
  return matching(t.labeled, lookup(t.by_ns, Key(ns)), ns, selector);
}

std::vector<const core::Object*> ObjectIndex::list_all_matching(core::Kind kind,
                                                                const core::LabelSelector& selector) const {
  const KindTables& t = kinds_[static_cast<std::size_t>(kind)];
  return matching(t.labeled_all, &t.all, std::nullopt, selector);
}

std::vector<const core::Object*> ObjectIndex::list_all_annotated(core::Kind kind, std::string_view key,
                                                                 std::string_view value) const {
  std::vector<const core::Object*> out;
  const Postings* p = lookup(kinds_[static_cast<std::size_t>(kind)].annotated, Key(key, value));
  if (p == nullptr) return out;
  for (const Entry& e : *p) {
    // The index holds every pair; a repeated key answers with its first value.
    if (e.object->annotation(key) == value) out.push_back(e.object);
  }
  return out;
}

std::vector<const core::Object*> ObjectIndex::services_selecting(std::string_view ns,
                                                                 const core::StringMap& labels) const {
  std::vector<Entry> found;
  for (const auto& [k, v] : labels) {
    const Postings* p = lookup(selecting_, Key(ns, k, v));
    if (p == nullptr) continue;
    for (const Entry& e : *p) {
      if (selector_contains(e.object->service()->selector, labels)) found.push_back(e);
    }
  }
  return merged(std::move(found));
}

std::vector<const core::Object*> ObjectIndex::certificates_writing(
    std::string_view ns, std::initializer_list<std::string_view> secret_names) const {
  std::vector<Entry> found;
  for (std::string_view secret : secret_names) {
    const Postings* p = lookup(by_secret_, Key(ns, secret));
    if (p != nullptr) found.insert(found.end(), p->begin(), p->end());
  }
  return merged(std::move(found));
}

std::vector<const core::Object*> ObjectIndex::list_all_calling(core::Kind kind, std::string_view ns,
                                                               std::string_view name) const {
  return objects_of(lookup(kinds_[static_cast<std::size_t>(kind)].calling, Key(ns, name)));
}

std::vector<const core::Object*> ObjectIndex::list_all_monitoring(core::Kind kind, std::string_view ns) const {
  const KindTables& t = kinds_[static_cast<std::size_t>(kind)];
  const Postings* named = lookup(t.monitoring, Key(ns));
  if (t.monitoring_any.empty()) return objects_of(named);
  std::vector<Entry> found = t.monitoring_any;
  if (named != nullptr) found.insert(found.end(), named->begin(), named->end());
  return merged(std::move(found));
}

std::vector<const core::Object*> ObjectIndex::list_all_routing_to(core::Kind kind, std::string_view ns,
                                                                  std::string_view name) const {
  return objects_of(lookup(kinds_[static_cast<std::size_t>(kind)].routing, Key(ns, name)));
}

std::vector<const core::Object*> ObjectIndex::merged(std::vector<Entry> found) {
  std::sort(found.begin(), found.end(), [](const Entry& a, const Entry& b) { return a.seq < b.seq; });
  found.erase(std::unique(found.begin(), found.end(),
                          [](const Entry& a, const Entry& b) { return a.seq == b.seq; }),
              found.end());
  std::vector<const core::Object*> out;
  out.reserve(found.size());
  for (const Entry& e : found) out.push_back(e.object);
  return out;
}

}  // namespace wirecheck::policy
