// Scrape probe: the TLS of a Prometheus scrape, as Prometheus sees it (the
// live links of RULES.md "The scrape chain"). For every https endpoint of
// every ServiceMonitor it takes the selected Services (selector and
// namespaceSelector, as the operator applies them), the Service port the
// endpoint names, and the ready addresses of that port in the Service's
// EndpointSlices; it connects to a few of them and does the handshake
// Prometheus does: SNI `tlsConfig.serverName` when set (none otherwise, the
// target is an IP), and judges the served leaf with Go's rules (see
// net/certificate.hpp) for the name Prometheus verifies: `serverName` when
// set, else the target's IP, which only an IP SAN covers. It reports:
//
//   scrape-tls-name-mismatch  the leaf does not cover that name; the fix is
//                             a serverName the served SANs cover
//   scrape-tls-untrusted      the chain does not verify against the
//                             monitor's CA (when readable: a ConfigMap; a
//                             Secret only when the user allowed it), or the
//                             leaf or a CA certificate in the chain is
//                             expired or not yet valid
//
// Without a readable CA only the name and the validity are checked, and the
// outcome says so. `insecureSkipVerify: true` endpoints are not checked
// (Prometheus checks nothing). Unreachable targets and servers that do not
// speak TLS are outcomes, not findings: other rules own those links.
//
// Bounded as the webhook probe: one deadline per address (connect +
// handshake), a few targets at a time, at most kMaxAddresses addresses per
// Service port. Nothing is sent after the handshake: no scrape, and never a
// credential. Findings pass Engine::finish (overrides, exemptions).
//
// Thread-safety: as probe_live (own workers; sources called from them).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "cluster/endpoints.hpp"
#include "cluster/live_probe.hpp"
#include "wirecheck/result.hpp"

namespace wirecheck::cluster {

inline constexpr std::string_view kScrapeTlsNameMismatchRule = "scrape-tls-name-mismatch";
inline constexpr std::string_view kScrapeTlsUntrustedRule = "scrape-tls-untrusted";

// The CA a monitor endpoint names in tlsConfig.ca.
struct CaReference {
  enum class Kind { kConfigMap, kSecret } kind = Kind::kConfigMap;
  std::string ns;
  std::string name;
  std::string key;
};

struct ScrapeSources {
  // Ready addresses behind `port` of Service `ns`/`name`.
  std::function<EndpointAddresses(const std::string& ns, const std::string& name, const PortMatch& port)> endpoints;
  // The PEM the reference holds, or why it cannot be read. Never logged.
  std::function<core::Result<std::string>(const CaReference& ref)> ca_pem;
};

// One scrape target (monitor endpoint x Service x address) and its verdict.
struct ScrapeOutcome {
  const core::Object* monitor = nullptr;
  std::string path;      // "spec.endpoints[0]"
  std::string service;   // "ns/name"
  std::string address;   // "10.0.3.7:8443", "" when none was probed
  std::string verified_name;  // what Prometheus verifies: serverName or the IP
  enum class Status { kOk, kNameMismatch, kUntrusted, kBoth, kUnreachable, kNotProbed } status = Status::kNotProbed;
  std::string failure;   // failure classes in the order Go checks them (the first is the error
                         // Prometheus logs): "ip-sans", "expired,unknown-authority", ...
  std::string trust;     // "ConfigMap ns/name key ca.crt", or why the chain was not checked
  std::string detail;    // what was seen, or why it was not probed
  std::chrono::milliseconds elapsed{0};  // this address: connect + handshake
};
std::string_view scrape_status_name(ScrapeOutcome::Status status);  // "ok", "name-mismatch", ...

struct ScrapeReport {
  std::vector<policy::Finding> findings;  // one per monitor and rule, after Engine::finish
  std::vector<ScrapeOutcome> outcomes;    // monitor, endpoint, Service, address order
  std::chrono::milliseconds elapsed{0};
  std::chrono::milliseconds slowest{0};   // the slowest single address
  std::size_t count(ScrapeOutcome::Status status) const;
};

// Addresses probed per Service port: enough to tell a bad certificate from a
// bad pod, without touching every pod of a large DaemonSet.
inline constexpr std::size_t kMaxAddresses = 3;

// Probes every https endpoint of the ServiceMonitors in `view`.
ScrapeReport probe_scrape_tls(const policy::Engine& engine, const policy::Context& view,
                              const ScrapeSources& sources, const ProbeOptions& options);

}  // namespace wirecheck::cluster
