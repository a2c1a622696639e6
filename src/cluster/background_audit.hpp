// BackgroundAudit: `wirecheck serve --cluster --audit-interval D` re-runs
// every rule over the cluster cache (a complete view: missing counterparts
// are deny, as in `wirecheck audit`), and with `--audit-probe` the live
// checks, once per interval after the cache has synced. Every replica
// audits and serves its own last run (metrics, the JSON at /audit on the
// ops listener). With `--policy-reports`, only the replica holding the
// coordination.k8s.io/v1 Lease writes one PolicyReport per namespace and
// one ClusterPolicyReport (server-side apply, field manager `wirecheck`);
// a namespace whose findings are gone gets an empty report. Without the
// PolicyReport CRD the writes are skipped with one log line and counted.
//
// Thread-safety: start/stop from one thread; report_json and
// render_metrics from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "cluster/api_client.hpp"
#include "cluster/api_source.hpp"
#include "cluster/live_probe.hpp"
#include "cluster/reflector.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/lint.hpp"

namespace wirecheck::cluster {

struct BackgroundAuditOptions {
  std::chrono::milliseconds interval{600000};
  bool probe = false;
  ProbeOptions probe_options;
  bool policy_reports = false;
  std::string lease_namespace = "default";
  std::string lease_name = "wirecheck-audit";
  std::string identity;  // this replica, as the Lease holder (pod name)
  std::chrono::seconds lease_duration{60};
};

class BackgroundAudit {
 public:
  using SnapshotFn = std::function<std::shared_ptr<const policy::Context>()>;
  using ReadyFn = std::function<bool()>;

  BackgroundAudit(const policy::Engine& engine, SnapshotFn snapshot, ReadyFn ready, KubeConfig config,
                  BackgroundAuditOptions options, LogFn log);
  ~BackgroundAudit();
  BackgroundAudit(const BackgroundAudit&) = delete;
  BackgroundAudit& operator=(const BackgroundAudit&) = delete;

  void start();
  void stop();
  // One audit now (the thread calls it; tests too).
  void run_once();

  // The last run: when, how long, findings and counts; or that none ran yet.
  std::string report_json() const;
  // Appends the wirecheck_audit_* families (Prometheus text format).
  void render_metrics(std::string& out) const;

 private:
  void run();
  // Takes or renews the Lease; true while this replica holds it.
  bool hold_lease();
  void write_reports(const std::vector<policy::Finding>& findings, std::int64_t now);
  void log(LogLevel level, std::string_view message, std::string_view detail = {}) const;

  const policy::Engine& engine_;
  SnapshotFn snapshot_;
  ReadyFn ready_;
  BackgroundAuditOptions options_;
  LogFn log_;
  std::shared_ptr<ApiClient> client_;        // lease and report writes (audit thread)
  std::shared_ptr<ProbeLookups> probe_lookups_;  // Service, EndpointSlice and CA lookups for the probes

  mutable std::mutex mutex_;  // guards the last run's results below
  policy::LintReport last_;
  std::int64_t last_run_unix_ = 0;
  double last_duration_s_ = 0;
  std::uint64_t runs_ = 0;
  std::size_t probed_ = 0, probe_failures_ = 0;
  std::size_t scrape_probed_ = 0, scrape_failures_ = 0;
  bool leader_ = false;
  std::uint64_t report_writes_ok_ = 0, report_writes_failed_ = 0, report_writes_skipped_ = 0;

  std::set<std::string> reported_namespaces_;  // audit thread only
  bool crd_missing_logged_ = false;

  bool stopping_ = false;
  std::mutex sleep_mutex_;
  std::condition_variable sleep_cv_;
  std::thread thread_;
};

}  // namespace wirecheck::cluster
