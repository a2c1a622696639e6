// ObjectIndex: the in-memory Context over a fixed set of objects (the
// manifests given to `lint`, a test's fixture documents). Built once, then
// read-only: safe for concurrent readers. It does not own the objects; they
// must outlive the index.
#pragma once

#include <array>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "wirecheck/context.hpp"

namespace wirecheck::policy {

class ObjectIndex final : public Context {
 public:
  // `complete` marks a whole-cluster view (audit).
  explicit ObjectIndex(bool complete = false) : complete_(complete) {}

  void add(const core::Object& object);
  template <typename Range>
  void add_all(const Range& objects) {
    for (const core::Object& o : objects) add(o);
  }

  // A kind whose objects could not be read (an audit LIST that failed):
  // rules that need it are skipped instead of seeing it as empty.
  void mark_unknown(core::Kind kind) { unknown_[static_cast<std::size_t>(kind)] = true; }

  bool knows(core::Kind kind) const override { return !unknown_[static_cast<std::size_t>(kind)]; }
  bool complete() const override { return complete_; }
  const core::Object* find(core::Kind kind, std::string_view ns,
                           std::string_view name) const override;
  std::vector<const core::Object*> list(core::Kind kind, std::string_view ns) const override;
  std::vector<const core::Object*> list_all(core::Kind kind) const override;

 private:
  using NsKey = std::pair<core::Kind, std::string>;
  bool complete_;
  std::array<bool, core::kKindCount> unknown_{};
  std::map<NsKey, std::vector<const core::Object*>, std::less<>> by_ns_;
  std::map<core::Kind, std::vector<const core::Object*>> by_kind_;
};

}  // namespace wirecheck::policy
