// `wirecheck audit`: every rule over what the cluster already holds. Lists
// each kind the rules need once (no watch), evaluates with the complete
// view (missing counterparts are deny), optionally probes every webhook,
// conversion webhook and APIService, and every https scrape target of the
// ServiceMonitors, live (--probe), and prints the same
// formats as lint (findings carry kind and namespace/name instead of
// file:line), or PolicyReport YAML. Exit codes as lint: 0 nothing at or
// above --fail-on, 1 findings, 2 usage error, cluster unreachable or a kind
// that could not be listed (the findings of the rest are still printed).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/report.hpp"
#include "cluster/api_source.hpp"
#include "cluster/kube_config.hpp"
#include "cluster/policy_report.hpp"
#include "wirecheck/settings.hpp"

namespace wirecheck::cli {

namespace {

constexpr const char* kAuditUsage =
    "usage: wirecheck audit [--kubeconfig FILE] [--context NAME] [--namespace NS]\n"
    "                       [--format text|json|sarif|policyreport] [--fail-on deny|warn|never]\n"
    "                       [--probe] [--probe-timeout 3s] [--probe-concurrency 4]\n"
    "                       [--probe-read-secrets] [--secret-names]\n"
    "                       [--config FILE] [--no-color]\n"
    "\n"
    "  --kubeconfig FILE      kubeconfig (default $KUBECONFIG, in-cluster, ~/.kube/config)\n"
    "  --context NAME         kubeconfig context (default current-context)\n"
    "  --namespace NS         report only objects in NS (the view is still the whole cluster)\n"
    "  --format FORMAT        text (default), json, sarif, or policyreport (wgpolicyk8s.io/v1alpha2 YAML)\n"
    "  --fail-on LEVEL        exit 1 when a finding at or above LEVEL exists (default deny)\n"
    "  --probe                also connect to every webhook, conversion webhook and APIService and\n"
    "                         verify its TLS certificate as the API server does, and to a few ready\n"
    "                         addresses of every ServiceMonitor https endpoint and check the\n"
    "                         certificate as Prometheus does (live checks; no request is sent)\n"
    "  --probe-timeout DUR    per target, connect + handshake (default 3s)\n"
    "  --probe-concurrency N  targets probed at once (default 4)\n"
    "  --probe-read-secrets   the scrape probe may read a monitor's tlsConfig.ca from a Secret (by\n"
    "                         name, never logged); ConfigMaps are always read\n"
    "  --secret-names         also list Secrets (names and key names, never values), so that\n"
    "                         monitors reading a missing Secret are reported\n"
    "  --config FILE          wirecheck configuration (severity overrides, flag tables)\n"
    "  --no-color             no ANSI colours\n"
    "\n"
    "exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error, cluster unreachable\n"
    "            or a kind that could not be listed\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "wirecheck audit: %s\n\n%s", message.c_str(), kAuditUsage);
  return 2;
}

// "3s", "500ms", "3" (seconds) -> milliseconds; 0 when malformed.
std::chrono::milliseconds parse_duration(const std::string& text) {
  try {
    std::size_t used = 0;
    const long value = std::stol(text, &used);
    const std::string unit = text.substr(used);
    if (value <= 0) return std::chrono::milliseconds(0);
    if (unit.empty() || unit == "s") return std::chrono::seconds(value);
    if (unit == "ms") return std::chrono::milliseconds(value);
  } catch (...) {
  }
  return std::chrono::milliseconds(0);
}

// One status line on a terminal, rewritten in place.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine() { clear(); }
  void show(const cluster::AuditProgress& p) {
    if (!enabled_) return;
    if (p.evaluating) {
      std::fprintf(stderr, "\r\033[Kwirecheck audit: %zu kinds listed, %zu objects, rules run on %zu", p.kinds_done,
                   p.objects, p.objects_evaluated);
    } else {
      std::fprintf(stderr, "\r\033[Kwirecheck audit: listing %s (%zu/%zu kinds, %zu objects)",
                   std::string(core::kind_name(p.current)).c_str(), p.kinds_done + 1, p.kinds_total, p.objects);
    }
    std::fflush(stderr);
    shown_ = true;
  }
  void clear() {
    if (shown_) std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
};

std::string kind_list(const std::vector<core::Kind>& kinds) {
  std::string out;
  for (core::Kind k : kinds) out += (out.empty() ? "" : ", ") + std::string(core::kind_name(k));
  return out;
}

}  // namespace

int run_audit(const Args& args) {
  std::string kubeconfig, context, ns, config;
  std::string format = "text";
  std::string fail_on = "deny";
  bool probe = false;
  bool probe_read_secrets = false;
  bool secret_names = false;
  std::chrono::milliseconds probe_timeout{3000};
  std::size_t probe_concurrency = 4;
  bool color = isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr;

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::string value;
    bool has_value = false;
    if (const auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto need = [&](const char* what) -> const std::string* {
      if (has_value) return &value;
      if (i + 1 >= args.size()) return nullptr;
      value = args[++i];
      (void)what;
      return &value;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kAuditUsage, stdout);
      return 0;
    } else if (a == "--probe") {
      probe = true;
    } else if (a == "--probe-read-secrets") {
      probe_read_secrets = true;
    } else if (a == "--secret-names") {
      secret_names = true;
    } else if (a == "--no-color") {
      color = false;
    } else if (a == "--kubeconfig" || a == "--context" || a == "--namespace" || a == "-n" || a == "--format" ||
               a == "--fail-on" || a == "--config" || a == "--probe-timeout" || a == "--probe-concurrency") {
      const std::string* v = need(a.c_str());
      if (v == nullptr) return usage_error(a + " needs a value");
      if (a == "--kubeconfig") kubeconfig = *v;
      if (a == "--context") context = *v;
      if (a == "--namespace" || a == "-n") ns = *v;
      if (a == "--format") format = *v;
      if (a == "--fail-on") fail_on = *v;
      if (a == "--config") config = *v;
      if (a == "--probe-timeout") {
        probe_timeout = parse_duration(*v);
        if (probe_timeout.count() == 0) return usage_error("--probe-timeout must be a duration like 3s or 500ms");
      }
      if (a == "--probe-concurrency") {
        const std::size_t n = std::strtoul(v->c_str(), nullptr, 10);
        if (n == 0 || n > 64) return usage_error("--probe-concurrency must be 1..64");
        probe_concurrency = n;
      }
    } else {
      return usage_error("unknown argument '" + args[i] + "'");
    }
  }
  if (format != "text" && format != "json" && format != "sarif" && format != "policyreport") {
    return usage_error("--format must be text, json, sarif or policyreport");
  }
  if (format != "text") color = false;
  std::optional<policy::Severity> threshold;
  if (!parse_fail_on(fail_on, threshold)) return usage_error("--fail-on must be deny, warn, info or never");
  auto settings = settings_from(config);
  if (!settings) {
    std::fprintf(stderr, "wirecheck audit: %s\n", settings.error().c_str());
    return 2;
  }
  auto kube = cluster::resolve_config(kubeconfig, context);
  if (!kube) {
    std::fprintf(stderr, "wirecheck audit: cannot find the cluster: %s\n", kube.error().c_str());
    return 2;
  }
  const policy::Engine engine(std::move(settings).value());
  const std::string server = kube->server;
  auto client = std::make_shared<cluster::ApiClient>(std::move(*kube));

  const auto started = std::chrono::steady_clock::now();
  cluster::ClusterView view;
  policy::LintReport report;
  {
    ProgressLine progress(isatty(STDERR_FILENO) != 0);
    report = cluster::run_audit(engine, cluster::api_object_source(*client, 500, secret_names), view,
                                [&](const cluster::AuditProgress& p) { progress.show(p); }, secret_names);
  }
  const auto audit_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (view.failed.size() == cluster::audited_kinds(engine).size()) {
    std::fprintf(stderr, "wirecheck audit: cannot list anything from %s: %s\n", server.c_str(),
                 view.failed.front().second.c_str());
    return 2;
  }
  std::fprintf(stderr, "wirecheck audit: %s: %zu objects of %zu kinds, rules run in %lld ms%s%s\n", server.c_str(),
               view.objects.size(), cluster::audited_kinds(engine).size() - view.failed.size(),
               static_cast<long long>(audit_ms), view.not_served.empty() ? "" : "; not served: ",
               kind_list(view.not_served).c_str());

  if (probe_read_secrets && !probe) return usage_error("--probe-read-secrets needs --probe");
  if (probe) {
    cluster::ProbeOptions options;
    options.timeout = probe_timeout;
    options.concurrency = probe_concurrency;
    options.in_cluster = std::getenv("KUBERNETES_SERVICE_HOST") != nullptr;
    options.read_secrets = probe_read_secrets;
    auto lookups = std::make_shared<cluster::ProbeLookups>(client, probe_read_secrets);
    const cluster::ProbeReport live =
        cluster::probe_live(engine, view.index, cluster::api_backend_resolver(lookups), options);
    for (const policy::Finding& f : live.findings) report.findings.push_back(f);
    using S = cluster::ProbeOutcome::Status;
    std::fprintf(stderr,
                 "wirecheck audit: probed %zu client configs in %lld ms: %zu ok, %zu unreachable, %zu untrusted, "
                 "%zu not probed\n",
                 live.outcomes.size(), static_cast<long long>(live.elapsed.count()), live.count(S::kOk),
                 live.count(S::kUnreachable), live.count(S::kUntrusted), live.count(S::kNotProbed));
    for (const cluster::ProbeOutcome& o : live.outcomes) {
      if (o.status != S::kNotProbed) continue;
      std::fprintf(stderr, "wirecheck audit: not probed: %s %s (%s): %s\n", o.object->ref.kind.c_str(),
                   o.object->name().c_str(), o.label.c_str(), o.detail.c_str());
    }
    const cluster::ScrapeReport scrape =
        cluster::probe_scrape_tls(engine, view.index, cluster::api_scrape_sources(lookups), options);
    for (const policy::Finding& f : scrape.findings) report.findings.push_back(f);
    using T = cluster::ScrapeOutcome::Status;
    std::size_t addresses = 0;
    for (const cluster::ScrapeOutcome& o : scrape.outcomes) addresses += o.address.empty() ? 0 : 1;
    std::fprintf(stderr,
                 "wirecheck audit: probed %zu scrape targets in %lld ms (slowest %lld ms, timeout %lld ms, %zu at "
                 "once): %zu ok, %zu name mismatch, %zu untrusted, %zu both, %zu unreachable, %zu not probed\n",
                 addresses, static_cast<long long>(scrape.elapsed.count()),
                 static_cast<long long>(scrape.slowest.count()), static_cast<long long>(probe_timeout.count()),
                 probe_concurrency, scrape.count(T::kOk), scrape.count(T::kNameMismatch), scrape.count(T::kUntrusted),
                 scrape.count(T::kBoth), scrape.count(T::kUnreachable), scrape.count(T::kNotProbed));
    for (const cluster::ScrapeOutcome& o : scrape.outcomes) {
      const std::string where = o.monitor->ns() + "/" + o.monitor->name() + " " + o.path +
                                (o.service.empty() ? "" : " Service " + o.service);
      if (o.address.empty()) {
        std::fprintf(stderr, "wirecheck audit: scrape target not probed: ServiceMonitor %s: %s\n", where.c_str(),
                     o.detail.c_str());
        continue;
      }
      std::fprintf(stderr, "wirecheck audit: scrape target %s (ServiceMonitor %s) %s in %lld ms, verified as %s%s%s; %s\n",
                   o.address.c_str(), where.c_str(), std::string(cluster::scrape_status_name(o.status)).c_str(),
                   static_cast<long long>(o.elapsed.count()), o.verified_name.c_str(),
                   o.failure.empty() ? "" : " ", o.failure.c_str(), o.trust.c_str());
      if (o.status == T::kUnreachable) std::fprintf(stderr, "wirecheck audit:   %s\n", o.detail.c_str());
    }
    report.summary = policy::summarize(report.findings, report.summary.objects);
  }
  if (!ns.empty()) {
    std::erase_if(report.findings, [&](const policy::Finding& f) { return f.object.ns != ns; });
    std::size_t in_ns = 0;
    for (const auto& o : view.objects) in_ns += o->ns() == ns ? 1 : 0;
    report.summary = policy::summarize(report.findings, in_ns);
  }

  if (format == "policyreport") {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    std::cout << format_yaml_documents(cluster::policy_reports(report.findings, now));
    std::cout.flush();
    return exit_code(report, threshold, "audit", true);
  }
  return write_report(report, format, color, threshold, "audit");
}

}  // namespace wirecheck::cli
