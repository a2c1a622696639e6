// `wirecheck lint`: manifests in, findings out. Exit codes: 0 nothing at or
// above --fail-on, 1 findings, 2 usage errors or unreadable documents (the
// findings of the readable ones are still printed).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/report.hpp"
#include "wirecheck/lint.hpp"
#include "wirecheck/manifest.hpp"
#include "wirecheck/settings.hpp"

namespace wirecheck::cli {

namespace {

constexpr const char* kLintUsage =
    "usage: wirecheck lint -f PATH [-f PATH ...] [--format text|json|sarif]\n"
    "                      [--config FILE] [--fail-on deny|warn|never] [--no-color]\n"
    "                      [--namespace NS]\n"
    "\n"
    "  -f, --filename PATH  a file, a directory (recursive: .yaml .yml .json) or - for stdin\n"
    "  --format FORMAT      text (default), json or sarif\n"
    "  --config FILE        wirecheck configuration (severity overrides, flag tables)\n"
    "  --fail-on LEVEL      exit 1 when a finding at or above LEVEL exists (default deny)\n"
    "  --no-color           no ANSI colours (also when NO_COLOR is set or stdout is not a tty)\n"
    "  -n, --namespace NS   namespace of namespaced objects that set none, as kubectl apply -n\n"
    "                       or helm install -n would place them (default: the one namespace\n"
    "                       the input's own references agree on, else default)\n"
    "\n"
    "exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error, unreadable input\n"
    "            or no Kubernetes object in the input\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "wirecheck lint: %s\n\n%s", message.c_str(), kLintUsage);
  return 2;
}

}  // namespace

int run_lint(const Args& args) {
  std::vector<std::string> paths;
  std::string format = "text";
  std::string config;
  std::string fail_on = "deny";
  std::string apply_ns;  // "" = inferred from the input (placement.hpp)
  bool color = isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& name) -> const std::string* {
      if (i + 1 >= args.size()) return nullptr;
      (void)name;
      return &args[++i];
    };
    auto split = [&](const std::string& flag, std::string& out) -> bool {
      // --flag=value form
      if (a.rfind(flag + "=", 0) == 0) {
        out = a.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    std::string inline_value;
    if (a == "-h" || a == "--help") {
      std::fputs(kLintUsage, stdout);
      return 0;
    } else if (a == "-f" || a == "--filename") {
      const std::string* v = value(a);
      if (v == nullptr) return usage_error(a + " needs a path");
      paths.push_back(*v);
    } else if (split("--filename", inline_value) || split("-f", inline_value)) {
      paths.push_back(inline_value);
    } else if (a == "--format" || split("--format", inline_value)) {
      const std::string* v = a == "--format" ? value(a) : &inline_value;
      if (v == nullptr) return usage_error("--format needs a value");
      format = *v;
    } else if (a == "--config" || split("--config", inline_value)) {
      const std::string* v = a == "--config" ? value(a) : &inline_value;
      if (v == nullptr) return usage_error("--config needs a file");
      config = *v;
    } else if (a == "--fail-on" || split("--fail-on", inline_value)) {
      const std::string* v = a == "--fail-on" ? value(a) : &inline_value;
      if (v == nullptr) return usage_error("--fail-on needs a level");
      fail_on = *v;
    } else if (a == "--namespace" || a == "-n" || split("--namespace", inline_value)) {
      const std::string* v = (a == "--namespace" || a == "-n") ? value(a) : &inline_value;
      if (v == nullptr || v->empty()) return usage_error("--namespace needs a namespace");
      apply_ns = *v;
    } else if (a == "--no-color") {
      color = false;
    } else {
      return usage_error("unknown argument '" + a + "'");
    }
  }
  if (paths.empty()) return usage_error("no input: give -f PATH (or -f - for stdin)");
  if (format != "text" && format != "json" && format != "sarif") {
    return usage_error("--format must be text, json or sarif");
  }
  if (format != "text") color = false;
  std::optional<policy::Severity> threshold;
  if (!parse_fail_on(fail_on, threshold)) return usage_error("--fail-on must be deny, warn, info or never");

  auto settings = settings_from(config);
  if (!settings) {
    std::fprintf(stderr, "wirecheck lint: %s\n", settings.error().c_str());
    return 2;
  }

  core::ManifestSet set;
  for (const std::string& p : paths) core::load_path(p, set);
  const policy::Engine engine(std::move(settings).value());
  const policy::LintReport report = policy::lint_manifests(set, engine, {.ns = apply_ns});

  const int code = write_report(report, format, color, threshold, "lint");
  // A failed `helm template | wirecheck lint -f -` must not pass CI quietly.
  if (set.objects.empty() && report.errors.empty()) {
    std::fprintf(stderr, "wirecheck lint: no Kubernetes objects found in the input (empty input?)\n");
    return 2;
  }
  return code;
}

}  // namespace wirecheck::cli
