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

// Runs a shell command; returns its exit code and standard output.
struct CommandResult {
  int exit_code = -1;
  std::string out;
};
CommandResult run_command(const std::string& command);
// The wirecheck binary built with the tests.
std::string wirecheck_binary();

// ../shared (corpus, admission captures); empty when absent.
std::string shared_dir();
std::string read_file(const std::string& path);

}  // namespace wirecheck::testing
