#include "cluster/audit.hpp"

#include <algorithm>

#include "wirecheck/rule.hpp"

namespace wirecheck::cluster {

std::vector<core::Kind> audited_kinds(const policy::Engine& engine) {
  std::array<bool, core::kKindCount> wanted{};
  for (const policy::RuleSpec& spec : policy::Registry::all()) {
    const policy::RuleOverride* o = engine.settings().override_for(spec.id);
    if (o != nullptr && o->disabled) continue;
    for (core::Kind k : spec.kinds) wanted[static_cast<std::size_t>(k)] = true;
    for (core::Kind k : spec.context_kinds) wanted[static_cast<std::size_t>(k)] = true;
    for (core::Kind k : spec.optional_context_kinds) wanted[static_cast<std::size_t>(k)] = true;
  }
  std::vector<core::Kind> out;
  for (std::size_t i = 1; i < core::kKindCount; ++i) {
    if (wanted[i]) out.push_back(static_cast<core::Kind>(i));
  }
  return out;
}

void list_cluster(const policy::Engine& engine, const ObjectSource& source, ClusterView& view,
                  const ProgressFn& progress) {
  const std::vector<core::Kind> kinds = audited_kinds(engine);
  AuditProgress p;
  p.kinds_total = kinds.size();
  for (core::Kind kind : kinds) {
    p.current = kind;
    if (progress) progress(p);
    KindListing listing = source(kind);
    switch (listing.status) {
      case KindListing::Status::kListed:
        for (auto& o : listing.objects) {
          // A source must not hand out objects of another kind under this one.
          if (o == nullptr || o->kind != kind) continue;
          view.index.add(*o);
          view.objects.push_back(std::move(o));
        }
        break;
      case KindListing::Status::kNotServed:
        // Not installed means none exist: the complete view knows it empty.
        view.not_served.push_back(kind);
        break;
      case KindListing::Status::kFailed:
        view.index.mark_unknown(kind);
        view.failed.emplace_back(kind, listing.error);
        break;
    }
    ++p.kinds_done;
    p.objects = view.objects.size();
  }
  if (progress) progress(p);
}

void list_secret_names(const ObjectSource& source, ClusterView& view, bool enabled) {
  if (!enabled) {
    view.index.mark_unknown(core::Kind::kSecret);
    return;
  }
  KindListing listing = source(core::Kind::kSecret);
  if (listing.status == KindListing::Status::kFailed) {
    view.index.mark_unknown(core::Kind::kSecret);
    view.failed.emplace_back(core::Kind::kSecret, listing.error);
    return;
  }
  for (auto& o : listing.objects) {
    if (o == nullptr || o->kind != core::Kind::kSecret) continue;
    view.index.add(*o);
    view.objects.push_back(std::move(o));
  }
}

policy::LintReport audit_view(const policy::Engine& engine, const policy::Context& context,
                              const std::vector<std::pair<core::Kind, std::string>>& failed,
                              const ProgressFn& progress, AuditProgress p) {
  policy::LintReport report;
  for (const auto& [kind, error] : failed) {
    report.errors.push_back({std::string(core::kind_name(kind)), 0,
                             "could not be listed, rules that need it were skipped: " + error});
  }
  p.evaluating = true;
  std::size_t objects = 0;
  for (core::Kind kind : audited_kinds(engine)) {
    if (!context.knows(kind)) continue;
    p.current = kind;
    for (const core::Object* o : context.list_all(kind)) {
      // Stored objects are judged as lint judges manifests: as they are
      // (CREATE, no old object); the complete view turns "missing" into deny.
      auto found = engine.evaluate(*o, nullptr, policy::Operation::kCreate, context);
      for (policy::Finding& f : found) report.findings.push_back(std::move(f));
      ++objects;
      ++p.objects_evaluated;
      if (progress && p.objects_evaluated % 256 == 0) progress(p);
    }
  }
  if (progress) progress(p);
  report.summary = policy::summarize(report.findings, objects);
  return report;
}

policy::LintReport run_audit(const policy::Engine& engine, const ObjectSource& source, ClusterView& view,
                             const ProgressFn& progress, bool secret_names) {
  AuditProgress p;
  list_cluster(engine, source, view, [&](const AuditProgress& now) {
    p = now;
    if (progress) progress(now);
  });
  list_secret_names(source, view, secret_names);
  return audit_view(engine, view.index, view.failed, progress, p);
}

}  // namespace wirecheck::cluster
