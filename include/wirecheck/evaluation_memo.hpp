// EvaluationMemo: values derived from the object under evaluation that more
// than one rule needs (the loopback binds of its pod template), built by the
// first rule that asks and handed to the others of the same evaluation.
//
// Rules stay pure functions of (object, context): a memoised value must be a
// pure function of its subject (a part of the object) and the engine's
// Settings, so whether it was built by this rule or an earlier one never
// changes a finding. The engine creates one memo per evaluation, on its own
// stack, and drops it when the evaluation ends: nothing is shared between
// objects, requests or threads. Not thread-safe (one evaluation runs its
// rules one after another).
#pragma once

#include <memory>
#include <utility>
#include <vector>

namespace wirecheck::policy {

class EvaluationMemo {
 public:
  // The T built for `subject` earlier in this evaluation, or `build()`'s
  // result, kept until the evaluation ends. `subject` is the part of the
  // object T is derived from (e.g. its PodTemplate).
  template <typename T, typename Build>
  const T& get(const void* subject, Build&& build) {
    const void* const tag = type_tag<T>();
    for (const Entry& e : entries_) {
      if (e.tag == tag && e.subject == subject) return *static_cast<const T*>(e.value.get());
    }
    auto value = std::make_unique<T>(std::forward<Build>(build)());
    const T& ref = *value;
    entries_.push_back({tag, subject, Owned(value.release(), [](void* p) { delete static_cast<T*>(p); })});
    return ref;
  }

 private:
  // One address per type, without RTTI.
  template <typename T>
  static const void* type_tag() {
    static const char tag = 0;
    return &tag;
  }
  using Owned = std::unique_ptr<void, void (*)(void*)>;
  struct Entry {
    const void* tag;
    const void* subject;
    Owned value;
  };
  std::vector<Entry> entries_;
};

}  // namespace wirecheck::policy
