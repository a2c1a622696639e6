#include "wirecheck/engine.hpp"

#include <algorithm>
#include <chrono>

namespace wirecheck::policy {

namespace {

bool context_ready(const RuleSpec& spec, const Context& ctx) {
  if (!spec.needs_context) return true;
  return std::all_of(spec.context_kinds.begin(), spec.context_kinds.end(),
                     [&](core::Kind k) { return ctx.knows(k); });
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

std::string_view not_checked_label(NotChecked::Reason reason) {
  return reason == NotChecked::Reason::kBudget ? "budget" : "object_limit";
}

std::vector<Finding> Engine::evaluate(const core::Object& object, const core::Object* old_object,
                                      Operation op, const Context& context) const {
  Evaluation e = check(object, old_object, op, context);
  if (!e.not_checked) return std::move(e.findings);
  Finding f;
  f.rule = std::string(kNotCheckedRule);
  f.severity = Severity::kWarn;
  f.object = object.ref;
  f.path = e.not_checked->path;
  f.message = e.not_checked->message;
  f.fix = "split the object, or remove the unused entries";
  f.source = object.source;
  return {std::move(f)};
}

Evaluation Engine::check(const core::Object& object, const core::Object* old_object, Operation op,
                         const Context& context, std::chrono::steady_clock::time_point deadline) const {
  Evaluation result;
  const auto& rules = by_kind_[static_cast<std::size_t>(object.kind)];
  if (rules.empty()) return result;
  if (object.over_limit) {
    const core::OverLimit& over = object.over_limit;
    result.not_checked = NotChecked{
        NotChecked::Reason::kObjectLimit, "",
        "not checked: it holds at least " + std::to_string(over.count) + " " +
            std::string(over.what) + ", over wirecheck's limit of " + std::to_string(over.limit) +
            " per object"};
    return result;
  }
  if (old_object != nullptr && old_object->over_limit) old_object = nullptr;
  std::vector<Finding>& findings = result.findings;
  const RuleInput input{object, old_object, op, context, settings_, clock_()};
  std::size_t ran = 0;
  for (const Active& active : rules) {
    const RuleSpec& spec = *active.spec;
    if (!spec.operations.has(op) || !context_ready(spec, context)) continue;
    if (deadline != std::chrono::steady_clock::time_point::max() &&
        std::chrono::steady_clock::now() >= deadline) {
      result.findings.clear();
      result.not_checked = NotChecked{
          NotChecked::Reason::kBudget, "",
          "not checked: evaluation ran past its time budget after " + std::to_string(ran) + " of " +
              std::to_string(rules.size()) + " rules"};
      return result;
    }
    ++ran;
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
  return result;
}

}  // namespace wirecheck::policy
