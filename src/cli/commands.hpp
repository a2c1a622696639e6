// The subcommands `main` dispatches to. Each takes the arguments after the
// subcommand name and returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace wirecheck::cli {

using Args = std::vector<std::string>;

int run_lint(const Args& args);      // lint.cpp
int run_rules(const Args& args);     // rules.cpp
int run_version(const Args& args);   // rules.cpp
int run_serve(const Args& args);     // serve.cpp
int run_selftest(const Args& args);  // selftest.cpp
int run_audit(const Args& args);     // audit.cpp
int run_trace(const Args& args);     // trace.cpp

}  // namespace wirecheck::cli
