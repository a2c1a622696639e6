#include "wirecheck/engine.hpp"

#include <algorithm>
#include <chrono>

namespace wirecheck::policy {

namespace {

// The first context kind `spec` needs that `ctx` does not know, if any.
std::optional<core::Kind> missing_context(const RuleSpec& spec, const Context& ctx) {
  if (!spec.needs_context) return std::nullopt;
  for (core::Kind k : spec.context_kinds) {
    if (!ctx.knows(k)) return k;
  }
  return std::nullopt;
}

std::string exemption_key(std::string_view rule) {
  std::string key(kExemptionPrefix);
  key += rule;
  return key;
}

}  // namespace

Engine::Engine(Settings settings, Clock clock) : settings_(std::move(settings)), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  for (const RuleSpec& spec : Registry::all()) {
    const RuleOverride* o = settings_.override_for(spec.id);
    if (o != nullptr && o->disabled) continue;
    for (core::Kind k : spec.kinds) {
      by_kind_[static_cast<std::size_t>(k)].push_back({&spec, o ? o->severity : std::nullopt});
    }
  }
}

bool Engine::inspects(core::Kind kind, Operation op) const {
  const auto& rules = by_kind_[static_cast<std::size_t>(kind)];
  return std::any_of(rules.begin(), rules.end(),
                     [&](const Active& a) { return a.spec->operations.has(op); });
}

std::vector<Finding> Engine::evaluate(const core::Object& object, const core::Object* old_object,
                                      Operation op, const Context& context,
                                      std::vector<SkippedRule>* skipped) const {
  std::vector<Finding> findings;
  const auto& rules = by_kind_[static_cast<std::size_t>(object.kind)];
  if (rules.empty()) return findings;
  const RuleInput input{object, old_object, op, context, settings_, clock_()};
  for (const Active& active : rules) {
    const RuleSpec& spec = *active.spec;
    if (!spec.operations.has(op)) continue;
    if (const auto missing = missing_context(spec, context)) {
      if (skipped != nullptr) skipped->push_back({spec.id, *missing, context.unknown_reason(*missing)});
      continue;
    }
    FindingSink sink(spec.severity);
    spec.check(input, sink);
    if (sink.items().empty()) continue;

    const std::string* reason = object.annotation(exemption_key(spec.id));
    for (RawFinding& raw : sink.items()) {
      Finding f;
      f.rule = std::string(spec.id);
      f.severity = active.severity_override.value_or(raw.severity);
      f.object = object.ref;
      f.path = std::move(raw.path);
      f.message = std::move(raw.message);
      f.fix = std::move(raw.fix);
      f.source = object.source;
      if (reason != nullptr && !reason->empty()) {
        f.exempted = true;
        f.exemption_reason = *reason;
      } else if (reason != nullptr) {
        f.message += " (annotation " + exemption_key(spec.id) +
                     " has an empty reason, so it does not exempt: give a reason)";
      }
      findings.push_back(std::move(f));
    }
  }
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return a.rule != b.rule ? a.rule < b.rule : a.path < b.path;
  });
  return findings;
}

}  // namespace wirecheck::policy
