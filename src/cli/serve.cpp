// `wirecheck serve`: the validating admission webhook. Parses flags, builds
// the shared immutable engine, starts the webhook (HTTPS) and ops listeners,
// and handles SIGTERM: readiness fails at once, requests are still answered
// for --shutdown-delay (so endpoints can be removed while the API server
// moves away), in-flight requests finish, then the process exits 0.
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "admission/handler.hpp"
#include "cli/commands.hpp"
#include "cli/serve_flags.hpp"
#include "cluster/background_audit.hpp"
#include "cluster/cluster_cache.hpp"
#include "server/cert_store.hpp"
#include "server/cluster_metrics.hpp"
#include "server/log.hpp"
#include "server/metrics.hpp"
#include "server/ops_server.hpp"
#include "server/webhook_server.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/rule.hpp"
#include "wirecheck/settings.hpp"

namespace wirecheck::cli {
namespace {

constexpr const char* kServeUsage =
    "usage: wirecheck serve --tls-cert-file F --tls-private-key-file F [options]\n"
    "\n"
    "  --listen ADDR:PORT            webhook HTTPS listener (default 0.0.0.0:8443; port 0 = any)\n"
    "  --ops-listen ADDR:PORT        /healthz /readyz /metrics listener (default 0.0.0.0:8080)\n"
    "  --mode enforce|warn|audit     default mode for POST /validate (default warn)\n"
    "  --config FILE                 rule settings (YAML)\n"
    "  --tls-cert-file F             serving certificate (PEM chain) or a directory with tls.crt/tls.key\n"
    "  --tls-private-key-file F      serving key (PEM)\n"
    "  --client-ca-file F            require client certificates signed by this CA\n"
    "  --metrics-tls-cert-file F     serve the ops listener over HTTPS with this certificate\n"
    "  --metrics-tls-private-key-file F\n"
    "  --max-body-bytes N            request body limit (default 8388608)\n"
    "  --shutdown-delay D            keep serving this long after SIGTERM (default 5s)\n"
    "  --fail-closed                 deny (code 500) objects not checked (internal error, limits,\n"
    "                                budget) instead of allowing with a warning\n"
    "  --evaluation-budget D         longest evaluation of one review; past it the object is\n"
    "                                answered as not checked (default 1s)\n"
    "  --threads N                   workers deciding reviews over 64 KiB (default 2)\n"
    "  --max-connections N           open webhook connections; at the cap the oldest one that has\n"
    "                                not sent a request is closed, else the oldest idle one, else\n"
    "                                new ones are refused (default 2048)\n"
    "  --max-pending-per-source N    connections without a request yet one client address may\n"
    "                                hold; its oldest is closed for a new one (default 512, 0 = no\n"
    "                                limit)\n"
    "  --header-timeout D            TLS handshake + request head, from accept (default 10s)\n"
    "  --request-timeout D           longest time one request may take to arrive; slower\n"
    "                                clients are disconnected (default 30s, 0 = no limit)\n"
    "  --write-timeout D             longest time to write one answer (default 10s)\n"
    "  --idle-timeout D              close keep-alive connections idle this long (default 60s)\n"
    "  --drain-timeout D             after --shutdown-delay, wait this long for answers under\n"
    "                                way (default 20s; delay + drain < the pod's 30s grace)\n"
    "  --cert-reload-interval D      how often certificate files are re-read (default 2s)\n"
    "  --log-level L                 debug|info|warn|error (default info)\n"
    "  --cluster                     watch the cluster (list/watch cache) so rules that need other\n"
    "                                objects run at admission; /readyz waits for the first sync\n"
    "  --kubeconfig F                kubeconfig for --cluster (default $KUBECONFIG, in-cluster\n"
    "                                service account, then ~/.kube/config)\n"
    "  --context NAME                kubeconfig context (default current-context)\n"
    "  --audit-interval D            with --cluster: re-run every rule over the cache this often\n"
    "                                (e.g. 10m; default 0 = off); results in /metrics and /audit\n"
    "  --audit-probe                 the background audit also runs the live checks (TLS probes of\n"
    "                                webhooks and of ServiceMonitor https targets)\n"
    "  --audit-probe-read-secrets    the scrape probe may read tlsConfig.ca from a Secret (by name,\n"
    "                                never logged; ConfigMaps are always read)\n"
    "  --policy-reports              the background audit writes PolicyReports (one replica, by Lease)\n"
    "  --audit-lease-namespace NS    namespace of that Lease (default $POD_NAMESPACE, the service\n"
    "                                account's namespace, else default)\n";

struct ServeConfig {
  server::WebhookServerOptions webhook;
  server::OpsServerOptions ops;
  std::string config_file;
  std::string cert_file;
  std::string key_file;
  std::string metrics_cert_file;
  std::string metrics_key_file;
  std::chrono::milliseconds shutdown_delay{5000};
  std::chrono::milliseconds reload_interval{2000};
  std::chrono::milliseconds drain_timeout{20000};
  bool fail_closed = false;
  std::chrono::milliseconds evaluation_budget{1000};
  bool cluster = false;
  std::string kubeconfig;
  std::string kube_context;
  std::chrono::milliseconds audit_interval{0};
  bool audit_probe = false;
  bool audit_probe_read_secrets = false;
  bool policy_reports = false;
  std::string lease_namespace;
  spdlog::level::level_enum log_level = spdlog::level::info;
};

// Returns 0 to continue, else the exit code (help: 0 printed separately).
int parse_serve_args(const Args& args, ServeConfig& cfg, bool& help) {
  FlagReader flags(args);
  const auto bad = [](const std::string& message) {
    std::fprintf(stderr, "wirecheck serve: %s\n\n%s", message.c_str(), kServeUsage);
    return 2;
  };
  while (!flags.done()) {
    const std::string flag = flags.next_flag();
    if (flag == "--help" || flag == "-h") {
      help = true;
      return 0;
    }
    if (flag == "--fail-closed") {
      cfg.fail_closed = true;
      continue;
    }
    if (flag == "--cluster") {
      cfg.cluster = true;
      continue;
    }
    if (flag == "--audit-probe-read-secrets") {
      cfg.audit_probe_read_secrets = true;
      continue;
    }
    if (flag == "--audit-probe" || flag == "--policy-reports") {
      (flag == "--audit-probe" ? cfg.audit_probe : cfg.policy_reports) = true;
      continue;
    }
    const auto value = flags.value();
    if (!value) return bad(flag + " needs a value");
    if (flag == "--listen") {
      if (!parse_listen(*value, cfg.webhook.host, cfg.webhook.port)) return bad("bad --listen " + *value);
    } else if (flag == "--ops-listen") {
      if (!parse_listen(*value, cfg.ops.host, cfg.ops.port)) return bad("bad --ops-listen " + *value);
    } else if (flag == "--mode") {
      const auto mode = admission::parse_mode(*value);
      if (!mode) return bad("--mode must be enforce, warn or audit");
      cfg.webhook.default_mode = *mode;
    } else if (flag == "--config") {
      cfg.config_file = *value;
    } else if (flag == "--tls-cert-file") {
      cfg.cert_file = *value;
    } else if (flag == "--tls-private-key-file") {
      cfg.key_file = *value;
    } else if (flag == "--client-ca-file") {
      cfg.webhook.client_ca_file = *value;
    } else if (flag == "--metrics-tls-cert-file") {
      cfg.metrics_cert_file = *value;
    } else if (flag == "--metrics-tls-private-key-file") {
      cfg.metrics_key_file = *value;
    } else if (flag == "--max-pending-per-source") {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(value->c_str(), &end, 10);
      if (end == value->c_str() || *end != '\0') return bad(flag + " must be a number (0 = no limit)");
      cfg.webhook.max_pending_per_source = static_cast<std::size_t>(n);
    } else if (flag == "--max-body-bytes" || flag == "--threads" || flag == "--max-connections") {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(value->c_str(), &end, 10);
      if (end == value->c_str() || *end != '\0' || n == 0) return bad(flag + " must be a positive number");
      (flag == "--threads" ? cfg.webhook.threads
                           : flag == "--max-connections" ? cfg.webhook.max_connections
                                                         : cfg.webhook.max_body_bytes) = static_cast<std::size_t>(n);
    } else if (flag == "--header-timeout" || flag == "--write-timeout" || flag == "--idle-timeout" ||
               flag == "--drain-timeout") {
      const auto d = parse_duration(*value);
      if (!d || d->count() <= 0) return bad(flag + " must be a positive duration like 10s or 500ms");
      (flag == "--header-timeout"  ? cfg.webhook.head_timeout
       : flag == "--write-timeout" ? cfg.webhook.write_timeout
       : flag == "--idle-timeout"  ? cfg.webhook.idle_timeout
                                   : cfg.drain_timeout) = *d;
    } else if (flag == "--request-timeout") {
      const auto d = parse_duration(*value);
      if (!d) return bad(flag + " must be a duration like 30s or 500ms (0 = no limit)");
      cfg.webhook.request_timeout = *d;
    } else if (flag == "--evaluation-budget") {
      const auto d = parse_duration(*value);
      if (!d || d->count() <= 0) return bad(flag + " must be a positive duration like 1s or 500ms");
      cfg.evaluation_budget = *d;
    } else if (flag == "--shutdown-delay" || flag == "--cert-reload-interval") {
      const auto d = parse_duration(*value);
      if (!d) return bad(flag + " must be a duration like 5s or 500ms");
      (flag == "--shutdown-delay" ? cfg.shutdown_delay : cfg.reload_interval) = *d;
    } else if (flag == "--audit-interval") {
      const auto d = parse_duration(*value);
      if (!d) return bad(flag + " must be a duration like 10m or 30s (0 = off)");
      cfg.audit_interval = *d;
    } else if (flag == "--audit-lease-namespace") {
      cfg.lease_namespace = *value;
    } else if (flag == "--kubeconfig") {
      cfg.kubeconfig = *value;
    } else if (flag == "--context") {
      cfg.kube_context = *value;
    } else if (flag == "--log-level") {
      cfg.log_level = spdlog::level::from_str(*value);
    } else {
      return bad("unknown option " + flag);
    }
  }
  if (cfg.cert_file.empty()) return bad("--tls-cert-file is required");
  if (cfg.metrics_cert_file.empty() != cfg.metrics_key_file.empty()) {
    return bad("--metrics-tls-cert-file and --metrics-tls-private-key-file go together");
  }
  if (!cfg.cluster && (!cfg.kubeconfig.empty() || !cfg.kube_context.empty())) {
    return bad("--kubeconfig and --context need --cluster");
  }
  if (cfg.audit_interval.count() > 0 && !cfg.cluster) return bad("--audit-interval needs --cluster");
  if (cfg.audit_probe_read_secrets && !cfg.audit_probe) return bad("--audit-probe-read-secrets needs --audit-probe");
  if ((cfg.audit_probe || cfg.policy_reports || !cfg.lease_namespace.empty()) && cfg.audit_interval.count() <= 0) {
    return bad("--audit-probe, --policy-reports and --audit-lease-namespace need --audit-interval");
  }
  if (cfg.reload_interval.count() <= 0) cfg.reload_interval = std::chrono::milliseconds(2000);
  return 0;
}

// Raises the soft descriptor limit to the hard one and keeps the connection
// cap below it, so that the cap, not EMFILE, is what refuses connections.
void fit_connection_cap(std::size_t& max_connections) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &lim);
    (void)::getrlimit(RLIMIT_NOFILE, &lim);
  }
  constexpr rlim_t kReserve = 128;  // ops listener, certificate files, logs
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur > kReserve && max_connections > lim.rlim_cur - kReserve) {
    max_connections = static_cast<std::size_t>(lim.rlim_cur - kReserve);
    server::LogLine("connection cap lowered to fit the descriptor limit")
        .num("maxConnections", static_cast<std::int64_t>(max_connections))
        .emit(spdlog::level::warn);
  }
}

// The cluster module's messages as JSON log lines.
cluster::LogFn cluster_log(std::string_view component = "cluster-cache") {
  return [component](cluster::LogLevel level, std::string_view message, core::Kind kind, std::string_view detail) {
    server::LogLine line(message);
    line.str("component", component);
    if (kind != core::Kind::kOther) line.str("kind", core::kind_name(kind));
    if (!detail.empty()) line.str("detail", detail);
    switch (level) {
      case cluster::LogLevel::kDebug: line.emit(spdlog::level::debug); break;
      case cluster::LogLevel::kInfo: line.emit(spdlog::level::info); break;
      case cluster::LogLevel::kWarn: line.emit(spdlog::level::warn); break;
      case cluster::LogLevel::kError: line.emit(spdlog::level::err); break;
    }
  };
}

// Where the Lease lives and who holds it: the pod's namespace and name when
// deployed (downward API or the service account's namespace file).
cluster::BackgroundAuditOptions background_audit_options(const ServeConfig& cfg) {
  cluster::BackgroundAuditOptions o;
  o.interval = cfg.audit_interval;
  o.probe = cfg.audit_probe;
  o.probe_options.in_cluster = std::getenv("KUBERNETES_SERVICE_HOST") != nullptr;
  o.probe_options.read_secrets = cfg.audit_probe_read_secrets;
  o.policy_reports = cfg.policy_reports;
  o.lease_namespace = cfg.lease_namespace;
  if (o.lease_namespace.empty()) {
    if (const char* ns = std::getenv("POD_NAMESPACE"); ns != nullptr && *ns != '\0') o.lease_namespace = ns;
  }
  if (o.lease_namespace.empty()) {
    std::ifstream in("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
    std::getline(in, o.lease_namespace);
  }
  if (o.lease_namespace.empty()) o.lease_namespace = "default";
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const char* pod = std::getenv("POD_NAME");
  o.identity = (pod != nullptr && *pod != '\0' ? std::string(pod) : std::string(host)) + "_" +
               std::to_string(getpid());
  return o;
}

std::vector<std::string> rule_ids() {
  std::vector<std::string> ids;
  for (const auto& spec : policy::Registry::all()) ids.emplace_back(spec.id);
  return ids;
}

}  // namespace

int run_serve(const Args& args) {
  ServeConfig cfg;
  bool help = false;
  if (const int rc = parse_serve_args(args, cfg, help); rc != 0) return rc;
  if (help) {
    std::fputs(kServeUsage, stdout);
    return 0;
  }
  server::setup_json_logging(cfg.log_level);
  // Buffers of 1 MiB and more (large bodies, parser tapes) get their own
  // mappings, unmapped when freed. glibc's default threshold rises to 32 MiB
  // after the first large free, and each burst of large reviews then ratchets
  // RSS up (issue 13: 53 -> 226 -> 299 MB; with this, ~55 MB).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  // A peer that went away must not kill the process on the next write.
  ::signal(SIGPIPE, SIG_IGN);
  // SIGTERM/SIGINT are taken by sigwait below; block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  policy::Settings settings = policy::Settings::defaults();
  if (!cfg.config_file.empty()) {
    auto loaded = policy::load_settings_file(cfg.config_file);
    if (!loaded) {
      server::LogLine("cannot load configuration").str("file", cfg.config_file).str("error", loaded.error())
          .emit(spdlog::level::critical);
      return 1;
    }
    settings = std::move(*loaded);
  }
  const policy::Engine engine(std::move(settings));
  server::Metrics metrics(rule_ids());

  const auto watch_certificate = [&metrics](server::CertStore& store, std::string_view what) {
    store.set_listener([&metrics, what](const core::Status& status, const server::KeyPair* pair) {
      metrics.record_certificate(status.ok(), pair != nullptr ? pair->not_after_unix() : 0);
      if (status.ok() && pair != nullptr) {
        server::LogLine("certificate loaded").str("listener", what).str("serial", pair->serial_hex())
            .str("subject", pair->subject()).num("notAfter", pair->not_after_unix())
            .emit(spdlog::level::info);
      } else {
        server::LogLine("certificate rejected; keeping the previous one").str("listener", what)
            .str("error", status.error()).emit(spdlog::level::err);
      }
    });
    (void)store.reload();
  };
  server::CertStore certs(cfg.cert_file, cfg.key_file);
  watch_certificate(certs, "webhook");
  std::unique_ptr<server::CertStore> metrics_certs;
  if (!cfg.metrics_cert_file.empty()) {
    metrics_certs = std::make_unique<server::CertStore>(cfg.metrics_cert_file, cfg.metrics_key_file);
    watch_certificate(*metrics_certs, "ops");
    cfg.ops.tls = metrics_certs.get();
  }

  fit_connection_cap(cfg.webhook.max_connections);
  // The ops port holds the webhook's deadlines: no connection outlives there
  // what it may on the webhook port.
  cfg.ops.head_timeout = cfg.webhook.head_timeout;
  cfg.ops.request_timeout = cfg.webhook.request_timeout;
  cfg.ops.write_timeout = cfg.webhook.write_timeout;
  cfg.ops.idle_timeout = cfg.webhook.idle_timeout;
  std::unique_ptr<cluster::ClusterCache> cache;
  admission::ContextSource context_source = admission::empty_context_source();
  if (cfg.cluster) {
    auto kube = cluster::resolve_config(cfg.kubeconfig, cfg.kube_context);
    if (!kube) {
      server::LogLine("cannot find the cluster").str("error", kube.error()).emit(spdlog::level::critical);
      return 1;
    }
    server::LogLine("watching the cluster").str("server", kube->server).str("config", kube->origin)
        .emit(spdlog::level::info);
    cache = std::make_unique<cluster::ClusterCache>(std::move(*kube), cluster::ClusterCacheOptions{}, cluster_log());
    metrics.add_section([&cache](std::string& out) { server::render_cluster_metrics(*cache, out); });
    context_source = [&cache] { return std::shared_ptr<const policy::Context>(cache->snapshot()); };
  }
  std::unique_ptr<cluster::BackgroundAudit> audit;
  if (cache && cfg.audit_interval.count() > 0) {
    auto kube = cluster::resolve_config(cfg.kubeconfig, cfg.kube_context);
    if (!kube) return 1;  // the cache was just built from the same configuration
    audit = std::make_unique<cluster::BackgroundAudit>(
        engine, [&cache] { return std::shared_ptr<const policy::Context>(cache->snapshot()); },
        [&cache] { return cache->not_ready().empty(); }, std::move(*kube), background_audit_options(cfg),
        cluster_log("audit"));
    metrics.add_section([&audit](std::string& out) { audit->render_metrics(out); });
    cfg.ops.json_endpoints["/audit"] = [&audit] { return audit->report_json(); };
    server::LogLine("background audit on").num("intervalMs", cfg.audit_interval.count())
        .boolean("probe", cfg.audit_probe).boolean("policyReports", cfg.policy_reports)
        .emit(spdlog::level::info);
  }
  const admission::AdmissionHandler handler(engine, context_source,
                                            admission::HandlerOptions{cfg.fail_closed, cfg.evaluation_budget});
  server::WebhookServer webhook(handler, certs, metrics, cfg.webhook);
  cfg.ops.not_live = [&webhook] { return webhook.not_live_reason(); };
  server::OpsServer ops(metrics, [&]() -> std::string {
    if (webhook.draining()) return "shutting down";
    if (!certs.loaded()) return "serving certificate not loaded";
    if (cache) {
      if (std::string reason = cache->not_ready(); !reason.empty()) return reason;
    }
    return webhook.not_ready_reason();
  }, cfg.ops);
  if (auto status = webhook.bind(); !status) {
    server::LogLine("cannot start the webhook listener").str("error", status.error()).emit(spdlog::level::critical);
    return 1;
  }
  if (auto status = ops.bind(); !status) {
    server::LogLine("cannot start the ops listener").str("error", status.error()).emit(spdlog::level::critical);
    return 1;
  }
  if (cache) cache->start();
  if (audit) audit->start();
  webhook.start();
  ops.start();
  certs.start_watching(cfg.reload_interval);
  if (metrics_certs) metrics_certs->start_watching(cfg.reload_interval);
  server::LogLine("serving")
      .str("listen", cfg.webhook.host).num("port", webhook.port())
      .str("opsListen", cfg.ops.host).num("opsPort", ops.port())
      .str("mode", admission::mode_name(cfg.webhook.default_mode))
      .boolean("failClosed", cfg.fail_closed)
      .num("evaluationBudgetMs", cfg.evaluation_budget.count())
      .boolean("clientAuth", !cfg.webhook.client_ca_file.empty())
      .boolean("cluster", cfg.cluster)
      .num("rules", static_cast<std::int64_t>(policy::Registry::all().size()))
      .str("version", WIRECHECK_VERSION)
      .emit(spdlog::level::info);
  spdlog::default_logger()->flush();

  int sig = 0;
  sigwait(&stop_signals, &sig);
  webhook.begin_drain();
  server::LogLine("shutting down: readiness failing, still serving")
      .str("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT")
      .num("delayMs", cfg.shutdown_delay.count())
      .emit(spdlog::level::info);
  // Keep answering while endpoints are removed; a second signal cuts it short.
  timespec delay{static_cast<time_t>(cfg.shutdown_delay.count() / 1000),
                 static_cast<long>((cfg.shutdown_delay.count() % 1000) * 1000000)};
  sigtimedwait(&stop_signals, nullptr, &delay);

  // Idle connections close now; answers under way are written completely;
  // connections taken from the accept backlog get their answer too.
  const auto drain_until = std::chrono::steady_clock::now() + cfg.drain_timeout;
  webhook.stop(/*join=*/false);
  bool idle = webhook.wait_idle(cfg.drain_timeout);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(drain_until - std::chrono::steady_clock::now());
  webhook.wait_closed(std::max(left, std::chrono::milliseconds(0)));
  idle = idle && webhook.in_flight() == 0;
  ops.stop(/*join=*/false);
  certs.stop_watching();
  if (audit) audit->stop();
  if (cache) cache->stop();
  server::LogLine("stopped").boolean("inFlightFinished", idle).emit(spdlog::level::info);
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  // Every answer under way is written (or the drain timed out and the exit
  // code says so); leave without waiting for peers to close.
  std::_Exit(idle ? 0 : 1);
}

}  // namespace wirecheck::cli
