// Lint: every object of a manifest set evaluated against the whole set as
// context (the files given are the only view `lint` has, so findings that
// depend on an absent counterpart are warn, never deny). Pure: formats and
// exit codes are the CLI's business.
#pragma once

#include <cstddef>
#include <vector>

#include "wirecheck/engine.hpp"
#include "wirecheck/finding.hpp"
#include "wirecheck/manifest.hpp"
#include "wirecheck/placement.hpp"

namespace wirecheck::policy {

struct LintSummary {
  std::size_t objects = 0;
  std::size_t deny = 0;  // not counting exempted findings
  std::size_t warn = 0;
  std::size_t info = 0;
  std::size_t exempted = 0;
};

struct LintReport {
  std::vector<Finding> findings;  // in input order of objects, then rule id
  std::vector<core::LoadError> errors;
  std::vector<core::LoadError> skipped;  // not Kubernetes objects (directory walks)
  LintSummary summary;
  // Where the input's namespace-less objects were placed (placement.hpp).
  Placement placement;

  // Whether any non-exempted finding is at or above `threshold`.
  bool has_at_least(Severity threshold) const;
};

// Counts of `findings` (exempted ones apart) over `objects` objects.
LintSummary summarize(const std::vector<Finding>& findings, std::size_t objects);

struct LintOptions {
  std::string ns;  // `-n`: the apply namespace; "" = infer (placement.hpp)
};

// Places the set's namespace-less objects (so `set` is changed), then
// evaluates every object against the whole set as context.
LintReport lint_manifests(core::ManifestSet& set, const Engine& engine, const LintOptions& options = {});

}  // namespace wirecheck::policy
