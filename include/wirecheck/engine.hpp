// Engine: runs the registered rules over one object. Shared by every front
// end (lint, admission server, cluster audit). It applies, in this order:
// kind and operation matching, disabled rules, "needs context the Context
// does not know -> skipped", severity overrides, and exemption annotations
// `ignore.wirecheck.dev/<rule-id>: "<reason>"` (an empty reason does not
// exempt; the finding says so).
//
// Bounded: an object decoded past its limits (core::OverLimit) is not
// evaluated, and `check` stops at a deadline; either way the Evaluation says
// the object was not checked and why, and the caller decides what that
// means (lint reports it as a finding, the admission handler answers on its
// fail-open / fail-closed path).
//
// Pure: no logging, no I/O, no exceptions. Immutable after construction and
// safe to call from many threads at once.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "wirecheck/context.hpp"
#include "wirecheck/finding.hpp"
#include "wirecheck/object.hpp"
#include "wirecheck/rule.hpp"
#include "wirecheck/settings.hpp"

namespace wirecheck::policy {

inline constexpr std::string_view kExemptionPrefix = "ignore.wirecheck.dev/";
// The id `evaluate` gives the finding that says an object was not checked.
inline constexpr std::string_view kNotCheckedRule = "object-not-checked";

// Why an object was not checked.
struct NotChecked {
  enum class Reason : std::uint8_t { kObjectLimit, kBudget };
  Reason reason = Reason::kObjectLimit;
  std::string path;     // the list past its limit ("" for the budget)
  std::string message;  // one line: what was too much, the limit
};
// "object_limit" / "budget" (metric label).
std::string_view not_checked_label(NotChecked::Reason reason);

// A rule that matched the object and operation but did not run because the
// context does not know a kind it needs (never silent: the server logs and
// counts these).
struct SkippedRule {
  std::string_view rule;    // RuleSpec::id (static storage)
  core::Kind missing;       // the first context kind the context does not know
  std::string_view reason;  // Context::unknown_reason(missing)
};

struct Evaluation {
  std::vector<Finding> findings;     // empty when not checked
  std::optional<NotChecked> not_checked;
  std::vector<SkippedRule> skipped;  // rules skipped for lack of context
};

class Engine {
 public:
  // Unix seconds; the system clock unless a test fixes it.
  using Clock = std::function<std::int64_t()>;

  explicit Engine(Settings settings = Settings::defaults(), Clock clock = {});

  // Findings for `object` under `op`. For DELETE pass the stored object as
  // `object` (and as `old_object`). Findings come sorted by severity (deny
  // first), then rule id, then path; one per rule. An object past its decode
  // limits yields one `object-not-checked` warn finding instead (lint reports
  // it like any other). With `skipped`, the rules skipped for lack of context
  // are appended to it.
  std::vector<Finding> evaluate(const core::Object& object, const core::Object* old_object,
                                Operation op, const Context& context,
                                std::vector<SkippedRule>* skipped = nullptr) const;

  // Raw findings of `spec` on `object` produced outside `evaluate` (live
  // checks) finished the way `evaluate` finishes a rule's: merged into one
  // finding with every entry's path in `paths`, severity override,
  // exemption annotation; empty when the rule is disabled or `raw` is empty.
  std::vector<Finding> finish(const RuleSpec& spec, const core::Object& object,
                              std::vector<RawFinding> raw) const;

  // The same, bounded: stops (discarding partial findings) once `deadline`
  // has passed, checked before each rule. An old object past its limits is
  // ignored (rules then judge the change as if it were a create), an object
  // past its limits is not evaluated.
  Evaluation check(const core::Object& object, const core::Object* old_object, Operation op,
                   const Context& context,
                   std::chrono::steady_clock::time_point deadline =
                       std::chrono::steady_clock::time_point::max()) const;

  const Settings& settings() const { return settings_; }
  // Whether any enabled rule looks at `kind` under `op` (cheap pre-filter for
  // the server: objects no rule inspects skip decoding work).
  bool inspects(core::Kind kind, Operation op) const;

 private:
  Settings settings_;
  Clock clock_;
  // Enabled rules by kind, with their effective severity override.
  struct Active {
    const RuleSpec* spec;
    std::optional<Severity> severity_override;
  };
  std::array<std::vector<Active>, core::kKindCount> by_kind_;
};

}  // namespace wirecheck::policy
