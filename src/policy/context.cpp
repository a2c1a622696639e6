#include "wirecheck/context.hpp"

namespace wirecheck::policy {

bool knows_pod_templates(const Context& ctx) {
  for (core::Kind k : core::workload_kinds()) {
    if (!ctx.knows(k)) return false;
  }
  return true;
}

std::vector<const core::Object*> pod_templates_in(const Context& ctx, std::string_view ns) {
  std::vector<const core::Object*> out;
  for (core::Kind k : core::workload_kinds()) {
    auto objects = ctx.list(k, ns);
    out.insert(out.end(), objects.begin(), objects.end());
  }
  return out;
}

bool namespace_in_view(const Context& ctx, std::string_view ns) {
  for (std::size_t k = 1; k < core::kKindCount; ++k) {
    const auto kind = static_cast<core::Kind>(k);
    if (ctx.knows(kind) && !ctx.list(kind, ns).empty()) return true;
  }
  if (!ctx.knows(core::Kind::kOther)) return false;
  for (const core::Object* o : ctx.list(core::Kind::kOther, "")) {
    if (o->ref.kind == "Namespace" && o->name() == ns) return true;
  }
  return false;
}

bool selector_contains(const core::StringMap& selector, const core::StringMap& labels) {
  if (selector.empty()) return false;
  for (const auto& [key, value] : selector) {
    const std::string* have = core::find_value(labels, key);
    if (have == nullptr || *have != value) return false;
  }
  return true;
}

std::vector<const core::Object*> pod_templates_selected_by(const Context& ctx, std::string_view ns,
                                                           const core::StringMap& selector) {
  std::vector<const core::Object*> out;
  for (const core::Object* o : pod_templates_in(ctx, ns)) {
    const core::PodTemplate* t = o->pod_template();
    if (t != nullptr && selector_contains(selector, t->labels)) out.push_back(o);
  }
  return out;
}

std::vector<const core::Object*> services_selecting(const Context& ctx, std::string_view ns,
                                                    const core::StringMap& labels) {
  std::vector<const core::Object*> out;
  for (const core::Object* o : ctx.list(core::Kind::kService, ns)) {
    const core::Service* s = o->service();
    if (s != nullptr && s->has_selector && selector_contains(s->selector, labels)) out.push_back(o);
  }
  return out;
}

}  // namespace wirecheck::policy
