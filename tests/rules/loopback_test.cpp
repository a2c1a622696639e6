// Loopback-bind detection: the command-line parser the probe and RBAC-proxy
// rules stand on. Table-driven: every flag form, $(VAR) expansion, IPv6,
// host/port pairs with defaults, and flags added by configuration.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "rules/loopback.hpp"
#include "wirecheck/settings.hpp"

using namespace wirecheck;
using rules::BindHost;

namespace {

std::string_view kind_text(BindHost k) {
  switch (k) {
    case BindHost::kLoopback: return "loopback";
    case BindHost::kAllInterfaces: return "all";
    case BindHost::kOther: return "other";
    case BindHost::kDefault: return "default";
  }
  return "?";
}

core::EnvVar literal(std::string name, std::string value) { return {std::move(name), std::move(value), true}; }
core::EnvVar from_field(std::string name) { return {std::move(name), "", false}; }

// "flag host port kind path" for each bind, to compare whole results at once.
std::vector<std::string> describe_binds(const core::Container& c,
                                        const policy::Settings& s = policy::Settings::defaults()) {
  std::vector<std::string> out;
  for (const rules::Bind& b : rules::find_binds(c, s)) {
    out.push_back(b.flag + " " + b.host + " " + std::to_string(b.port) + " " + std::string(kind_text(b.kind)) +
                  " " + b.path + (b.port_defaulted ? " defaulted" : ""));
  }
  return out;
}

core::Container container(std::vector<std::string> args, std::vector<core::EnvVar> env = {},
                          std::vector<std::string> command = {}) {
  core::Container c;
  c.name = "c";
  c.args = std::move(args);
  c.env = std::move(env);
  c.command = std::move(command);
  return c;
}

}  // namespace

TEST_CASE("loopback: $(VAR) expansion follows the kubelet's rules") {
  const std::vector<std::pair<std::string, std::string>> vars = {{"A", "127.0.0.1"}, {"PORT", "8080"}};
  struct Case {
    const char* input;
    const char* expected;
  };
  const Case cases[] = {
      {"$(A):$(PORT)", "127.0.0.1:8080"},
      {"$(MISSING):8080", "$(MISSING):8080"},  // unresolvable stays as written
      {"$$(A):8080", "$(A):8080"},              // $$ escapes
      {"$$$(A)", "$127.0.0.1"},
      {"$$", "$"},
      {"$A", "$A"},                             // only $( ) references
      {"$(A", "$(A"},                           // unterminated
      {"x$", "x$"},                             // trailing $
      {"$()", "$()"},
      {"--addr=$(A)$(A)", "--addr=127.0.0.1127.0.0.1"},
      {"", ""},
  };
  for (const Case& c : cases) {
    INFO("input " << c.input);
    CHECK(rules::expand_k8s_vars(c.input, vars) == c.expected);
  }
}

TEST_CASE("loopback: literal env values expand earlier ones and valueFrom hides a literal") {
  core::Container c;
  c.env = {literal("HOST", "127.0.0.1"), literal("ADDR", "$(HOST):8080"), literal("X", "1"), from_field("X")};
  const auto vars = rules::literal_env(c);
  REQUIRE(vars.size() == 2);
  CHECK(vars[0] == std::pair<std::string, std::string>{"HOST", "127.0.0.1"});
  CHECK(vars[1] == std::pair<std::string, std::string>{"ADDR", "127.0.0.1:8080"});
}

TEST_CASE("loopback: self-doubling env values stop expanding at the budget and stay unresolved") {
  // V0 is 1 KiB and each next value is "$(prev)$(prev)": fully expanded,
  // V63 would be 2^63 KiB. Past 64 KiB of growth a reference stays as
  // written, so the bind that uses it is "other", not a guess.
  core::Container c;
  c.env.push_back(literal("V0", std::string(1024, 'x')));
  for (int i = 1; i < 64; ++i) {
    c.env.push_back(literal("V" + std::to_string(i), "$(V" + std::to_string(i - 1) + ")$(V" + std::to_string(i - 1) + ")"));
  }
  const auto vars = rules::literal_env(c);
  REQUIRE(vars.size() == 64);
  std::size_t total = 0;
  for (const auto& v : vars) total += v.second.size();
  CHECK(total < 256 * 1024);
  CHECK(vars[5].second == std::string(32 * 1024, 'x'));  // small expansions still happen
  CHECK(vars[63].second == "$(V62)$(V62)");

  c.args = {"--metrics-bind-address=$(V63):8080", "--health-probe-bind-address=127.0.0.1:8081"};
  const auto binds = rules::find_binds(c, policy::Settings::defaults());
  REQUIRE(binds.size() == 2);
  CHECK(binds[0].kind == BindHost::kOther);
  CHECK(binds[1].kind == BindHost::kLoopback);
}

TEST_CASE("loopback: hosts classify as loopback, all interfaces or other") {
  struct Case {
    const char* host;
    BindHost kind;
  };
  const Case cases[] = {
      {"127.0.0.1", BindHost::kLoopback},  {"127.1.2.3", BindHost::kLoopback},
      {"localhost", BindHost::kLoopback},  {"LOCALHOST", BindHost::kLoopback},
      {"::1", BindHost::kLoopback},        {"[::1]", BindHost::kLoopback},
      {"", BindHost::kAllInterfaces},      {"0.0.0.0", BindHost::kAllInterfaces},
      {"::", BindHost::kAllInterfaces},    {"[::]", BindHost::kAllInterfaces},
      {"10.0.0.5", BindHost::kOther},      {"$(POD_IP)", BindHost::kOther},
      {"127.0.0.1.nip.io", BindHost::kOther}, {"localhost.example", BindHost::kOther},
  };
  for (const Case& c : cases) {
    INFO("host '" << c.host << "'");
    CHECK(rules::classify_host(c.host) == c.kind);
  }
}

TEST_CASE("loopback: host:port values parse, including IPv6 brackets and URLs") {
  struct Case {
    const char* value;
    bool ok;
    const char* host;
    std::int64_t port;
  };
  const Case cases[] = {
      {"127.0.0.1:8080", true, "127.0.0.1", 8080},
      {":8443", true, "", 8443},
      {"0.0.0.0:9090", true, "0.0.0.0", 9090},
      {"[::1]:9000", true, "::1", 9000},
      {"[::]:9000", true, "::", 9000},
      {"localhost:1", true, "localhost", 1},
      {"http://127.0.0.1:8081/metrics", true, "127.0.0.1", 8081},
      {" 127.0.0.1:8080 ", true, "127.0.0.1", 8080},
      {"127.0.0.1", false, "", 0},        // host only: no port to judge
      {"::1:8080", false, "", 0},         // unbracketed IPv6 is ambiguous
      {"127.0.0.1:0", false, "", 0},
      {"127.0.0.1:65536", false, "", 0},
      {"127.0.0.1:$(PORT)", false, "", 0},
      {"[::1]", false, "", 0},
      {"", false, "", 0},
  };
  for (const Case& c : cases) {
    INFO("value '" << c.value << "'");
    const auto hp = rules::parse_host_port(c.value);
    REQUIRE(hp.has_value() == c.ok);
    if (hp) {
      CHECK(hp->host == c.host);
      CHECK(hp->port == c.port);
    }
  }
}

TEST_CASE("loopback: listen flags in every form yield the bind, its kind and where it was written") {
  struct Case {
    const char* name;
    core::Container container;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"--flag=value", container({"--metrics-bind-address=127.0.0.1:8080"}),
       {"--metrics-bind-address 127.0.0.1 8080 loopback args[0]"}},
      {"--flag value", container({"--leader-elect", "--metrics-bind-address", "127.0.0.1:8080"}),
       {"--metrics-bind-address 127.0.0.1 8080 loopback args[1]"}},
      {"-flag=value", container({"-metrics-bind-address=localhost:8080"}),
       {"--metrics-bind-address localhost 8080 loopback args[0]"}},
      {"-flag value", container({"-web.listen-address", "[::1]:9090"}),
       {"--web.listen-address ::1 9090 loopback args[0]"}},
      {":P is all interfaces", container({"--listen-address=:9090"}),
       {"--listen-address  9090 all args[0]"}},
      {"0.0.0.0:P is all interfaces", container({"--bind-address=0.0.0.0:10250"}),
       {"--bind-address 0.0.0.0 10250 all args[0]"}},
      {"[::]:P is all interfaces", container({"--secure-listen-address=[::]:8443"}),
       {"--secure-listen-address :: 8443 all args[0]"}},
      {"a specific address is other", container({"--address=10.0.0.1:80"}),
       {"--address 10.0.0.1 80 other args[0]"}},
      {"every table flag", container({"--insecure-listen-address=127.0.0.1:1", "--metrics-addr=127.0.0.1:2",
                                      "--healthz-bind-address=127.0.0.1:3",
                                      "--health-probe-bind-address=127.0.0.1:4"}),
       {"--health-probe-bind-address 127.0.0.1 4 loopback args[3]",
        "--insecure-listen-address 127.0.0.1 1 loopback args[0]",
        "--metrics-addr 127.0.0.1 2 loopback args[1]",
        "--healthz-bind-address 127.0.0.1 3 loopback args[2]"}},
      {"host-only value has no port", container({"--listen-address=127.0.0.1"}), {}},
      {"flag followed by a flag has no value", container({"--metrics-bind-address", "--leader-elect"}), {}},
      {"similar names are not listen flags",
       container({"--metrics-bind-address-extra=127.0.0.1:1", "--hostname=127.0.0.1", "--secure-portal=1"}), {}},
      {"last occurrence wins",
       container({"--metrics-bind-address=127.0.0.1:8080", "--metrics-bind-address=:8080"}),
       {"--metrics-bind-address  8080 all args[1]"}},
      {"command and args both count", container({"--leader-elect"}, {}, {"/manager", "--metrics-addr=127.0.0.1:8080"}),
       {"--metrics-addr 127.0.0.1 8080 loopback command[1]"}},
      {"shell form inside one argument",
       container({}, {}, {"/bin/sh", "-c", "exec /app --metrics-bind-address=127.0.0.1:8080 --v=2"}),
       {"--metrics-bind-address 127.0.0.1 8080 loopback command[2]"}},
      {"$(VAR) from literal env", container({"--metrics-addr=$(BIND):8080"}, {literal("BIND", "127.0.0.1")}),
       {"--metrics-addr 127.0.0.1 8080 loopback args[0]"}},
      {"$(VAR) whole value", container({"--metrics-addr", "$(ADDR)"}, {literal("ADDR", "[::1]:8080")}),
       {"--metrics-addr ::1 8080 loopback args[0]"}},
      {"unresolvable $(VAR) stays as written", container({"--metrics-addr=$(POD_IP):8080"}, {from_field("POD_IP")}),
       {"--metrics-addr $(POD_IP) 8080 other args[0]"}},
      {"$$(VAR) is an escape", container({"--metrics-addr=$$(BIND):8080"}, {literal("BIND", "127.0.0.1")}),
       {"--metrics-addr $(BIND) 8080 other args[0]"}},
      {"no flags: unknown", container({"--v=2"}), {}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto got = describe_binds(c.container);
    auto want = c.expected;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK(got == want);
  }
}

TEST_CASE("loopback: host/port flag pairs, with kube-state-metrics default ports") {
  struct Case {
    const char* name;
    core::Container container;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"host and port", container({"--host=127.0.0.1", "--port=8081"}), {"--host 127.0.0.1 8081 loopback args[0]"}},
      {"space-separated pair", container({"--host", "::1", "--port", "9000"}), {"--host ::1 9000 loopback args[0]"}},
      {"host without port: default 8080", container({"--host=127.0.0.1"}),
       {"--host 127.0.0.1 8080 loopback args[0] defaulted"}},
      {"telemetry host without port: default 8081", container({"-telemetry-host=localhost"}),
       {"--telemetry-host localhost 8081 loopback args[0] defaulted"}},
      {"both pairs", container({"--host=127.0.0.1", "--port=8081", "--telemetry-host=127.0.0.1", "--telemetry-port=8082"}),
       {"--host 127.0.0.1 8081 loopback args[0]", "--telemetry-host 127.0.0.1 8082 loopback args[2]"}},
      {"port without host: the program's default host", container({"--port=8080"}),
       {"--host  8080 default args[0]"}},
      {"all-interfaces host", container({"--host=0.0.0.0", "--port=8080"}), {"--host 0.0.0.0 8080 all args[0]"}},
      {"port from $(VAR)", container({"--host=127.0.0.1", "--port=$(PORT)"}, {literal("PORT", "9100")}),
       {"--host 127.0.0.1 9100 loopback args[0]"}},
      {"unresolvable port: unknown", container({"--host=127.0.0.1", "--port=$(PORT)"}), {}},
      {"neither flag: unknown", container({"--resources=pods"}), {}},
      {"IP-only --bind-address with --secure-port (kube-scheduler)",
       container({"--bind-address=127.0.0.1", "--secure-port=10259"}),
       {"--bind-address 127.0.0.1 10259 loopback args[0]"}},
      {"IP-only --bind-address without --secure-port: no port to judge", container({"--bind-address=127.0.0.1"}),
       {}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto got = describe_binds(c.container);
    auto want = c.expected;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK(got == want);
  }
}

TEST_CASE("loopback: flags added by configuration are detected like built-in ones") {
  policy::Settings s = policy::Settings::defaults();
  s.listen_flags.push_back("--stats-listen");
  s.host_port_flags.push_back({"--stats-host", "--stats-port", 9102});
  CHECK(describe_binds(container({"-stats-listen", "127.0.0.1:7000"}), s) ==
        std::vector<std::string>{"--stats-listen 127.0.0.1 7000 loopback args[0]"});
  CHECK(describe_binds(container({"--stats-host=127.0.0.1"}), s) ==
        std::vector<std::string>{"--stats-host 127.0.0.1 9102 loopback args[0] defaulted"});
  // Without the configuration the same command line binds nothing known.
  CHECK(describe_binds(container({"--stats-listen=127.0.0.1:7000"})).empty());
}

TEST_CASE("loopback: an empty flag table finds nothing") {
  policy::Settings s;
  CHECK(describe_binds(container({"--metrics-bind-address=127.0.0.1:8080"}), s).empty());
}

TEST_CASE("loopback: upstreams of reverse proxies, with scheme default ports") {
  struct Case {
    std::vector<std::string> args;
    bool found;
    const char* host;
    std::int64_t port;
    BindHost kind;
  };
  const std::vector<Case> cases = {
      {{"--upstream=http://127.0.0.1:8081/"}, true, "127.0.0.1", 8081, BindHost::kLoopback},
      {{"--upstream", "http://localhost/"}, true, "localhost", 80, BindHost::kLoopback},
      {{"-upstream=https://[::1]/"}, true, "::1", 443, BindHost::kLoopback},
      {{"--upstream=http://backend.demo.svc:8080/"}, true, "backend.demo.svc", 8080, BindHost::kOther},
      {{"--upstream=http://$(POD_IP):8080/"}, true, "$(POD_IP)", 8080, BindHost::kOther},
      {{"--upstream=file:///tmp/socket"}, false, "", 0, BindHost::kOther},
      {{"--secure-listen-address=:8443"}, false, "", 0, BindHost::kOther},
  };
  for (const Case& c : cases) {
    INFO(c.args.front());
    const auto ups = rules::find_upstreams(container(c.args));
    REQUIRE(ups.empty() != c.found);
    if (c.found) {
      CHECK(ups[0].host == c.host);
      CHECK(ups[0].port == c.port);
      CHECK(ups[0].kind == c.kind);
      CHECK(ups[0].path == "args[0]");
    }
  }
}

TEST_CASE("loopback: a pod's binds answer loopback, reachable and all-interfaces queries per port") {
  core::PodTemplate pod;
  pod.containers.push_back(container({"--host=127.0.0.1", "--port=8081", "--telemetry-port=8082"}));
  pod.containers[0].name = "ksm";
  pod.containers.push_back(container({"--secure-listen-address=:8443", "--upstream=http://127.0.0.1:8081/"}));
  pod.containers[1].name = "proxy";
  pod.containers[1].index = 1;
  pod.init_containers.push_back(container({"--metrics-addr=10.1.1.1:9000"}));
  pod.init_containers[0].name = "sidecar";
  pod.init_containers[0].init = true;

  const rules::PodBinds binds(pod, policy::Settings::defaults());
  REQUIRE(binds.loopback(8081) != nullptr);
  CHECK(binds.loopback(8081)->container->name == "ksm");
  CHECK(binds.reachable(8081) == nullptr);
  CHECK(binds.all_interfaces(8081, nullptr) == nullptr);
  // --telemetry-port without --telemetry-host: default host, reachable.
  CHECK(binds.loopback(8082) == nullptr);
  REQUIRE(binds.reachable(8082) != nullptr);
  REQUIRE(binds.all_interfaces(8082, nullptr) != nullptr);
  CHECK(binds.all_interfaces(8082, &pod.containers[0]) == nullptr);
  REQUIRE(binds.all_interfaces(8443, nullptr) != nullptr);
  CHECK(binds.all_interfaces(8443, nullptr)->container->name == "proxy");
  // A specific address is reachable but not "all interfaces".
  REQUIRE(binds.reachable(9000) != nullptr);
  CHECK(binds.reachable(9000)->container->name == "sidecar");
  CHECK(binds.all_interfaces(9000, nullptr) == nullptr);
  CHECK(binds.loopback(1234) == nullptr);
}

TEST_CASE("loopback: rebind suggestions keep the flag's own shape") {
  rules::Bind listen;
  listen.flag = "--metrics-bind-address";
  listen.port = 8080;
  CHECK(rules::rebind_all_interfaces(listen) == "--metrics-bind-address=:8080");
  CHECK(rules::rebind_loopback(listen) == "--metrics-bind-address=127.0.0.1:8080");
  rules::Bind pair;
  pair.flag = "--telemetry-host";
  pair.port = 8081;
  pair.pair = true;
  CHECK(rules::rebind_all_interfaces(pair) == "--telemetry-host=0.0.0.0");
  CHECK(rules::rebind_loopback(pair) == "--telemetry-host=127.0.0.1");
  CHECK(rules::format_host_port("::1", 9000) == "[::1]:9000");
  CHECK(rules::format_host_port("", 9000) == ":9000");
}
