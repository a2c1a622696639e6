// Loopback-bind detection: which ports a container listens on, and on which
// interface, as far as its command line says. A listener bound to 127.0.0.1
// (or localhost, ::1) only accepts connections addressed to loopback, so the
// kubelet (which dials the pod IP) and other pods cannot reach it; that is
// the fact the probe and RBAC-proxy rules reason about.
//
// The command line is `command` + `args` after Kubernetes `$(VAR)`
// expansion from the container's literal `env` (valueFrom variables stay
// unresolved, as the kubelet would only know them at runtime). Flags come
// from Settings: `listen_flags` take `host:port`, `host_port_flags` give host
// and port separately. A container whose command line sets no such flag
// yields no bind: "unknown", never "all interfaces".
//
// Pure functions over immutable objects; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "wirecheck/object.hpp"
#include "wirecheck/rule.hpp"
#include "wirecheck/settings.hpp"

namespace wirecheck::rules {

// What the host part of a bind means for reachability.
enum class BindHost : std::uint8_t {
  kLoopback,       // 127.0.0.0/8, localhost, ::1: reachable from inside the pod only
  kAllInterfaces,  // "", 0.0.0.0, ::  (":8080")
  kOther,          // a specific address, or text still holding an unresolved $(VAR)
  kDefault,        // host/port pair with only the port flag: the program's default host
};

// A port the container listens on, and where the command line says so.
struct Bind {
  // The listen flag, or the host flag of a pair (also when only its port flag
  // was given), as configured: "--metrics-bind-address", "--host".
  std::string flag;
  std::string written;     // the argument(s) as written after expansion, e.g. "--host=127.0.0.1"
  std::string host;        // "" for ":8080"; without IPv6 brackets
  std::int64_t port = 0;
  BindHost kind = BindHost::kOther;
  bool pair = false;            // from a host/port flag pair (host given separately)
  bool port_defaulted = false;  // host/port pair whose port flag was absent
  std::string path;        // relative to the container: "args[2]" or "command[0]"
};

// A reverse proxy's upstream (`--upstream=http://127.0.0.1:8081/`).
struct Upstream {
  std::string written;  // the argument as written after expansion
  std::string host;
  std::int64_t port = 0;
  BindHost kind = BindHost::kOther;
  std::string path;  // relative to the container
};

// Kubernetes `$(VAR)` expansion: `$(NAME)` is replaced when NAME is in
// `vars`, kept as written otherwise; `$$` yields `$` (so `$$(VAR)` is the
// literal `$(VAR)`); any other `$` is kept.
std::string expand_k8s_vars(std::string_view text,
                            const std::vector<std::pair<std::string, std::string>>& vars);

// The variables a container's command line can reference: literal `env`
// values in order, each expanded with the ones before it (as the kubelet
// does); a later valueFrom entry hides an earlier literal of the same name.
std::vector<std::pair<std::string, std::string>> literal_env(const core::Container& container);

// Classifies a host as written in a flag ("" and "0.0.0.0" and "::" are all
// interfaces; brackets are accepted).
BindHost classify_host(std::string_view host);

// Splits `host:port`, `[v6]:port`, `:port` (optionally `scheme://...` and a
// trailing path). nullopt when there is no numeric port in 1..65535.
struct HostPort {
  std::string host;
  std::int64_t port = 0;
};
std::optional<HostPort> parse_host_port(std::string_view value);

// Every listen bind the container's command line declares, in command-line
// order. Repeated flags: the last one wins (Go flag semantics).
std::vector<Bind> find_binds(const core::Container& container, const policy::Settings& settings);

// Every `--upstream` of the container (normally zero or one). A URL without
// port takes the scheme's default (80 / 443).
std::vector<Upstream> find_upstreams(const core::Container& container);

// The binds and upstreams of every container of a pod template (init
// containers too, since native sidecars listen like regular containers).
struct ContainerBind {
  const core::Container* container = nullptr;
  Bind bind;
};
struct ContainerUpstream {
  const core::Container* container = nullptr;
  Upstream upstream;
};
class PodBinds {
 public:
  PodBinds(const core::PodTemplate& pod, const policy::Settings& settings);

  // A bind of `port` to loopback; nullptr when none.
  const ContainerBind* loopback(std::int64_t port) const;
  // A bind of `port` that is not loopback-only (all interfaces, a specific or
  // unresolved address, or a program default); nullptr when none. Any of
  // these means the port may be reachable from outside the pod.
  const ContainerBind* reachable(std::int64_t port) const;
  // A bind of `port` on all interfaces (explicitly, or by a host/port pair's
  // default host) by a container other than `except`; nullptr when none.
  const ContainerBind* all_interfaces(std::int64_t port, const core::Container* except) const;

  const std::vector<ContainerBind>& all() const { return binds_; }
  // Every container's upstreams (find_upstreams), in pod order.
  const std::vector<ContainerUpstream>& upstreams() const { return upstreams_; }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  // Per port: indexes into binds_ of the first loopback bind, the first
  // other one, the first on all interfaces and the first on all interfaces
  // by a container other than that one's.
  struct By {
    std::size_t loopback = kNone;
    std::size_t reachable = kNone;
    std::size_t all_first = kNone;
    std::size_t all_other = kNone;
  };
  const ContainerBind* at(std::int64_t port, std::size_t By::*which) const;

  std::vector<ContainerBind> binds_;
  std::vector<ContainerUpstream> upstreams_;
  std::unordered_map<std::int64_t, By> by_port_;
};

// The binds of `pod` (a pod template of the object under evaluation), built
// by the first rule of this evaluation that asks and shared with the others
// (several rules reason about the same binds; building them is most of their
// cost on a Deployment).
const PodBinds& pod_binds(const policy::RuleInput& in, const core::PodTemplate& pod);

// The argument that rebinds `bind` on all interfaces ("--host=0.0.0.0",
// "--metrics-bind-address=:8080") or on loopback ("--host=127.0.0.1",
// "--metrics-bind-address=127.0.0.1:8080").
std::string rebind_all_interfaces(const Bind& bind);
std::string rebind_loopback(const Bind& bind);

// "[::1]:8080" or "127.0.0.1:8080" or ":8080".
std::string format_host_port(std::string_view host, std::int64_t port);

}  // namespace wirecheck::rules
