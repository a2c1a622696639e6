// Audit: every rule over a complete view of the cluster. The admission
// server judges one object as it is applied; the audit judges what the
// cluster already holds, including the kinds the API server never sends to
// a webhook (webhook configurations). Because the view is the whole cluster
// (policy::Context::complete()), a missing counterpart is `deny` here, not
// `warn` as in lint and admission (RULES.md, "Context").
//
// Where objects come from is an ObjectSource: `wirecheck audit` fills it
// from the cluster client's LIST (one per kind), tests from manifests. The
// server's background audit runs `audit_view` over its cache instead.
//
// Pure apart from calling the source: no logging; safe to run several
// audits at once on different sources.
#pragma once

#include <cstddef>
#include <memory>
#include <functional>
#include <string>
#include <vector>

#include "wirecheck/engine.hpp"
#include "wirecheck/lint.hpp"
#include "wirecheck/object_index.hpp"

namespace wirecheck::cluster {

// One kind as read from the cluster.
struct KindListing {
  enum class Status {
    kListed,     // `objects` is every object of the kind
    kNotServed,  // the API is not served (CRD not installed): there are none
    kFailed,     // could not be listed (forbidden, timeout): unknown
  };
  Status status = Status::kListed;
  std::string error;  // kFailed: why, for users
  // Objects owned by a controller whose kind is listed too (a Deployment's
  // ReplicaSets and Pods) are left out by the source: their template is
  // judged on the owner, once.
  std::vector<std::shared_ptr<const core::Object>> objects;
};

// Lists one kind. Called once per kind, in the order of `audited_kinds`.
using ObjectSource = std::function<KindListing(core::Kind kind)>;

// Every kind an enabled rule looks at, as subject or as context, in Kind order.
std::vector<core::Kind> audited_kinds(const policy::Engine& engine);

struct AuditProgress {
  std::size_t kinds_done = 0;
  std::size_t kinds_total = 0;
  std::size_t objects = 0;            // listed so far
  std::size_t objects_evaluated = 0;  // rules run on so many objects
  core::Kind current = core::Kind::kOther;
  bool evaluating = false;            // listing is over
};
using ProgressFn = std::function<void(const AuditProgress&)>;

// What was listed: the objects and the complete view
// over them. Kinds that failed to list are unknown to the view, so rules
// that need them are skipped rather than misjudging an empty list.
struct ClusterView {
  std::vector<std::shared_ptr<const core::Object>> objects;
  policy::ObjectIndex index{/*complete=*/true};
  std::vector<core::Kind> not_served;
  std::vector<std::pair<core::Kind, std::string>> failed;

  ClusterView() = default;
  ClusterView(const ClusterView&) = delete;
  ClusterView& operator=(const ClusterView&) = delete;
};

// Lists every audited kind through `source` into `view` (empty on entry).
void list_cluster(const policy::Engine& engine, const ObjectSource& source, ClusterView& view,
                  const ProgressFn& progress = {});

// Secrets are listed only on request (`wirecheck audit --secret-names`):
// with `enabled`, lists them through `source` into `view`; without, marks
// them unknown, so that no rule takes their absence for a fact.
void list_secret_names(const ObjectSource& source, ClusterView& view, bool enabled);

// Runs every rule over every object `context` holds of the audited kinds,
// with `context` as the view (it must be complete). Findings carry the
// object's cluster identity (kind, namespace/name); the report's `errors`
// name the kinds that could not be listed.
policy::LintReport audit_view(const policy::Engine& engine, const policy::Context& context,
                              const std::vector<std::pair<core::Kind, std::string>>& failed = {},
                              const ProgressFn& progress = {}, AuditProgress start = {});

// list_cluster + list_secret_names + audit_view.
policy::LintReport run_audit(const policy::Engine& engine, const ObjectSource& source, ClusterView& view,
                             const ProgressFn& progress = {}, bool secret_names = false);

// A Context that presents another one as the whole cluster (the server's
// cache, whose own view is partial for admission's sake).
class CompleteView final : public policy::Context {
 public:
  explicit CompleteView(const policy::Context& inner) : inner_(inner) {}
  bool knows(core::Kind kind) const override { return inner_.knows(kind); }
  bool complete() const override { return true; }
  bool judges_whole_view() const override { return true; }
  const core::Object* find(core::Kind kind, std::string_view ns, std::string_view name) const override {
    return inner_.find(kind, ns, name);
  }
  std::vector<const core::Object*> list(core::Kind kind, std::string_view ns) const override {
    return inner_.list(kind, ns);
  }
  std::vector<const core::Object*> list_all(core::Kind kind) const override { return inner_.list_all(kind); }
  std::string_view unknown_reason(core::Kind kind) const override { return inner_.unknown_reason(kind); }
  // The indexed queries go to the inner view's indexes, never to the
  // scanning defaults: an audit runs every rule over every object.
  std::vector<const core::Object*> list_matching(core::Kind kind, std::string_view ns,
                                                 const core::LabelSelector& selector) const override {
    return inner_.list_matching(kind, ns, selector);
  }
  std::vector<const core::Object*> list_all_matching(core::Kind kind,
                                                     const core::LabelSelector& selector) const override {
    return inner_.list_all_matching(kind, selector);
  }
  std::vector<const core::Object*> list_all_annotated(core::Kind kind, std::string_view key,
                                                      std::string_view value) const override {
    return inner_.list_all_annotated(kind, key, value);
  }
  std::vector<const core::Object*> services_selecting(std::string_view ns,
                                                      const core::StringMap& labels) const override {
    return inner_.services_selecting(ns, labels);
  }
  std::vector<const core::Object*> certificates_writing(
      std::string_view ns, std::initializer_list<std::string_view> secret_names) const override {
    return inner_.certificates_writing(ns, secret_names);
  }

 private:
  const policy::Context& inner_;
};

}  // namespace wirecheck::cluster
