// Lint scaling: loads and lints each manifest file given (the generated
// inputs of bench/gen_lint_input.py) and prints one row per file: objects,
// MB, seconds spent loading (YAML -> objects) and linting (every rule over
// every object against the whole set), objects/s, MB/s and us per object.
// Times are CPU seconds of the process, the median of --runs runs (default
// 3) per file. Linear growth shows as a flat us/object column across sizes.
//
// usage: wirecheck_lint_scaling [--runs N] FILE...
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "wirecheck/lint.hpp"
#include "wirecheck/manifest.hpp"

namespace {

// CPU time of this process: the machine is shared, wall time would measure
// the neighbours too.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  int runs = 3;
  if (argc > 2 && std::string(argv[1]) == "--runs") {
    runs = std::max(1, std::atoi(argv[2]));
    first = 3;
  }
  if (argc <= first) {
    std::fprintf(stderr, "usage: %s [--runs N] FILE...\n", argv[0]);
    return 2;
  }
  const wirecheck::policy::Engine engine;
  std::printf("%-28s %8s %7s %7s %7s %7s %10s %7s %9s %8s %8s\n", "input", "objects", "MB",
              "load_s", "rules_s", "total_s", "objects/s", "MB/s", "us/object", "load_MB/s",
              "findings");
  for (int i = first; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", argv[i]);
      return 1;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string text = buf.str();
    const double mb = static_cast<double>(text.size()) / 1e6;

    // Each run loads and lints the text afresh; the run with the median
    // total is reported (the VM is shared: single runs move by 20%).
    struct Run {
      double load_s, rules_s;
    };
    std::vector<Run> timings;
    wirecheck::core::ManifestSet set;
    wirecheck::policy::LintReport report;
    for (int r = 0; r < runs; ++r) {
      set = wirecheck::core::ManifestSet{};
      const double t0 = cpu_seconds();
      wirecheck::core::load_stream(text, argv[i], set);
      const double t1 = cpu_seconds();
      report = wirecheck::policy::lint_manifests(set, engine);
      timings.push_back({t1 - t0, cpu_seconds() - t1});
    }
    std::sort(timings.begin(), timings.end(),
              [](const Run& a, const Run& b) { return a.load_s + a.rules_s < b.load_s + b.rules_s; });
    const double load_s = timings[timings.size() / 2].load_s;
    const double rules_s = timings[timings.size() / 2].rules_s;

    const double total = load_s + rules_s;
    const double n = static_cast<double>(set.objects.size());
    std::string name = argv[i];
    if (const auto slash = name.rfind('/'); slash != std::string::npos) name = name.substr(slash + 1);
    std::printf("%-28s %8zu %7.1f %7.2f %7.2f %7.2f %10.0f %7.1f %9.1f %8.1f %8zu\n", name.c_str(),
                set.objects.size(), mb, load_s, rules_s, total, n / total, mb / total,
                1e6 * total / n, mb / load_s, report.findings.size());
    if (!set.errors.empty()) {
      std::fprintf(stderr, "%s: %zu load errors (first: line %d: %s)\n", argv[i], set.errors.size(),
                   set.errors.front().line, set.errors.front().message.c_str());
      return 1;
    }
  }
  return 0;
}
