// Service endpoints: the ready addresses behind one port of a Service, read
// the way kube-proxy and Prometheus read them today: EndpointSlices
// (discovery.k8s.io/v1; v1beta1 on clusters that serve only that, as
// v1.20), the core/v1 Endpoints only where no EndpointSlice API is served.
// The live probes of webhooks and of scrape targets both use it.
//
// The parsing below is pure (JSON in, addresses out); fetching is in
// api_source.hpp.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace wirecheck::cluster {

// Which endpoint port a caller reaches. EndpointSlice and Endpoints ports
// carry the Service port's name, and the target port's number.
struct PortMatch {
  std::string name;        // the Service port's name ("" for an unnamed port)
  int number = 0;          // or the target port number, when > 0
  // Without a match by name or number, the only port of a single-port
  // Service (the API server calls a Service port by number: its name does
  // not matter). Prometheus matches by name only.
  bool only_port = false;
};

struct EndpointAddresses {
  std::string lookup_error;  // the lookup failed (forbidden, timeout): unknown
  std::vector<std::pair<std::string, int>> ready;  // address, port; in API order, no duplicates
  std::size_t not_ready = 0;
  std::string source;        // "EndpointSlice discovery.k8s.io/v1", ..., "Endpoints v1"
};

// Adds the addresses of an EndpointSliceList (v1 or v1beta1: the fields read
// are the same) for `port` to `out`. A missing `conditions.ready` counts as
// ready, as the API documents; FQDN slices are skipped.
void add_endpoint_slices(const nlohmann::json& list, const PortMatch& port, EndpointAddresses& out);
// Adds the addresses of a core/v1 Endpoints object for `port` to `out`.
void add_endpoints(const nlohmann::json& endpoints, const PortMatch& port, EndpointAddresses& out);

}  // namespace wirecheck::cluster
