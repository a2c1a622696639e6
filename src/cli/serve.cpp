// Placeholder until the admission server lands (issue 5).
#include <cstdio>

#include "cli/commands.hpp"

namespace wirecheck::cli {

int run_serve(const Args&) {
  std::fputs("wirecheck serve: not built yet\n", stderr);
  return 2;
}

int run_selftest(const Args&) {
  std::fputs("wirecheck selftest: not built yet\n", stderr);
  return 2;
}

}  // namespace wirecheck::cli
