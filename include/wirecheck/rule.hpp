// Rule: a pure function of (object, context) -> findings, declared once with
// its metadata at the end of its own file under src/rules/:
//
//   namespace {
//   void check(const RuleInput& in, FindingSink& out) { ... }
//   }  // namespace
//   WIRECHECK_REGISTER_RULE(my_rule, {
//       .id = "my-rule", .title = "...", .severity = Severity::kDeny, ...
//       .check = &check});
//
// The engine, not the rule, applies kind matching, operations, severity
// overrides, exemption annotations and "context not available -> skipped".
// Rules never log, never throw, never fail: a missing field means "not
// applicable". The registry is filled during static initialisation (rules
// live in an OBJECT library so the linker keeps them); duplicate ids abort.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wirecheck/context.hpp"
#include "wirecheck/evaluation_memo.hpp"
#include "wirecheck/object.hpp"
#include "wirecheck/settings.hpp"
#include "wirecheck/severity.hpp"

namespace wirecheck::policy {

// What a rule is given.
struct RuleInput {
  // The object acted on. For DELETE: the stored object being deleted.
  const core::Object& object;
  // UPDATE: the stored object before the change. DELETE: the stored object.
  // CREATE and lint: nullptr.
  const core::Object* old_object;
  Operation operation;
  const Context& context;
  const Settings& settings;
  // When the evaluation happens (unix seconds), from the engine's clock:
  // rules never read a clock themselves, so tests can fix the time.
  std::int64_t now_unix = 0;
  // Values several rules derive from this object, built once per evaluation
  // (evaluation_memo.hpp).
  EvaluationMemo& memo;
};

// What a rule reports, before the engine adds object, exemption and overrides.
struct RawFinding {
  Severity severity;
  std::string path;     // JSON field path, e.g. "spec.ports[0].targetPort"
  std::string message;  // what breaks at runtime
  std::string fix;      // a concrete change, with the exact value where known
  std::string cause;    // shared missing counterpart, when there is one (finding.hpp)
};

// Collects a rule's findings.
class FindingSink {
 public:
  explicit FindingSink(Severity default_severity) : default_(default_severity) {}
  void add(std::string path, std::string message, std::string fix) {
    add(default_, std::move(path), std::move(message), std::move(fix));
  }
  void add(Severity severity, std::string path, std::string message, std::string fix) {
    items_.push_back({severity, std::move(path), std::move(message), std::move(fix), {}});
  }
  // A finding whose cause other objects may share (a missing Service that
  // eight CRDs call): text output groups them under one line.
  void add_caused(Severity severity, std::string path, std::string message, std::string fix, std::string cause) {
    items_.push_back({severity, std::move(path), std::move(message), std::move(fix), std::move(cause)});
  }
  std::vector<RawFinding>& items() { return items_; }

 private:
  Severity default_;
  std::vector<RawFinding> items_;
};

using CheckFn = void (*)(const RuleInput&, FindingSink&);

struct RuleSpec {
  std::string_view id;        // kebab-case, matches the file and fixture folder
  std::string_view title;     // one line
  Severity severity = Severity::kWarn;  // default; the higher one for deny/warn rules
  std::string_view severities;  // for docs when a rule has several: "deny / warn"
  std::vector<core::Kind> kinds;
  // Skipped when the context does not know every kind in `context_kinds`.
  // A rule that can still decide without some of them leaves this false,
  // lists them in `context_kinds` anyway, and asks `knows` itself.
  bool needs_context = false;
  std::vector<core::Kind> context_kinds;  // kinds it looks up (for `knows`)
  // Kinds a rule with `needs_context` also looks up when the view knows
  // them (it asks `knows` itself): they sharpen a verdict, never a reason to
  // skip the rule. The audit lists them like `context_kinds`.
  std::vector<core::Kind> optional_context_kinds;
  Operations operations = kWrites;
  std::string_view failure;   // the runtime failure the rule prevents
  std::string_view fix;       // how to fix, in general terms
  // A live check: the audit's prober (src/cluster/live_probe.hpp) evaluates
  // it by connecting to the server, so it has no `check` and no operations
  // (the engine never runs it); it is registered for its metadata (docs,
  // SARIF, configuration) and its findings pass Engine::finish.
  bool live = false;
  CheckFn check = nullptr;
};

class Registry {
 public:
  // Registers a rule; aborts on a duplicate id (a programming error).
  static bool add(RuleSpec spec);
  // Every rule, sorted by id.
  static const std::vector<RuleSpec>& all();
  static const RuleSpec* find(std::string_view id);
};

}  // namespace wirecheck::policy

#define WIRECHECK_REGISTER_RULE(ident, ...)                              \
  namespace {                                                           \
  [[maybe_unused]] const bool ident##_registered_ =                     \
      ::wirecheck::policy::Registry::add(::wirecheck::policy::RuleSpec __VA_ARGS__); \
  }
