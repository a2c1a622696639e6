#include "cluster/scrape_probe.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <unordered_set>

#include "net/certificate.hpp"
#include "wirecheck/ca_bundle.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using core::Kind;
using core::Object;
using Status = ScrapeOutcome::Status;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// One monitor endpoint x Service: the addresses probed and the trust.
struct Group {
  const Object* monitor = nullptr;
  std::size_t endpoint = 0;       // index into monitor endpoints
  std::string path;               // spec.endpoints[i]
  std::string port;               // the endpoint's port, as written
  std::string svc_ns, svc_name;
  std::string server_name;        // tlsConfig.serverName, "" when unset
  std::vector<net::Certificate> roots;
  bool chain_checked = false;     // a CA was read
  std::string trust;
  std::vector<std::size_t> outcomes;  // indexes into the report's outcomes
};

// One address to handshake with.
struct Task {
  std::size_t outcome = 0;
  std::size_t group = 0;
  std::string host;
  int port = 0;
  Handshake result;
};

std::vector<const Object*> selected_services(const policy::Context& view, const Object& obj,
                                             const core::Monitor& mon) {
  std::vector<const Object*> candidates;
  if (mon.namespace_any) {
    candidates = view.list_all_matching(Kind::kService, mon.selector);
  } else {
    std::unordered_set<std::string> seen;
    for (const std::string& ns : mon.target_namespaces(obj.ns())) {
      if (!seen.insert(ns).second) continue;
      auto in_ns = view.list_matching(Kind::kService, ns, mon.selector);
      candidates.insert(candidates.end(), in_ns.begin(), in_ns.end());
    }
  }
  std::vector<const Object*> out;
  for (const Object* o : candidates) {
    if (o->service() != nullptr) out.push_back(o);
  }
  std::sort(out.begin(), out.end(), [](const Object* a, const Object* b) {
    return std::tie(a->ns(), a->name()) < std::tie(b->ns(), b->name());
  });
  return out;
}

// The endpoint port Prometheus keeps for this Service, or why there is none.
bool port_match(const core::MonitorEndpoint& ep, const core::Service& svc, PortMatch& match, std::string& why) {
  if (!ep.port.empty()) {
    if (svc.port_named(ep.port) == nullptr) {
      why = "the Service has no port named " + std::string(ep.port);
      return false;
    }
    match.name = std::string(ep.port);
    return true;
  }
  if (ep.target_port.set && ep.target_port.is_int) {
    match.number = static_cast<int>(ep.target_port.num);
    return true;
  }
  if (ep.target_port.set) {
    for (const core::ServicePort& p : svc.ports) {
      if (p.target_port.set && !p.target_port.is_int && p.target_port.str == ep.target_port.str) {
        match.name = std::string(p.name);
        return true;
      }
    }
    why = "no Service port targets the container port named " + std::string(ep.target_port.str);
    return false;
  }
  why = "the endpoint names no port";
  return false;
}

// Where the monitor's CA comes from, read when allowed. Sets the group's
// roots, chain_checked and trust.
void read_trust(const Object& obj, const core::TlsConfig& tls, const ScrapeSources& sources, Group& g) {
  CaReference ref;
  ref.ns = obj.ns();
  if (!tls.ca.configmap_name.empty()) {
    ref.kind = CaReference::Kind::kConfigMap;
    ref.name = std::string(tls.ca.configmap_name);
    ref.key = std::string(tls.ca.configmap_key);
  } else if (!tls.ca.secret_name.empty()) {
    ref.kind = CaReference::Kind::kSecret;
    ref.name = std::string(tls.ca.secret_name);
    ref.key = std::string(tls.ca.secret_key);
  } else if (!tls.ca_file.empty()) {
    g.trust = "caFile " + std::string(tls.ca_file) + " is a file in the Prometheus pod: chain not checked, "
              "name and validity only";
    return;
  } else {
    g.trust = "no tlsConfig.ca (Prometheus uses its image's system roots): chain not checked, name and validity only";
    return;
  }
  const std::string what = std::string(ref.kind == CaReference::Kind::kSecret ? "Secret " : "ConfigMap ") +
                           ref.ns + "/" + ref.name + " key " + ref.key;
  if (!sources.ca_pem) {
    g.trust = what + " not read: chain not checked, name and validity only";
    return;
  }
  auto pem = sources.ca_pem(ref);
  if (!pem) {
    g.trust = pem.error() + ": chain not checked, name and validity only";
    return;
  }
  g.roots = net::Certificate::parse_pem(*pem);
  if (g.roots.empty()) {
    // The operator loads it and Prometheus trusts nothing: every chain fails.
    g.trust = what + " (holds no PEM certificate)";
  } else {
    g.trust = what;
  }
  g.chain_checked = true;
}

// A serverName the served leaf covers, preferring the Service's own names.
std::string covered_server_name(const net::Certificate& leaf, const Group& g) {
  const std::string& s = g.svc_name;
  const std::string& ns = g.svc_ns;
  for (const std::string& name : {s + "." + ns + ".svc", s + "." + ns + ".svc.cluster.local", s + "." + ns, s}) {
    if (net::check_name(leaf, name).ok()) return name;
  }
  for (const std::string& dns : leaf.dns_names()) {
    if (dns.rfind("*.", 0) == 0) {
      const std::string concrete = s + dns.substr(1);
      if (net::check_name(leaf, concrete).ok()) return concrete;
    } else if (dns.find('*') == std::string::npos && !dns.empty()) {
      return dns;
    }
  }
  return "";
}

struct Verdict {
  net::CertCheck name;
  net::CertCheck validity;
  net::CertCheck chain;
};

Verdict judge(const Group& g, const Task& t, std::int64_t now) {
  Verdict v;
  const net::Certificate* leaf = t.result.presented.leaf();
  if (leaf == nullptr) {
    v.chain.failure = net::TlsFailure::kUnknownAuthority;
    v.chain.error = "the server presented no certificate";
    return v;
  }
  v.name = net::check_name(*leaf, g.server_name.empty() ? t.host : g.server_name);
  v.validity = net::check_validity(*leaf, now);
  if (g.chain_checked) v.chain = net::verify_chain(t.result.presented.chain, g.roots, now);
  return v;
}

std::string served_text(const net::Certificate& leaf) {
  const std::vector<std::string> sans = leaf.sans();
  return "served: subject " + (leaf.subject().empty() ? std::string("(empty)") : leaf.subject()) + ", SANs " +
         (sans.empty() ? std::string("none (Go ignores the Common Name)") : join(sans)) + ", issuer " +
         leaf.issuer() + ", notAfter " + net::rfc3339(leaf.not_after());
}

std::string target_text(const Group& g, const std::vector<std::string>& addresses, std::size_t probed) {
  std::string out = "endpoint port " + g.port + " of Service " + g.svc_ns + "/" + g.svc_name + " at " +
                    addresses.front();
  if (addresses.size() > 1) out += " (and " + join({addresses.begin() + 1, addresses.end()}) + ")";
  if (probed > addresses.size()) out += ", " + std::to_string(addresses.size()) + " of " +
                                       std::to_string(probed) + " addresses probed";
  return out;
}

}  // namespace

std::string_view scrape_status_name(Status status) {
  switch (status) {
    case Status::kOk:
      return "ok";
    case Status::kNameMismatch:
      return "name-mismatch";
    case Status::kUntrusted:
      return "untrusted";
    case Status::kBoth:
      return "name-mismatch+untrusted";
    case Status::kUnreachable:
      return "unreachable";
    case Status::kNotProbed:
      return "not probed";
  }
  return "";
}

std::size_t ScrapeReport::count(Status status) const {
  return static_cast<std::size_t>(
      std::count_if(outcomes.begin(), outcomes.end(), [&](const ScrapeOutcome& o) { return o.status == status; }));
}

ScrapeReport probe_scrape_tls(const policy::Engine& engine, const policy::Context& view,
                              const ScrapeSources& sources, const ProbeOptions& options) {
  ignore_sigpipe();
  const Clock::time_point start = Clock::now();
  ScrapeReport report;
  if (!view.knows(Kind::kServiceMonitor) || !view.knows(Kind::kService)) return report;
  std::vector<Group> groups;
  std::vector<Task> tasks;

  for (const Object* obj : view.list_all(Kind::kServiceMonitor)) {
    const core::Monitor* mon = obj->monitor();
    if (mon == nullptr || mon->pod_monitor) continue;
    std::vector<const Object*> services;
    bool services_read = false;
    for (const core::MonitorEndpoint& ep : mon->endpoints) {
      if (!iequals(ep.scheme, "https")) continue;
      const std::string path = std::string(mon->endpoints_path()) + "[" + std::to_string(ep.index) + "]";
      auto not_probed = [&](std::string service, std::string why) {
        ScrapeOutcome o;
        o.monitor = obj;
        o.path = path;
        o.service = std::move(service);
        o.detail = std::move(why);
        report.outcomes.push_back(std::move(o));
      };
      if (ep.tls.insecure_skip_verify) {
        not_probed("", "insecureSkipVerify: Prometheus verifies nothing");
        continue;
      }
      if (ep.relabels_address) {
        not_probed("", "a relabeling rewrites __address__: the scrape address is not the endpoint's");
        continue;
      }
      if (!services_read) {
        services = selected_services(view, *obj, *mon);
        services_read = true;
      }
      if (services.empty()) not_probed("", "the monitor selects no Service");
      for (const Object* svc : services) {
        const std::string svc_text = svc->ns() + "/" + svc->name();
        PortMatch match;
        std::string why;
        if (!port_match(ep, *svc->service(), match, why)) {
          not_probed(svc_text, why);
          continue;
        }
        Group g;
        g.monitor = obj;
        g.endpoint = ep.index;
        g.path = path;
        g.port = ep.port.empty() ? ep.target_port.to_string() : std::string(ep.port);
        g.svc_ns = svc->ns();
        g.svc_name = svc->name();
        g.server_name = std::string(ep.tls.server_name);
        const EndpointAddresses eps = sources.endpoints ? sources.endpoints(g.svc_ns, g.svc_name, match)
                                                        : EndpointAddresses{"no endpoint source", {}, 0, ""};
        if (!eps.lookup_error.empty()) {
          not_probed(svc_text, "endpoints could not be read: " + eps.lookup_error);
          continue;
        }
        if (eps.ready.empty()) {
          not_probed(svc_text, "no ready addresses for port " + g.port +
                                   (eps.not_ready > 0 ? " (" + std::to_string(eps.not_ready) + " not ready)"
                                                      : std::string()) +
                                   (eps.source.empty() ? "" : " in " + eps.source));
          continue;
        }
        read_trust(*obj, ep.tls, sources, g);
        const std::size_t gi = groups.size();
        for (std::size_t i = 0; i < eps.ready.size() && i < kMaxAddresses; ++i) {
          ScrapeOutcome o;
          o.monitor = obj;
          o.path = path;
          o.service = svc_text;
          o.address = eps.ready[i].first + ":" + std::to_string(eps.ready[i].second);
          o.verified_name = g.server_name.empty() ? eps.ready[i].first : g.server_name;
          o.trust = g.trust;
          if (eps.ready.size() > kMaxAddresses && i + 1 == kMaxAddresses) {
            o.detail = std::to_string(eps.ready.size() - kMaxAddresses) + " more ready addresses not probed";
          }
          g.outcomes.push_back(report.outcomes.size());
          Task t;
          t.outcome = report.outcomes.size();
          t.group = gi;
          t.host = eps.ready[i].first;
          t.port = eps.ready[i].second;
          tasks.push_back(std::move(t));
          report.outcomes.push_back(std::move(o));
        }
        groups.push_back(std::move(g));
      }
    }
  }

  // Handshakes, a few at a time.
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < tasks.size(); i = next++) {
      Task& t = tasks[i];
      t.result = probe_handshake(t.host, t.port, groups[t.group].server_name, options.timeout, options);
    }
  };
  const std::size_t workers = std::max<std::size_t>(1, std::min(options.concurrency, tasks.size()));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();
  for (std::thread& th : threads) th.join();

  // Verdicts per address, findings per monitor endpoint x Service.
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::map<std::pair<const Object*, std::string_view>, std::vector<policy::RawFinding>> raw;
  std::vector<std::pair<const Object*, std::string_view>> order;
  auto add = [&](const Object* obj, std::string_view rule, policy::RawFinding f) {
    const auto key = std::make_pair(obj, rule);
    if (raw.find(key) == raw.end()) order.push_back(key);
    raw[key].push_back(std::move(f));
  };
  std::vector<std::vector<const Task*>> by_group(groups.size());
  for (const Task& t : tasks) by_group[t.group].push_back(&t);

  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& g = groups[gi];
    std::vector<std::string> name_failed, trust_failed;
    const Task* first_name = nullptr;
    const Task* first_trust = nullptr;
    Verdict name_verdict, trust_verdict;
    std::size_t probed = 0;
    for (const Task* t : by_group[gi]) {
      ScrapeOutcome& o = report.outcomes[t->outcome];
      o.elapsed = t->result.elapsed;
      report.slowest = std::max(report.slowest, t->result.elapsed);
      if (!t->result.ok) {
        o.status = Status::kUnreachable;
        o.detail = t->result.connected ? t->result.error : "cannot connect: " + t->result.error;
        continue;
      }
      ++probed;
      const Verdict v = judge(g, *t, now);
      const bool name_bad = !v.name.ok();
      const bool trust_bad = !v.validity.ok() || !v.chain.ok();
      // In the order Go checks them: the first is the error Prometheus logs.
      std::vector<std::string> classes;
      for (const net::CertCheck* c : {&v.validity, &v.name, &v.chain}) {
        if (!c->ok()) classes.emplace_back(net::failure_class(c->failure));
      }
      o.failure = join(classes, ",");
      o.status = name_bad && trust_bad ? Status::kBoth
                 : name_bad            ? Status::kNameMismatch
                 : trust_bad           ? Status::kUntrusted
                                       : Status::kOk;
      const net::Certificate* leaf = t->result.presented.leaf();
      o.detail = leaf != nullptr ? served_text(*leaf) : "no certificate";
      if (name_bad) {
        name_failed.push_back(o.address);
        if (first_name == nullptr) {
          first_name = t;
          name_verdict = v;
        }
      }
      if (trust_bad) {
        trust_failed.push_back(o.address);
        if (first_trust == nullptr) {
          first_trust = t;
          trust_verdict = v;
        }
      }
    }
    const std::string field = g.path + ".tlsConfig.serverName";
    if (first_name != nullptr) {
      const net::Certificate& leaf = *first_name->result.presented.leaf();
      const std::vector<std::string> sans = leaf.sans();
      policy::RawFinding f;
      f.severity = policy::Severity::kDeny;
      f.path = g.path;
      f.message = target_text(g, name_failed, probed) + ": Prometheus verifies " +
                  (g.server_name.empty() ? first_name->host + " (no serverName, so the target's IP)"
                                         : g.server_name + " (serverName)") +
                  " and fails with \"" + name_verdict.name.error + "\" [" +
                  std::string(net::failure_class(name_verdict.name.failure)) + "]; SANs served: " +
                  (sans.empty() ? std::string("none") : join(sans));
      const std::string covered = covered_server_name(leaf, g);
      const std::string own = g.svc_name + "." + g.svc_ns + ".svc";
      if (!covered.empty()) {
        f.fix = "set " + field + ": " + covered + " (the served certificate covers it)";
      } else {
        f.fix = "reissue the serving certificate with SAN DNS:" + own + " and set " + field + ": " + own +
                " (an IP SAN would have to follow every pod IP)";
      }
      add(g.monitor, kScrapeTlsNameMismatchRule, std::move(f));
    }
    if (first_trust != nullptr) {
      const net::Certificate& leaf = *first_trust->result.presented.leaf();
      std::vector<std::string> errors, fixes;
      if (!trust_verdict.validity.ok()) {
        errors.push_back("\"" + trust_verdict.validity.error + "\" [expired]");
        fixes.push_back(leaf.not_before() > now
                            ? "the certificate is valid only from " + net::rfc3339(leaf.not_before()) +
                                  ": check the issuer's and the server's clocks, or reissue it"
                            : "renew the serving certificate (notAfter " + net::rfc3339(leaf.not_after()) +
                                  ") and make the server load it");
      }
      if (!trust_verdict.chain.ok()) {
        errors.push_back("\"" + trust_verdict.chain.error + "\" [" +
                         std::string(net::failure_class(trust_verdict.chain.failure)) + "] against " + g.trust);
        switch (trust_verdict.chain.failure) {
          case net::TlsFailure::kUnknownAuthority:
            fixes.push_back("put the CA that issued the served certificate (issuer " + leaf.issuer() + ") into " +
                            g.trust + ", or serve a certificate issued by the CA there");
            break;
          case net::TlsFailure::kExpired:
            fixes.push_back("renew the CA certificate outside its validity period (in " + g.trust +
                            ", or an intermediate the server sends) and reissue what it signed");
            break;
          default:
            fixes.push_back("check the served chain against the CA in " + g.trust);
            break;
        }
      }
      policy::RawFinding f;
      f.severity = policy::Severity::kDeny;
      f.path = g.path;
      f.message = target_text(g, trust_failed, probed) + ": Prometheus fails with " + join(errors, " and ") +
                  "; " + served_text(leaf);
      if (!g.chain_checked) f.message += " (" + g.trust + ")";
      f.fix = join(fixes, "; and ");
      add(g.monitor, kScrapeTlsUntrustedRule, std::move(f));
    }
  }
  for (const auto& key : order) {
    const policy::RuleSpec* spec = policy::Registry::find(key.second);
    if (spec == nullptr) continue;
    for (policy::Finding& f : engine.finish(*spec, *key.first, std::move(raw[key]))) {
      report.findings.push_back(std::move(f));
    }
  }
  report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return report;
}

}  // namespace wirecheck::cluster
