#include "cluster/background_audit.hpp"

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "cluster/api_source.hpp"
#include "cluster/audit.hpp"
#include "cluster/lister.hpp"
#include "cluster/policy_report.hpp"
#include "wirecheck/ca_bundle.hpp"

namespace wirecheck::cluster {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// metav1.MicroTime, as Leases carry it.
std::string micro_time(std::int64_t unix_seconds) {
  std::string t = core::format_unix_time(unix_seconds);  // ...SSZ
  return t.substr(0, t.size() - 1) + ".000000Z";
}

// Seconds of a MicroTime / Time text; 0 when unreadable.
std::int64_t parse_time(const std::string& text) {
  std::tm tm{};
  if (text.size() < 19 || strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string label_value(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

BackgroundAudit::BackgroundAudit(const policy::Engine& engine, SnapshotFn snapshot, ReadyFn ready, KubeConfig config,
                                 BackgroundAuditOptions options, LogFn log)
    : engine_(engine),
      snapshot_(std::move(snapshot)),
      ready_(std::move(ready)),
      options_(std::move(options)),
      log_(std::move(log)),
      client_(std::make_shared<ApiClient>(config)),
      probe_lookups_(std::make_shared<ProbeLookups>(std::make_shared<ApiClient>(config),
                                                    options_.probe_options.read_secrets)) {}

BackgroundAudit::~BackgroundAudit() { stop(); }

void BackgroundAudit::log(LogLevel level, std::string_view message, std::string_view detail) const {
  if (log_) log_(level, message, core::Kind::kOther, detail);
}

void BackgroundAudit::start() {
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void BackgroundAudit::stop() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stopping_ = true;
  }
  sleep_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackgroundAudit::run() {
  // The Lease is renewed well within its duration; audits run on their own
  // interval, the first as soon as the cache has synced.
  const auto tick = std::min<std::chrono::milliseconds>(options_.interval, options_.lease_duration / 3);
  auto next_audit = Clock::now();
  for (;;) {
    if (options_.policy_reports) {
      const bool leader = hold_lease();
      std::lock_guard<std::mutex> lock(mutex_);
      if (leader != leader_) {
        log(LogLevel::kInfo, leader ? "this replica now writes the policy reports"
                                    : "another replica writes the policy reports");
      }
      leader_ = leader;
    }
    if (Clock::now() >= next_audit && ready_()) {
      run_once();
      next_audit = Clock::now() + options_.interval;
    }
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    const auto wait = ready_() ? std::min<Clock::duration>(tick, next_audit - Clock::now())
                               : std::chrono::milliseconds(500);
    if (sleep_cv_.wait_for(lock, std::max<Clock::duration>(wait, std::chrono::milliseconds(50)),
                           [this] { return stopping_; })) {
      return;
    }
  }
}

void BackgroundAudit::run_once() {
  const auto started = Clock::now();
  const std::shared_ptr<const policy::Context> snapshot = snapshot_();
  const CompleteView view(*snapshot);
  policy::LintReport report = audit_view(engine_, view);
  std::size_t probed = 0, probe_failures = 0, scrape_probed = 0, scrape_failures = 0;
  if (options_.probe) {
    const ProbeReport live = probe_live(engine_, view, api_backend_resolver(probe_lookups_), options_.probe_options);
    probed = live.outcomes.size();
    probe_failures = live.count(ProbeOutcome::Status::kUnreachable) + live.count(ProbeOutcome::Status::kUntrusted);
    for (const policy::Finding& f : live.findings) report.findings.push_back(f);
    const ScrapeReport scrape =
        probe_scrape_tls(engine_, view, api_scrape_sources(probe_lookups_), options_.probe_options);
    for (const ScrapeOutcome& o : scrape.outcomes) {
      if (o.address.empty()) continue;
      ++scrape_probed;
      if (o.status != ScrapeOutcome::Status::kOk && o.status != ScrapeOutcome::Status::kUnreachable) ++scrape_failures;
    }
    for (const policy::Finding& f : scrape.findings) report.findings.push_back(f);
    report.summary = policy::summarize(report.findings, report.summary.objects);
  }
  const std::int64_t now = now_unix();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  bool leader = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    last_ = report;
    last_run_unix_ = now;
    last_duration_s_ = seconds;
    probed_ = probed;
    probe_failures_ = probe_failures;
    scrape_probed_ = scrape_probed;
    scrape_failures_ = scrape_failures;
    ++runs_;
    leader = leader_;
  }
  log(LogLevel::kInfo, "audit finished",
      std::to_string(report.summary.objects) + " objects: " + std::to_string(report.summary.deny) + " deny, " +
          std::to_string(report.summary.warn) + " warn, " + std::to_string(report.summary.info) + " info" +
          (options_.probe ? ", " + std::to_string(probed) + " client configs and " + std::to_string(scrape_probed) +
                                " scrape targets probed"
                          : std::string()) + " in " +
          std::to_string(static_cast<int>(seconds * 1000)) + " ms");
  if (options_.policy_reports && leader) write_reports(report.findings, now);
}

bool BackgroundAudit::hold_lease() {
  const std::string base = "/apis/coordination.k8s.io/v1/namespaces/" + url_escape(options_.lease_namespace) +
                           "/leases";
  const std::int64_t now = now_unix();
  auto got = client_->get(base + "/" + url_escape(options_.lease_name));
  if (!got) {
    log(LogLevel::kWarn, "cannot read the Lease", got.error());
    return false;
  }
  json lease;
  if (got->status == 404) {
    lease = {{"apiVersion", "coordination.k8s.io/v1"},
             {"kind", "Lease"},
             {"metadata", {{"name", options_.lease_name}, {"namespace", options_.lease_namespace}}},
             {"spec", json::object()}};
  } else if (got->status == 200) {
    lease = json::parse(got->body, nullptr, false);
    if (lease.is_discarded() || !lease.is_object()) return false;
    const json& spec = lease.value("spec", json::object());
    const std::string holder = spec.value("holderIdentity", "");
    const std::int64_t renewed = parse_time(spec.value("renewTime", ""));
    const std::int64_t duration = spec.value("leaseDurationSeconds", 0);
    // Another replica holds a lease that has not run out.
    if (!holder.empty() && holder != options_.identity && renewed + duration > now) return false;
  } else {
    log(LogLevel::kWarn, "cannot read the Lease", "HTTP " + std::to_string(got->status));
    return false;
  }
  json& spec = lease["spec"];
  if (spec.value("holderIdentity", "") != options_.identity) {
    spec["acquireTime"] = micro_time(now);
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + (spec.contains("holderIdentity") ? 1 : 0);
  }
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = options_.lease_duration.count();
  spec["renewTime"] = micro_time(now);
  // Create, or update at the resourceVersion read: of two replicas racing,
  // the API server lets exactly one through (409 for the other).
  auto put = got->status == 404 ? client_->send("POST", base, lease.dump())
                                : client_->send("PUT", base + "/" + url_escape(options_.lease_name), lease.dump());
  if (!put) {
    log(LogLevel::kWarn, "cannot write the Lease", put.error());
    return false;
  }
  if (put->status != 200 && put->status != 201) {
    if (put->status != 409) {
      log(LogLevel::kWarn, "cannot write the Lease", "HTTP " + std::to_string(put->status) + ": " +
                                                                  put->body.substr(0, 200));
    }
    return false;
  }
  return true;
}

void BackgroundAudit::write_reports(const std::vector<policy::Finding>& findings, std::int64_t now) {
  auto served = client_->get(std::string("/apis/") + kPolicyReportApiVersion);
  if (!served || served->status != 200) {
    if (!crd_missing_logged_) {
      log(LogLevel::kWarn, "PolicyReport CRD not installed (wgpolicyk8s.io/v1alpha2): reports not written",
          served ? "HTTP " + std::to_string(served->status) : served.error());
      crd_missing_logged_ = true;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ++report_writes_skipped_;
    return;
  }
  crd_missing_logged_ = false;
  const std::vector<std::string> previous(reported_namespaces_.begin(), reported_namespaces_.end());
  std::set<std::string> written;
  std::uint64_t ok = 0, failed = 0;
  for (const json& report : policy_reports(findings, now, previous, true)) {
    const json& meta = report["metadata"];
    const std::string ns = meta.value("namespace", "");
    const std::string path = std::string("/apis/") + kPolicyReportApiVersion +
                             (ns.empty() ? "/clusterpolicyreports/" : "/namespaces/" + url_escape(ns) + "/policyreports/") +
                             kPolicyReportName + "?fieldManager=wirecheck&force=true";
    auto res = client_->send("PATCH", path, report.dump(), "application/apply-patch+yaml");
    if (res && (res->status == 200 || res->status == 201)) {
      ++ok;
      if (!ns.empty() && !report["results"].empty()) written.insert(ns);
    } else {
      ++failed;
      // A namespace being deleted refuses new objects: not worth more than a log line.
      log(LogLevel::kWarn, "cannot write a policy report",
          (ns.empty() ? std::string("ClusterPolicyReport") : "PolicyReport in " + ns) + ": " +
              (res ? "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 200) : res.error()));
    }
  }
  reported_namespaces_ = std::move(written);
  std::lock_guard<std::mutex> lock(mutex_);
  report_writes_ok_ += ok;
  report_writes_failed_ += failed;
}

std::string BackgroundAudit::report_json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (runs_ == 0) {
    return json{{"lastRun", nullptr}, {"message", "no audit has run yet (waiting for the cluster cache to sync)"}}
               .dump(2) + "\n";
  }
  json findings = json::array();
  for (const policy::Finding& f : last_.findings) {
    json j = {{"rule", f.rule},
              {"severity", policy::severity_name(f.severity)},
              {"object",
               {{"apiVersion", f.object.api_version}, {"kind", f.object.kind}, {"namespace", f.object.ns},
                {"name", f.object.name}}},
              {"path", f.path},
              {"message", f.message},
              {"fix", f.fix},
              {"exempted", f.exempted}};
    if (f.exempted) j["exemptionReason"] = f.exemption_reason;
    findings.push_back(std::move(j));
  }
  const auto& s = last_.summary;
  json out = {{"lastRun", core::format_unix_time(last_run_unix_)},
              {"durationSeconds", last_duration_s_},
              {"leader", leader_},
              {"summary",
               {{"objects", s.objects}, {"deny", s.deny}, {"warn", s.warn}, {"info", s.info}, {"exempted", s.exempted}}},
              {"findings", std::move(findings)}};
  if (options_.probe) {
    out["probe"] = {{"clientConfigs", probed_},
                    {"failing", probe_failures_},
                    {"scrapeTargets", scrape_probed_},
                    {"scrapeTargetsFailing", scrape_failures_}};
  }
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

void BackgroundAudit::render_metrics(std::string& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, std::size_t> violations;
  for (const policy::Finding& f : last_.findings) {
    if (f.exempted) continue;
    violations["rule=\"" + label_value(f.rule) + "\",severity=\"" + std::string(policy::severity_name(f.severity)) +
               "\",namespace=\"" + label_value(f.object.ns) + "\""]++;
  }
  out += "# HELP wirecheck_audit_violations Findings of this replica's last background audit (exempted ones "
         "excluded; namespace \"\" for cluster-scoped objects).\n# TYPE wirecheck_audit_violations gauge\n";
  for (const auto& [labels, n] : violations) out += "wirecheck_audit_violations{" + labels + "} " + std::to_string(n) + "\n";
  out += "# HELP wirecheck_audit_runs_total Background audits completed.\n# TYPE wirecheck_audit_runs_total counter\n";
  out += "wirecheck_audit_runs_total " + std::to_string(runs_) + "\n";
  out += "# HELP wirecheck_audit_last_run_timestamp_seconds When the last background audit finished (0: none yet).\n"
         "# TYPE wirecheck_audit_last_run_timestamp_seconds gauge\n";
  out += "wirecheck_audit_last_run_timestamp_seconds " + std::to_string(last_run_unix_) + "\n";
  out += "# HELP wirecheck_audit_duration_seconds How long the last background audit took.\n"
         "# TYPE wirecheck_audit_duration_seconds gauge\n";
  out += "wirecheck_audit_duration_seconds " + std::to_string(last_duration_s_) + "\n";
  out += "# HELP wirecheck_audit_objects Objects the last background audit checked.\n"
         "# TYPE wirecheck_audit_objects gauge\n";
  out += "wirecheck_audit_objects " + std::to_string(last_.summary.objects) + "\n";
  if (options_.policy_reports) {
    out += "# HELP wirecheck_audit_leader 1 while this replica holds the Lease and writes the policy reports.\n"
           "# TYPE wirecheck_audit_leader gauge\n";
    out += "wirecheck_audit_leader " + std::string(leader_ ? "1" : "0") + "\n";
    out += "# HELP wirecheck_audit_policy_report_writes_total Policy report writes by result (skipped: CRD not "
           "installed).\n# TYPE wirecheck_audit_policy_report_writes_total counter\n";
    out += "wirecheck_audit_policy_report_writes_total{result=\"ok\"} " + std::to_string(report_writes_ok_) + "\n";
    out += "wirecheck_audit_policy_report_writes_total{result=\"error\"} " + std::to_string(report_writes_failed_) + "\n";
    out += "wirecheck_audit_policy_report_writes_total{result=\"skipped\"} " + std::to_string(report_writes_skipped_) +
           "\n";
  }
}

}  // namespace wirecheck::cluster
