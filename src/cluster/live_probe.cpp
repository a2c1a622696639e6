#include "cluster/live_probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "wirecheck/ca_bundle.hpp"
#include "wirecheck/client_configs.hpp"
#include "wirecheck/rule.hpp"

namespace wirecheck::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using policy::Severity;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* s) const { X509_STORE_CTX_free(s); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// OpenSSL's error queue is per thread; never leave entries for the next call.
struct ErrorQueueGuard {
  ~ErrorQueueGuard() { ERR_clear_error(); }
};

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string name_text(X509_NAME* name) {
  BioPtr mem(BIO_new(BIO_s_mem()));
  if (!mem || X509_NAME_print_ex(mem.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  const long len = BIO_get_mem_data(mem.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string time_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return "";
  return core::format_unix_time(static_cast<std::int64_t>(timegm(&tm)));
}

std::vector<std::string> sans_of(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      const ASN1_IA5STRING* s = n->d.dNSName;
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                         static_cast<std::size_t>(ASN1_STRING_length(s))));
    } else if (n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = n->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      const int len = ASN1_STRING_length(ip);
      const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;
      if (family != -1 && inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text) != nullptr) {
        out.push_back(std::string("IP:") + text);
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Verifies `leaf` (with the peer's `chain` as untrusted intermediates)
// against `store`; with a name, also that the SANs cover it, as Go does
// (never the Common Name). Returns OpenSSL's error text, "" when it verifies.
std::string verify(X509_STORE* store, X509* leaf, STACK_OF(X509) * chain, const std::string& name) {
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, leaf, chain) != 1) return "cannot set up verification";
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (!name.empty()) {
    if (is_ip_literal(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
      X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
  }
  if (X509_verify_cert(ctx.get()) == 1) return "";
  const int err = X509_STORE_CTX_get_error(ctx.get());
  std::string text = X509_verify_cert_error_string(err);
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  if (depth > 0) text += " (at depth " + std::to_string(depth) + ")";
  return text;
}

// Loads the PEM certificates of `pem` into a new store; nullptr when none.
X509_STORE* store_from_pem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  X509_STORE* store = X509_STORE_new();
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    added += X509_STORE_add_cert(store, cert) == 1 ? 1 : 0;
    X509_free(cert);
  }
  if (added == 0) {
    X509_STORE_free(store);
    return nullptr;
  }
  return store;
}

// Drives a non-blocking SSL_connect until done or the deadline.
bool handshake(SSL* ssl, int fd, Clock::time_point deadline, std::string& error) {
  for (;;) {
    const int rc = SSL_connect(ssl);
    if (rc == 1) return true;
    const int err = SSL_get_error(ssl, rc);
    short events = 0;
    if (err == SSL_ERROR_WANT_READ) {
      events = POLLIN;
    } else if (err == SSL_ERROR_WANT_WRITE) {
      events = POLLOUT;
    } else {
      const unsigned long e = ERR_get_error();
      if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        error = std::string("TLS handshake failed: ") + buf;
      } else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
        error = "TLS handshake failed: the server closed the connection (is it serving TLS on this port?)";
      } else {
        error = "TLS handshake failed (SSL error " + std::to_string(err) + ")";
      }
      return false;
    }
    pollfd p{fd, events, 0};
    const int left = remaining_ms(deadline);
    if (left == 0 || ::poll(&p, 1, left) <= 0) {
      error = "TLS handshake timed out (the server accepted the connection but did not answer)";
      return false;
    }
  }
}

}  // namespace

DialResult dial_tcp(const std::string& host, int port, std::chrono::milliseconds timeout) {
  DialResult out;
  const Clock::time_point deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addrs = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &addrs); rc != 0) {
    out.error = "cannot resolve " + host + ": " + gai_strerror(rc);
    return out;
  }
  for (addrinfo* a = addrs; a != nullptr && out.fd < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int left = remaining_ms(deadline);
      if (left == 0 || ::poll(&p, 1, left) <= 0) {
        out.error = "connection timed out after " + std::to_string(timeout.count()) + " ms";
        ::close(fd);
        continue;
      }
      int soerr = 0;
      socklen_t len = sizeof soerr;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
      errno = soerr;
      rc = soerr == 0 ? 0 : -1;
    }
    if (rc == 0) {
      out.fd = fd;
      out.error.clear();
      out.refused = false;
    } else {
      out.refused = errno == ECONNREFUSED;
      out.error = std::strerror(errno);
      for (char& c : out.error) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ::close(fd);
    }
  }
  freeaddrinfo(addrs);
  return out;
}

TlsObservation tls_observe(int fd, const std::string& server_name, const std::string& ca_pem, bool use_system_roots,
                           bool skip_verify, Clock::time_point deadline) {
  ErrorQueueGuard guard;
  TlsObservation obs;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    ::close(fd);
    obs.handshake_error = "cannot create a TLS context";
    return obs;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Verification is done after the handshake, so that what the server
  // presented can be reported whatever the verdict.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof kAlpn);
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  SSL_set_fd(ssl.get(), fd);
  // Go's TLS client (the API server's) sends no SNI for an IP address.
  if (!is_ip_literal(server_name)) SSL_set_tlsext_host_name(ssl.get(), server_name.c_str());

  obs.handshake_ok = handshake(ssl.get(), fd, deadline, obs.handshake_error);
  if (obs.handshake_ok) {
    X509Ptr leaf(SSL_get1_peer_certificate(ssl.get()));
    STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get());
    if (!leaf) {
      obs.handshake_ok = false;
      obs.handshake_error = "the server presented no certificate";
    } else {
      obs.subject = name_text(X509_get_subject_name(leaf.get()));
      obs.issuer = name_text(X509_get_issuer_name(leaf.get()));
      obs.sans = sans_of(leaf.get());
      obs.not_before = time_text(X509_get0_notBefore(leaf.get()));
      obs.not_after = time_text(X509_get0_notAfter(leaf.get()));
      obs.name_ok = is_ip_literal(server_name)
                        ? X509_check_ip_asc(leaf.get(), server_name.c_str(), 0) == 1
                        : X509_check_host(leaf.get(), server_name.c_str(), server_name.size(),
                                          X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr) == 1;
      if (skip_verify) {
        obs.trust = "none (insecureSkipTLSVerify)";
        obs.chain_ok = obs.verified = true;
      } else {
        std::unique_ptr<X509_STORE, StoreFree> store;
        if (use_system_roots) {
          obs.trust = "this machine's system roots (caBundle is empty)";
          store.reset(X509_STORE_new());
          X509_STORE_set_default_paths(store.get());
        } else {
          obs.trust = "caBundle";
          store.reset(store_from_pem(ca_pem));
          if (!store) store.reset(X509_STORE_new());  // trusts nothing, as an unusable bundle
        }
        obs.chain_error = verify(store.get(), leaf.get(), chain, "");
        obs.chain_ok = obs.chain_error.empty();
        obs.verify_error = verify(store.get(), leaf.get(), chain, server_name);
        obs.verified = obs.verify_error.empty();
      }
    }
    // A polite close; nothing else is ever sent.
    SSL_shutdown(ssl.get());
  }
  ssl.reset();
  ::close(fd);
  return obs;
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
           std::string(is_ip_literal(t.server_name) ? "IP:" : "DNS:") + t.server_name;
  }
  return fix.empty() ? "check the serving certificate against caBundle" : fix;
}

// Connects to the first candidate that accepts; records why the others
// failed. Each candidate but the last gets an equal share of the time left,
// so that a ClusterIP that does not route from here leaves time for the
// endpoints.
DialResult connect_any(const std::vector<std::pair<std::string, std::string>>& candidates,
                       const std::vector<int>& ports, const ProbeOptions& options, Clock::time_point deadline,
                       std::string& used, std::string& failures, bool& all_timeouts) {
  DialResult last;
  all_timeouts = true;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& [host, what] = candidates[i];
    const int left = remaining_ms(deadline);
    if (left == 0) break;
    const int share = left / static_cast<int>(candidates.size() - i);
    DialResult r = options.dialer(host, ports[i], std::chrono::milliseconds(std::max(share, 1)));
    if (r.fd >= 0) {
      used = host + ":" + std::to_string(ports[i]) + " (" + what + ")";
      return r;
    }
    if (r.error.find("timed out") == std::string::npos) all_timeouts = false;
    if (!failures.empty()) failures += "; ";
    failures += host + ":" + std::to_string(ports[i]) + " (" + what + "): " + r.error;
    last = std::move(r);
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
  DialResult r = connect_any(candidates, ports, options, deadline, used, failures, all_timeouts);
  if (r.fd < 0) {
    o.status = ProbeOutcome::Status::kUnreachable;
    o.detail = "cannot connect to " + o.target + ": " + (failures.empty() ? r.error : failures);
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
  const TlsObservation obs = tls_observe(r.fd, t.server_name, pem, system_roots, t.insecure, deadline);
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
  // A server that hangs up mid-handshake makes OpenSSL's next write raise
  // SIGPIPE, which would end the whole process: ignored, as `serve` does.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });
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
