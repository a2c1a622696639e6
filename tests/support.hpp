// Test helpers: load fixture manifests and run the engine the way `lint`
// does (the first document is the subject, every document is context).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wirecheck/engine.hpp"
#include "wirecheck/finding.hpp"
#include "wirecheck/manifest.hpp"
#include "wirecheck/settings.hpp"

namespace wirecheck::testing {

// Parses YAML text; fails the test on any load error.
core::ManifestSet load_yaml(std::string_view yaml);
// Loads tests/fixtures/<relative>; fails the test on any load error.
core::ManifestSet load_fixture(const std::string& relative);
std::string fixtures_dir();

// Evaluates objects[index] with every object of `set` as context.
std::vector<policy::Finding> evaluate(const core::ManifestSet& set, std::size_t index = 0,
                                      policy::Operation op = policy::Operation::kCreate,
                                      const core::Object* old_object = nullptr,
                                      const policy::Settings& settings = policy::Settings::defaults());
// Evaluates every object of `set` against the whole set (what lint does).
std::vector<policy::Finding> evaluate_all(const core::ManifestSet& set,
                                          const policy::Settings& settings = policy::Settings::defaults());
// The findings of one rule.
std::vector<policy::Finding> of_rule(const std::vector<policy::Finding>& findings,
                                     std::string_view rule);

// Findings of `rule` on the first document of
// tests/fixtures/rules/<rule>/<file> (".yaml" may be left out), with every
// document of the fixture as context.
std::vector<policy::Finding> fixture_findings(const std::string& rule, const std::string& file);
// Findings of `rule` on the first document of `yaml`, every document as context.
std::vector<policy::Finding> yaml_findings(const std::string& rule, std::string_view yaml,
                                           const policy::Settings& settings = policy::Settings::defaults());
// objects[index] evaluated against `set` as a view that is complete (the
// cluster audit) or partial (lint, admission).
std::vector<policy::Finding> view_findings(const core::ManifestSet& set, std::size_t index,
                                           policy::Operation op, const core::Object* old_object,
                                           bool complete);
// objects[0] with a context that knows nothing (the server before its cache).
std::vector<policy::Finding> no_context_findings(const core::ManifestSet& set);
bool contains(const std::string& text, std::string_view part);

// Runs a shell command; returns its exit code and standard output.
struct CommandResult {
  int exit_code = -1;
  std::string out;
};
CommandResult run_command(const std::string& command);
// The wirecheck binary built with the tests.
std::string wirecheck_binary();

// ../shared, for the tests of the upstream corpus (../shared/corpus) only.
// When the corpus is absent such a test is reported by ctest as skipped,
// with the reason (never as passed: a green run must not mean "checked
// nothing"); with WIRECHECK_REQUIRE_CORPUS=1 (.ci/run) it fails.
std::string shared_dir();
std::string read_file(const std::string& path);

}  // namespace wirecheck::testing
