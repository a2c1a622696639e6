#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "wirecheck/rule.hpp"

namespace wirecheck::policy {

namespace {

// Function-local static: rules register from other translation units during
// static initialisation, in an unspecified order.
std::vector<RuleSpec>& storage() {
  static std::vector<RuleSpec> rules;
  return rules;
}

}  // namespace

bool Registry::add(RuleSpec spec) {
  auto& rules = storage();
  if (spec.id.empty() || (spec.check == nullptr) != spec.live) {
    std::fprintf(stderr, "wirecheck: rule registered without id or check function\n");
    std::abort();
  }
  // The engine must never reach a live rule: it has no check to call.
  if (spec.live) spec.operations = Operations{};
  const auto pos = std::lower_bound(rules.begin(), rules.end(), spec.id,
                                    [](const RuleSpec& r, std::string_view id) { return r.id < id; });
  if (pos != rules.end() && pos->id == spec.id) {
    std::fprintf(stderr, "wirecheck: duplicate rule id '%.*s'\n", static_cast<int>(spec.id.size()),
                 spec.id.data());
    std::abort();
  }
  rules.insert(pos, std::move(spec));
  return true;
}

const std::vector<RuleSpec>& Registry::all() { return storage(); }

const RuleSpec* Registry::find(std::string_view id) {
  const auto& rules = storage();
  const auto pos = std::lower_bound(rules.begin(), rules.end(), id,
                                    [](const RuleSpec& r, std::string_view i) { return r.id < i; });
  return pos != rules.end() && pos->id == id ? &*pos : nullptr;
}

}  // namespace wirecheck::policy
