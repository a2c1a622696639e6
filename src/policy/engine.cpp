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

// One finding per object and rule: the entries of one object (webhooks,
// endpoints, ports) that trip a rule are reported once, at the highest
// severity, listing every entry's path. Messages that differ per entry keep
// the most severe one and say how many more entries there are; the fix is the
// most severe entry's (the paths say where else it applies).
RawFinding merge_entries(std::vector<RawFinding>& items, std::vector<std::string>& paths) {
  std::stable_sort(items.begin(), items.end(),
                   [](const RawFinding& a, const RawFinding& b) { return a.severity > b.severity; });
  for (const RawFinding& raw : items) {
    if (std::find(paths.begin(), paths.end(), raw.path) == paths.end()) paths.push_back(raw.path);
  }
  RawFinding merged = std::move(items.front());
  const bool same_message = std::all_of(items.begin() + 1, items.end(),
                                        [&](const RawFinding& r) { return r.message == merged.message; });
  if (!same_message) merged.message += " (+" + std::to_string(items.size() - 1) + " more)";
  return merged;
}

std::string exemption_key(std::string_view rule) {
  std::string key(kExemptionPrefix);
  key += rule;
  return key;
}

// The one finding of `spec` on `object` from its raw entries (not empty):
// merged, severity override applied, exemption annotation honoured.
Finding merged_finding(const RuleSpec& spec, std::optional<Severity> severity_override, const core::Object& object,
                       std::vector<RawFinding>& items) {
  std::vector<std::string> paths;
  RawFinding raw = merge_entries(items, paths);
  Finding f;
  f.paths = std::move(paths);
  f.rule = std::string(spec.id);
  f.severity = severity_override.value_or(raw.severity);
  f.object = object.ref;
  f.path = std::move(raw.path);
  f.message = std::move(raw.message);
  f.fix = std::move(raw.fix);
  f.cause = std::move(raw.cause);
  f.source = object.source();
  const core::FoundValue reason = object.annotation(exemption_key(spec.id));
  if (reason && !reason->empty()) {
    f.exempted = true;
    f.exemption_reason = *reason;
  } else if (reason) {
    f.message += " (annotation " + exemption_key(spec.id) +
                 " has an empty reason, so it does not exempt: give a reason)";
  }
  return f;
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
                                      Operation op, const Context& context,
                                      std::vector<SkippedRule>* skipped) const {
  Evaluation e = check(object, old_object, op, context);
  if (skipped != nullptr) skipped->insert(skipped->end(), e.skipped.begin(), e.skipped.end());
  if (!e.not_checked) return std::move(e.findings);
  Finding f;
  f.rule = std::string(kNotCheckedRule);
  f.severity = Severity::kWarn;
  f.object = object.ref;
  f.path = e.not_checked->path;
  f.message = e.not_checked->message;
  f.fix = "split the object, or remove the unused entries";
  f.source = object.source();
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
  EvaluationMemo memo;
  const RuleInput input{object, old_object, op, context, settings_, clock_(), memo};
  std::size_t ran = 0;
  for (const Active& active : rules) {
    const RuleSpec& spec = *active.spec;
    if (!spec.operations.has(op)) continue;
    if (const auto missing = missing_context(spec, context)) {
      result.skipped.push_back({spec.id, *missing, context.unknown_reason(*missing)});
      continue;
    }
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

    findings.push_back(merged_finding(spec, active.severity_override, object, sink.items()));
  }
  // Most severe first: the line a busy reader (or a CI log that shows only
  // the first one) sees is the one that matters.
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    return a.rule != b.rule ? a.rule < b.rule : a.path < b.path;
  });
  return result;
}

std::vector<Finding> Engine::finish(const RuleSpec& spec, const core::Object& object,
                                    std::vector<RawFinding> raw) const {
  std::vector<Finding> findings;
  const RuleOverride* o = settings_.override_for(spec.id);
  if (raw.empty() || (o != nullptr && o->disabled)) return findings;
  findings.push_back(merged_finding(spec, o != nullptr ? o->severity : std::nullopt, object, raw));
  return findings;
}

}  // namespace wirecheck::policy
