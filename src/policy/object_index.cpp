#include "wirecheck/object_index.hpp"

namespace wirecheck::policy {

void ObjectIndex::add(const core::Object& object) {
  by_ns_[{object.kind, object.ns()}].push_back(&object);
  by_kind_[object.kind].push_back(&object);
}

const core::Object* ObjectIndex::find(core::Kind kind, std::string_view ns,
                                      std::string_view name) const {
  const auto it = by_ns_.find(NsKey{kind, std::string(ns)});
  if (it == by_ns_.end()) return nullptr;
  for (const core::Object* o : it->second) {
    if (o->name() == name) return o;
  }
  return nullptr;
}

std::vector<const core::Object*> ObjectIndex::list(core::Kind kind, std::string_view ns) const {
  const auto it = by_ns_.find(NsKey{kind, std::string(ns)});
  return it == by_ns_.end() ? std::vector<const core::Object*>{} : it->second;
}

std::vector<const core::Object*> ObjectIndex::list_all(core::Kind kind) const {
  const auto it = by_kind_.find(kind);
  return it == by_kind_.end() ? std::vector<const core::Object*>{} : it->second;
}

}  // namespace wirecheck::policy
