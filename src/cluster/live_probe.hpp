// Live probe: the audit's live checks (RULES.md "Live checks"). For every
// client config the API server will call (service-backed and URL-based
// admission webhooks, CRD conversion webhooks, APIServices) it resolves
// where the call goes, connects, and does the TLS handshake the API server
// does: server name `<svc>.<ns>.svc` (URL: the URL's host; no SNI for an IP
// literal), verified against the object's own caBundle (none: this
// machine's system roots, as the API server uses its own), host names
// matched against SANs only (Go ignores the Common Name). It reports
// `webhook-endpoint-unreachable` and `webhook-tls-untrusted` with the
// OpenSSL verification error and what the server presented.
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

struct DialResult {
  int fd = -1;                 // connected socket (the caller closes it), -1 on failure
  std::string error;           // "connection refused", "timed out after 3000 ms", ...
  bool refused = false;        // the host answered: nothing listens there
};
// Opens a TCP connection to host:port within `timeout`. Tests replace it to
// point every address at their loopback servers.
using Dialer = std::function<DialResult(const std::string& host, int port, std::chrono::milliseconds timeout)>;
// The real one: getaddrinfo + non-blocking connect bounded by `timeout`.
DialResult dial_tcp(const std::string& host, int port, std::chrono::milliseconds timeout);

struct ProbeOptions {
  std::chrono::milliseconds timeout{3000};  // per target: connect + handshake
  std::size_t concurrency = 4;
  Dialer dialer = &dial_tcp;
  // The audit runs inside the cluster network (a pod): timeouts are real.
  bool in_cluster = false;
};

// What a server presented and how it verified.
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

// TLS over an open socket: handshake with `server_name` (SNI unless an IP
// literal) and verification against `ca_pem` (empty: system roots; `skip`:
// no verification, as insecureSkipTLSVerify). Takes ownership of `fd`.
TlsObservation tls_observe(int fd, const std::string& server_name, const std::string& ca_pem, bool use_system_roots,
                           bool skip_verify, std::chrono::steady_clock::time_point deadline);

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
