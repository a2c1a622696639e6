#include "wirecheck/object_index.hpp"

#include <algorithm>
#include <initializer_list>

namespace wirecheck::policy {

namespace {

// Index keys: the kind and the parts, each after a NUL byte, which no
// Kubernetes name, label or annotation contains.
std::string key_of(core::Kind kind, std::initializer_list<std::string_view> parts) {
  std::string key(1, static_cast<char>(kind));
  for (std::string_view p : parts) {
    key.push_back('\0');
    key.append(p);
  }
  return key;
}

std::vector<const core::Object*> objects_of(const std::vector<ObjectIndex::Entry>* postings) {
  std::vector<const core::Object*> out;
  if (postings == nullptr) return out;
  out.reserve(postings->size());
  for (const ObjectIndex::Entry& e : *postings) out.push_back(e.object);
  return out;
}

}  // namespace

void ObjectIndex::add(const core::Object& object) {
  const Entry e{seq_++, &object};
  const core::Kind kind = object.kind;
  by_ns_[key_of(kind, {object.ns()})].push_back(e);
  by_kind_[key_of(kind, {})].push_back(e);
  by_name_.try_emplace(key_of(kind, {object.ns(), object.name()}), Postings{e});
  for (const auto& [k, v] : selectable_labels(object)) {
    labeled_[key_of(kind, {object.ns(), k, v})].push_back(e);
    labeled_all_[key_of(kind, {k, v})].push_back(e);
  }
  for (const auto& [k, v] : object.meta.annotations) annotated_[key_of(kind, {k, v})].push_back(e);
  // One pair is enough to find a Service: every pair of its selector must be
  // among the labels it is asked about.
  const core::Service* svc = object.service();
  if (svc != nullptr && svc->has_selector && !svc->selector.empty()) {
    const auto& [k, v] = svc->selector.front();
    selecting_[key_of(core::Kind::kService, {object.ns(), k, v})].push_back(e);
  }
  if (const core::Certificate* cert = object.certificate(); cert != nullptr) {
    by_secret_[key_of(core::Kind::kCertificate, {object.ns(), cert->secret_name})].push_back(e);
  }
}

const ObjectIndex::Postings* ObjectIndex::lookup(const Table& table, const std::string& key) {
  const auto it = table.find(key);
  return it == table.end() ? nullptr : &it->second;
}

std::vector<const core::Object*> ObjectIndex::matching(const Table& pairs, const Postings* all,
                                                       core::Kind kind,
                                                       std::optional<std::string_view> ns,
                                                       const core::LabelSelector& selector) {
  const Postings* candidates = all;
  for (const auto& [k, v] : selector.match_labels) {
    const Postings* with_pair = lookup(pairs, ns ? key_of(kind, {*ns, k, v}) : key_of(kind, {k, v}));
    if (with_pair == nullptr) return {};
    if (candidates == all || with_pair->size() < candidates->size()) candidates = with_pair;
  }
  std::vector<const core::Object*> out;
  if (candidates == nullptr) return out;
  for (const Entry& e : *candidates) {
    if (selector.matches(selectable_labels(*e.object))) out.push_back(e.object);
  }
  return out;
}

const core::Object* ObjectIndex::find(core::Kind kind, std::string_view ns,
                                      std::string_view name) const {
  const Postings* p = lookup(by_name_, key_of(kind, {ns, name}));
  if (p == nullptr) p = lookup(defaulted_, key_of(kind, {name}));
  return p == nullptr ? nullptr : p->front().object;
}

void ObjectIndex::add_defaulted(const core::Object& object) {
  defaulted_.try_emplace(key_of(object.kind, {object.name()}), Postings{{seq_, &object}});
}

std::vector<const core::Object*> ObjectIndex::list(core::Kind kind, std::string_view ns) const {
  return objects_of(lookup(by_ns_, key_of(kind, {ns})));
}

std::vector<const core::Object*> ObjectIndex::list_all(core::Kind kind) const {
  return objects_of(lookup(by_kind_, key_of(kind, {})));
}

std::vector<const core::Object*> ObjectIndex::list_matching(core::Kind kind, std::string_view ns,
                                                            const core::LabelSelector& selector) const {
  return matching(labeled_, lookup(by_ns_, key_of(kind, {ns})), kind, ns, selector);
}

std::vector<const core::Object*> ObjectIndex::list_all_matching(core::Kind kind,
                                                                const core::LabelSelector& selector) const {
  return matching(labeled_all_, lookup(by_kind_, key_of(kind, {})), kind, std::nullopt, selector);
}

std::vector<const core::Object*> ObjectIndex::list_all_annotated(core::Kind kind, std::string_view key,
                                                                 std::string_view value) const {
  std::vector<const core::Object*> out;
  const Postings* p = lookup(annotated_, key_of(kind, {key, value}));
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
    const Postings* p = lookup(selecting_, key_of(core::Kind::kService, {ns, k, v}));
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
    const Postings* p = lookup(by_secret_, key_of(core::Kind::kCertificate, {ns, secret}));
    if (p != nullptr) found.insert(found.end(), p->begin(), p->end());
  }
  return merged(std::move(found));
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
