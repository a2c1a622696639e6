#include "cluster/live_probe.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>

#include "wirecheck/ca_bundle.hpp"
#include "wirecheck/client_configs.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using policy::Severity;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// What a webhook's server presented and how it verifies for the API server.
struct TlsObservation {
  bool handshake_ok = false;
  std::string handshake_error;
  std::string subject;
  std::string issuer;
  std::vector<std::string> sans;  // "DNS:x", "IP:1.2.3.4"
  std::string not_before;
  std::string not_after;
  bool chain_ok = false;          // chain verifies against the trust (no name check)
  std::string chain_error;
  bool name_ok = false;           // the name is in the SANs
  bool verified = false;          // chain and name: what the API server decides
  std::string verify_error;       // OpenSSL's text when !verified
  std::string trust;              // "caBundle" / "system roots" / "none (insecureSkipTLSVerify)"
};

// Judges a completed handshake as the API server does: against `ca_pem`
// (empty: system roots unless `use_system_roots` is false), or not at all
// with `skip_verify` (insecureSkipTLSVerify).
TlsObservation observe(const Handshake& h, const std::string& server_name, const std::string& ca_pem,
                       bool use_system_roots, bool skip_verify) {
  TlsObservation obs;
  obs.handshake_ok = h.ok;
  obs.handshake_error = h.error;
  if (!h.ok) return obs;
  const std::vector<net::Certificate>& chain = h.presented.chain;
  if (chain.empty()) {
    obs.verify_error = "the server presented no certificate";
    return obs;
  }
  const net::Certificate& leaf = chain.front();
  obs.subject = leaf.subject();
  obs.issuer = leaf.issuer();
  obs.sans = leaf.sans();
  obs.not_before = core::format_unix_time(leaf.not_before());
  obs.not_after = core::format_unix_time(leaf.not_after());
  obs.name_ok = net::check_name(leaf, server_name).ok();
  if (skip_verify) {
    obs.trust = "none (insecureSkipTLSVerify)";
    obs.chain_ok = obs.verified = true;
    return obs;
  }
  const bool system = ca_pem.empty() && use_system_roots;
  obs.trust = system ? "system roots" : "caBundle";
  // An unusable caBundle trusts nothing, as the API server's would.
  const std::vector<net::Certificate> roots = net::Certificate::parse_pem(ca_pem);
  obs.chain_error = net::openssl_verify(chain, roots, "", system);
  obs.chain_ok = obs.chain_error.empty();
  obs.verify_error = net::openssl_verify(chain, roots, server_name, system);
  obs.verified = obs.verify_error.empty();
  return obs;
}

}  // namespace

void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

Handshake probe_handshake(const std::string& host, int port, const std::string& server_name,
                          std::chrono::milliseconds timeout, const ProbeOptions& options) {
  const Clock::time_point start = Clock::now();
  Handshake out;
  net::TlsClientOptions o;
  o.host = host;
  o.port = port;
  if (options.route) {
    Route r = options.route(host, port);
    if (!r.fail.empty()) {
      out.error = r.fail;
      out.timed_out = r.fail.find("timed out") != std::string::npos;
      out.refused = r.fail.find("refused") != std::string::npos;
      out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
      return out;
    }
    o.host = r.host;
    o.port = r.port;
  }
  o.server_name = server_name.empty() ? host : server_name;
  o.verify = false;
  o.timeout = timeout;
  net::TlsClient client(o);
  out.ok = client.connect();
  out.connected = out.ok || client.failed_stage() != net::TlsClient::Stage::kConnect;
  if (!out.ok) {
    out.error = client.error();
    out.refused = client.refused();
    out.timed_out = client.timed_out();
  }
  out.presented = client.presented();
  client.close();
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return out;
}

std::string_view outcome_name(ProbeOutcome::Status status) {
  switch (status) {
    case ProbeOutcome::Status::kOk:
      return "ok";
    case ProbeOutcome::Status::kUnreachable:
      return "unreachable";
    case ProbeOutcome::Status::kUntrusted:
      return "untrusted";
    case ProbeOutcome::Status::kNotProbed:
      return "not probed";
  }
  return "";
}

std::size_t ProbeReport::count(ProbeOutcome::Status status) const {
  return static_cast<std::size_t>(
      std::count_if(outcomes.begin(), outcomes.end(), [&](const ProbeOutcome& o) { return o.status == status; }));
}

namespace {

// One client config to probe.
struct Target {
  ProbeOutcome outcome;
  std::string server_name;  // what the API server verifies
  std::string ca_bundle;    // base64 as written
  bool insecure = false;    // APIService insecureSkipTLSVerify
  bool apiservice = false;
  const core::ServiceReference* service = nullptr;
  std::string url_host;
  int url_port = 443;
  bool timed_out_only = false;  // unreachable, and every attempt was a timeout
  bool reached_network = false; // connected to a Service or pod address
  std::string fix;              // untrusted: what to change
};

bool split_url(const std::string& url, std::string& host, int& port) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) return false;
  std::string rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  port = 443;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return false;
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
  } else {
    const auto colon = rest.rfind(':');
    host = rest.substr(0, colon);
    rest = colon == std::string::npos ? "" : rest.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':') return false;
    try {
      port = std::stoi(rest.substr(1));
    } catch (...) {
      return false;
    }
  }
  return !host.empty() && port > 0 && port < 65536;
}

std::string sans_text(const std::vector<std::string>& sans) {
  if (sans.empty()) return "none (Go ignores the Common Name)";
  std::string out;
  for (const std::string& s : sans) out += (out.empty() ? "" : ",") + s;
  return out;
}

void judge_tls(Target& t, const TlsObservation& obs) {
  ProbeOutcome& o = t.outcome;
  if (!obs.handshake_ok) {
    o.status = ProbeOutcome::Status::kUntrusted;
    o.detail = obs.handshake_error;
    return;
  }
  if (obs.verified) {
    o.status = ProbeOutcome::Status::kOk;
    o.detail = "verified against " + obs.trust + " for " + t.server_name;
    return;
  }
  o.status = ProbeOutcome::Status::kUntrusted;
  o.detail = "TLS verification for " + t.server_name + " against " + obs.trust + " fails: " + obs.verify_error +
             "; served: subject " + (obs.subject.empty() ? "(empty)" : obs.subject) + ", SANs " +
             sans_text(obs.sans) + ", notBefore " + obs.not_before + ", notAfter " + obs.not_after +
             ", issuer " + obs.issuer + "; chain " +
             (obs.chain_ok ? "verifies" : "does not verify (" + obs.chain_error + ")") + ", name " +
             t.server_name + (obs.name_ok ? " is" : " is not") + " in the SANs";
}

std::string tls_fix(const Target& t, const TlsObservation& obs) {
  if (!obs.handshake_ok) return "serve TLS on the port the " + t.outcome.label + " calls";
  std::string fix;
  const std::string err = obs.verify_error;
  if (err.find("expired") != std::string::npos) {
    fix = "renew the serving certificate (notAfter " + obs.not_after + ") and make the server load it";
  } else if (err.find("not yet valid") != std::string::npos) {
    fix = "the serving certificate is valid only from " + obs.not_before +
          ": check the issuer's and the server's clocks, or reissue it";
  } else if (!obs.chain_ok) {
    fix = "set caBundle to base64 of the CA that issued the served certificate (issuer " + obs.issuer +
          "), or serve a certificate issued by the CA in caBundle";
  }
  if (!obs.name_ok) {
    if (!fix.empty()) fix += "; and ";
    fix += "reissue the serving certificate with SAN " +
           std::string(net::is_ip_literal(t.server_name) ? "IP:" : "DNS:") + t.server_name;
  }
  return fix.empty() ? "check the serving certificate against caBundle" : fix;
}

// Handshakes with the first candidate that accepts a connection; records
// why the others failed. Each candidate but the last gets an equal share of
// the time left, so that a ClusterIP that does not route from here leaves
// time for the endpoints.
Handshake connect_any(const std::vector<std::pair<std::string, std::string>>& candidates,
                      const std::vector<int>& ports, const std::string& server_name, const ProbeOptions& options,
                      Clock::time_point deadline, std::string& used, std::string& failures, bool& all_timeouts) {
  Handshake last;
  all_timeouts = true;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& [host, what] = candidates[i];
    const int left = remaining_ms(deadline);
    if (left == 0) break;
    const int share = left / static_cast<int>(candidates.size() - i);
    Handshake h = probe_handshake(host, ports[i], server_name, std::chrono::milliseconds(std::max(share, 1)), options);
    if (h.connected) {
      used = host + ":" + std::to_string(ports[i]) + " (" + what + ")";
      return h;
    }
    if (!h.timed_out) all_timeouts = false;
    if (!failures.empty()) failures += "; ";
    failures += host + ":" + std::to_string(ports[i]) + " (" + what + "): " + h.error;
    last = std::move(h);
  }
  return last;
}

void probe_target(Target& t, const BackendResolver& resolve, const ProbeOptions& options) {
  ProbeOutcome& o = t.outcome;
  const Clock::time_point deadline = Clock::now() + options.timeout;
  std::vector<std::pair<std::string, std::string>> candidates;  // host, what
  std::vector<int> ports;
  if (t.service != nullptr) {
    const core::ServiceReference& ref = *t.service;
    const ServiceBackends b = resolve(ref.ns, ref.name, static_cast<int>(ref.port));
    if (!b.lookup_error.empty()) {
      o.detail = "Service " + ref.ns + "/" + ref.name + " could not be looked up: " + b.lookup_error;
      return;
    }
    if (!b.found) {
      o.detail = "Service " + ref.ns + "/" + ref.name + " does not exist (webhook-service-missing reports it)";
      return;
    }
    if (b.type == "ExternalName") {
      candidates.emplace_back(b.external_name, "ExternalName");
      ports.push_back(static_cast<int>(ref.port));
    } else {
      if (b.ready.empty()) {
        o.status = ProbeOutcome::Status::kUnreachable;
        o.detail = "Service " + ref.ns + "/" + ref.name + " has no ready endpoints" +
                   (b.not_ready > 0 ? " (" + std::to_string(b.not_ready) + " not ready)" : std::string());
        return;
      }
      if (!b.cluster_ip.empty() && b.cluster_ip != "None") {
        candidates.emplace_back(b.cluster_ip, "ClusterIP");
        ports.push_back(static_cast<int>(ref.port));
      }
      // A few endpoints are enough to tell a broken server from a bad one.
      for (std::size_t i = 0; i < b.ready.size() && i < 3; ++i) {
        candidates.emplace_back(b.ready[i].first, "endpoint");
        ports.push_back(b.ready[i].second);
      }
    }
  } else {
    candidates.emplace_back(t.url_host, "URL host");
    ports.push_back(t.url_port);
  }

  std::string used, failures;
  bool all_timeouts = true;
  const Handshake h =
      connect_any(candidates, ports, t.server_name, options, deadline, used, failures, all_timeouts);
  if (!h.connected) {
    o.status = ProbeOutcome::Status::kUnreachable;
    o.detail = "cannot connect to " + o.target + ": " + (failures.empty() ? h.error : failures);
    t.timed_out_only = all_timeouts;
    return;
  }
  o.connected_to = used;
  t.reached_network = t.service != nullptr;
  const bool system_roots = t.ca_bundle.empty() && !t.apiservice;
  std::string pem;
  if (!t.ca_bundle.empty()) {
    auto decoded = core::decode_base64(t.ca_bundle);
    if (decoded) pem = std::move(decoded).value();
  }
  const TlsObservation obs = observe(h, t.server_name, pem, system_roots, t.insecure);
  judge_tls(t, obs);
  if (o.status == ProbeOutcome::Status::kUntrusted) t.fix = tls_fix(t, obs);
}

std::vector<Target> targets_of(const policy::Context& view) {
  std::vector<Target> out;
  for (core::Kind kind : {core::Kind::kValidatingWebhookConfiguration, core::Kind::kMutatingWebhookConfiguration,
                          core::Kind::kCustomResourceDefinition, core::Kind::kAPIService}) {
    if (!view.knows(kind)) continue;
    for (const core::Object* object : view.list_all(kind)) {
      for (const core::ClientConfigView& v : core::client_configs(*object)) {
        Target t;
        t.outcome.object = object;
        t.outcome.label = v.label;
        t.outcome.path = v.base_path;
        t.ca_bundle = v.ca_bundle != nullptr ? *v.ca_bundle : std::string();
        t.insecure = v.insecure_skip_tls_verify;
        t.apiservice = kind == core::Kind::kAPIService;
        // Ignore only loses the webhook's effect; every other failure breaks requests.
        t.outcome.severity = v.webhook != nullptr && !v.webhook->fails_closed() ? Severity::kWarn : Severity::kDeny;
        if (v.service != nullptr) {
          if (v.service->name.empty() || v.service->ns.empty()) continue;
          t.service = v.service;
          t.server_name = core::service_dns_name(*v.service);
          t.outcome.target = t.server_name + ":" + std::to_string(v.service->port);
          t.outcome.path = v.service_path;
        } else if (v.webhook != nullptr || kind == core::Kind::kCustomResourceDefinition) {
          const std::string& url = kind == core::Kind::kCustomResourceDefinition
                                       ? object->crd()->conversion.url
                                       : v.webhook->client_config.url;
          if (url.empty()) continue;
          t.outcome.target = url;
          t.outcome.path = v.base_path + ".url";
          if (!split_url(url, t.url_host, t.url_port)) {
            t.outcome.detail = "URL " + url + " is not https://host[:port]/...";
            out.push_back(std::move(t));
            continue;
          }
          t.server_name = t.url_host;
        } else {
          continue;
        }
        out.push_back(std::move(t));
      }
    }
  }
  return out;
}

// The fix for one failing target.
std::string fix_for(const Target& t, std::string_view rule) {
  if (rule != kEndpointUnreachableRule) return t.fix;
  if (t.service == nullptr) {
    return "make the server at " + t.outcome.target +
           " reachable from the API server, or delete the configuration of a webhook that is gone";
  }
  return "make the pods behind Service " + t.service->ns + "/" + t.service->name +
         " Ready and listening on the targetPort (kubectl -n " + t.service->ns +
         " get endpointslices -l kubernetes.io/service-name=" + t.service->name +
         "), or delete the configuration of a webhook that is gone";
}

// One finding per object and rule (RULES.md): the failing entries of one
// object go to Engine::finish together, which merges them as evaluate does
// (the most severe decides, every entry's path listed).
void add_findings(const policy::Engine& engine, const std::vector<Target>& targets, bool network_confirmed,
                  std::vector<policy::Finding>& out) {
  std::map<std::pair<const core::Object*, std::string_view>, std::vector<policy::RawFinding>> groups;
  std::vector<std::pair<const core::Object*, std::string_view>> order;
  for (const Target& t : targets) {
    std::string_view rule;
    if (t.outcome.status == ProbeOutcome::Status::kUnreachable) rule = kEndpointUnreachableRule;
    if (t.outcome.status == ProbeOutcome::Status::kUntrusted) rule = kTlsUntrustedRule;
    if (rule.empty()) continue;
    auto key = std::make_pair(t.outcome.object, rule);
    if (groups.find(key) == groups.end()) order.push_back(key);
    // A timeout alone, from a network the audit cannot show it reaches, is
    // not certain: info, and say where to run it instead.
    const bool certain = !(t.timed_out_only && !network_confirmed);
    policy::RawFinding raw;
    raw.severity = certain ? t.outcome.severity : Severity::kInfo;
    raw.path = t.outcome.path;
    raw.message = t.outcome.label + " (" + t.outcome.target + "): " + t.outcome.detail;
    if (!certain) {
      raw.message += " (from where the audit runs, which may be outside the cluster network: run it in the "
                     "cluster to be sure)";
    }
    raw.fix = fix_for(t, rule);
    groups[key].push_back(std::move(raw));
  }
  for (const auto& key : order) {
    const policy::RuleSpec* spec = policy::Registry::find(key.second);
    if (spec == nullptr) continue;
    for (policy::Finding& f : engine.finish(*spec, *key.first, std::move(groups[key]))) out.push_back(std::move(f));
  }
}

}  // namespace

ProbeReport probe_live(const policy::Engine& engine, const policy::Context& view, const BackendResolver& resolve,
                       const ProbeOptions& options) {
  ignore_sigpipe();
  const Clock::time_point start = Clock::now();
  ProbeReport report;
  std::vector<Target> targets = targets_of(view);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < targets.size(); i = next++) {
      if (targets[i].outcome.detail.empty()) probe_target(targets[i], resolve, options);
    }
  };
  const std::size_t workers = std::max<std::size_t>(1, std::min(options.concurrency, targets.size()));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();
  for (std::thread& th : threads) th.join();

  bool network_confirmed = options.in_cluster;
  for (const Target& t : targets) network_confirmed = network_confirmed || t.reached_network;
  add_findings(engine, targets, network_confirmed, report.findings);
  for (Target& t : targets) report.outcomes.push_back(std::move(t.outcome));
  report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return report;
}

}  // namespace wirecheck::cluster
