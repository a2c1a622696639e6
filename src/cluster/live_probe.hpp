// Live probe: the audit's live checks (RULES.md "Live checks"). For every
// client config the API server will call (service-backed and URL-based
// admission webhooks, CRD conversion webhooks, APIServices) it resolves
// where the call goes, connects, and does the TLS handshake the API server
// does: server name `<svc>.<ns>.svc` (URL: the URL's host; no SNI for an IP
// literal), verified against the object's own caBundle (none: this
// machine's system roots, as the API server uses its own), host names
// matched against SANs only (Go ignores the Common Name). It reports
// `webhook-endpoint-unreachable` and `webhook-tls-untrusted` with the
// OpenSSL verification error and what the server presented. A Service's
// ready addresses come from its EndpointSlices (endpoints.hpp); handshakes
// are net::TlsClient's, as the scrape probe's (scrape_probe.hpp).
//
// The two rules are registered in src/rules/live_checks.cpp for their
// metadata; the engine never runs them, because whether a server answers is
// a fact about the network, not a function of (object, context). Findings
// still pass Engine::finish (overrides, disabling, exemptions).
//
// Certainty (BRIEF: a deny must be certain): a refused connection, a
// Service without ready endpoints and a failed verification are reported at
// the rule's severity (deny for failurePolicy Fail, conversion webhooks and
// APIServices; warn for failurePolicy Ignore). A connection that only timed
// out is that severity when the audit is known to run inside the cluster's
// network (in-cluster, or another target was reached over a Service or pod
// address); otherwise it is `info` and says so, since a laptop usually
// cannot route to ClusterIPs or pod IPs.
//
// Bounded: one deadline per target (connect + handshake, default 3 s), a
// few targets at a time. Only a TLS handshake is done: no HTTP request is
// ever sent, so nothing can be redirected or changed.
//
// Thread-safety: probe_live runs its own worker threads and returns when
// they are done; the dialer and resolver are called from those threads. It
// sets SIGPIPE to ignored for the process (a server that hangs up must not
// end the audit), as `wirecheck serve` does.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "net/tls_client.hpp"
#include "wirecheck/context.hpp"
#include "wirecheck/engine.hpp"
#include "wirecheck/finding.hpp"

namespace wirecheck::cluster {

inline constexpr std::string_view kEndpointUnreachableRule = "webhook-endpoint-unreachable";
inline constexpr std::string_view kTlsUntrustedRule = "webhook-tls-untrusted";

// Where a Service sends the API server's calls, as the cluster says.
struct ServiceBackends {
  bool found = false;          // the Service exists
  std::string lookup_error;    // the lookup itself failed (forbidden, timeout): not probed
  std::string type;            // ClusterIP, NodePort, LoadBalancer, ExternalName
  std::string cluster_ip;      // "" or "None" when headless
  std::string external_name;   // ExternalName Services
  // Ready endpoint addresses for the Service port called (targetPort resolved).
  std::vector<std::pair<std::string, int>> ready;
  std::size_t not_ready = 0;   // endpoints that exist but are not ready
};
// Resolves Service `ns`/`name` for a call on Service port `port`.
using BackendResolver = std::function<ServiceBackends(const std::string& ns, const std::string& name, int port)>;

// Where a probe connects for a cluster address: that address, or in tests a
// loopback server, or a simulated failure (a timeout to a routable address
// is a fault the real network cannot produce on demand).
struct Route {
  std::string host;
  int port = 0;
  std::string fail;  // not empty: do not connect, fail with this ("connection timed out after ...")
};
using Router = std::function<Route(const std::string& host, int port)>;

struct ProbeOptions {
  std::chrono::milliseconds timeout{3000};  // per target: connect + handshake
  std::size_t concurrency = 4;
  Router route;  // empty: connect where the cluster says
  // The audit runs inside the cluster network (a pod): timeouts are real.
  bool in_cluster = false;
  // The scrape probe may read a ServiceMonitor's tlsConfig.ca from a Secret
  // (opt-in; by name, never logged). ConfigMaps are always read.
  bool read_secrets = false;
};

// One TLS handshake as a probe makes it: connect to host:port (through
// options.route) and complete the handshake with SNI `server_name` (none
// for an IP literal), whatever the server presents; verify nothing, send
// nothing after the handshake.
struct Handshake {
  bool connected = false;   // TCP connected
  bool ok = false;          // handshake completed
  bool refused = false;
  bool timed_out = false;
  std::string error;        // why not, for users
  net::Presented presented;
  std::chrono::milliseconds elapsed{0};
};
Handshake probe_handshake(const std::string& host, int port, const std::string& server_name,
                          std::chrono::milliseconds timeout, const ProbeOptions& options);

// Ignores SIGPIPE for the process once: a server that hangs up
// mid-handshake must not end the audit (`serve` does the same).
void ignore_sigpipe();

// One client config and what became of it.
struct ProbeOutcome {
  const core::Object* object = nullptr;
  std::string label;        // webhook "x" / conversion webhook / APIService
  std::string path;         // field path of the client config
  std::string target;       // "svc.ns.svc:443" or the URL
  std::string connected_to; // "10.96.0.12:443 (ClusterIP)", "" when no connection
  enum class Status { kOk, kUnreachable, kUntrusted, kNotProbed } status = Status::kNotProbed;
  std::string detail;       // why (not probed: the reason)
  policy::Severity severity = policy::Severity::kDeny;
};
std::string_view outcome_name(ProbeOutcome::Status status);  // "ok" / "unreachable" / ...

struct ProbeReport {
  std::vector<policy::Finding> findings;  // one per object and rule, after Engine::finish
  std::vector<ProbeOutcome> outcomes;     // every client config, in object order
  std::chrono::milliseconds elapsed{0};
  std::size_t count(ProbeOutcome::Status status) const;
};

// Probes every client config of the webhook configurations, CRDs and
// APIServices in `view`.
ProbeReport probe_live(const policy::Engine& engine, const policy::Context& view, const BackendResolver& resolve,
                       const ProbeOptions& options);

}  // namespace wirecheck::cluster
