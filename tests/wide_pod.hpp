// A Deployment whose pod has `n` containers that each bind 127.0.0.1:8080
// and probe 8080 (readiness) and an undeclared port name (liveness), plus
// optionally a kube-rbac-proxy fronting 8080, a container serving a health
// port and 9090 on all interfaces, and a proxy fronting that 9090: every
// probe rule has a finding per container whose fix looks across the pod.
// Built directly, past the decoder's 1,000-container cap, for the tests and
// the benchmark that show the rules stay linear in the pod.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "wirecheck/object.hpp"

namespace wirecheck::testing {

inline core::Object wide_pod(std::size_t n, bool with_proxies = true) {
  core::Object o;
  o.kind = core::Kind::kDeployment;
  o.ref = {"apps/v1", "Deployment", "demo", "wide"};
  core::PodTemplate t;
  t.spec_path = "spec.template.spec";
  const auto add = [&t](std::string name, std::vector<std::string> args) -> core::Container& {
    core::Container c;
    c.name = std::move(name);
    c.index = t.containers.size();
    c.args = std::move(args);
    t.containers.push_back(std::move(c));
    return t.containers.back();
  };
  for (std::size_t i = 0; i < n; ++i) {
    core::Container& c = add("c" + std::to_string(i), {"--metrics-bind-address=127.0.0.1:8080"});
    c.readiness.present = true;
    c.readiness.handler = core::Probe::Handler::kHttpGet;
    c.readiness.port = {true, true, 8080, ""};
    c.liveness.present = true;
    c.liveness.handler = core::Probe::Handler::kTcpSocket;
    c.liveness.port = {true, false, 0, "health"};
  }
  if (with_proxies) {
    add("kube-rbac-proxy", {"--secure-listen-address=0.0.0.0:8443", "--upstream=http://127.0.0.1:8080/"});
    add("open", {"--metrics-bind-address=:9090", "--health-probe-bind-address=:8081"});
    add("proxy-9090", {"--secure-listen-address=0.0.0.0:9443", "--upstream=http://127.0.0.1:9090/"});
  }
  o.spec = std::move(t);
  return o;
}

}  // namespace wirecheck::testing
