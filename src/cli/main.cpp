// wirecheck: Kubernetes admission webhook and manifest linter for metrics and
// TLS wiring. main() only dispatches to a subcommand.
#include <cstdio>
#include <string>
#include <string_view>

#include "cli/commands.hpp"

namespace {

constexpr const char* kUsage =
    "usage: wirecheck <command> [options]\n"
    "\n"
    "commands:\n"
    "  lint       check manifests (files, directories or - for stdin)\n"
    "  serve      run the validating admission webhook over HTTPS\n"
    "  audit      check what a cluster already holds (and, with --probe, its live webhooks)\n"
    "  trace      walk the chain of one monitor, Service, webhook or APIService link by link\n"
    "  selftest   check a running webhook end to end (reachability, TLS, decision)\n"
    "  rules      list the rules (text or markdown)\n"
    "  version    print the version\n"
    "\n"
    "Run 'wirecheck <command> --help' for a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace wirecheck::cli;
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string_view command = argv[1];
  const Args args(argv + 2, argv + argc);
  if (command == "lint") return run_lint(args);
  if (command == "serve") return run_serve(args);
  if (command == "audit") return run_audit(args);
  if (command == "trace") return run_trace(args);
  if (command == "selftest") return run_selftest(args);
  if (command == "rules") return run_rules(args);
  if (command == "version" || command == "--version") return run_version(args);
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "wirecheck: unknown command '%s'\n\n%s", argv[1], kUsage);
  return 2;
}
