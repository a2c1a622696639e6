#include "cluster/endpoints.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace wirecheck::cluster {
namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int number(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
}

const json& array_at(const json& j, const char* key) {
  static const json kEmpty = json::array();
  const auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

// The port number `ports` (EndpointPort list) gives for `port`; 0 when none.
int matching_port(const json& ports, const PortMatch& port) {
  for (const json& p : ports) {
    if (!p.is_object() || number(p, "port") <= 0) continue;
    if (port.number > 0 ? number(p, "port") == port.number : str(p, "name") == port.name) return number(p, "port");
  }
  if (port.only_port && ports.size() == 1 && ports[0].is_object()) return number(ports[0], "port");
  return 0;
}

void add_ready(EndpointAddresses& out, const std::string& address, int port) {
  if (address.empty() || port <= 0) return;
  const auto entry = std::make_pair(address, port);
  if (std::find(out.ready.begin(), out.ready.end(), entry) == out.ready.end()) out.ready.push_back(entry);
}

}  // namespace

void add_endpoint_slices(const json& list, const PortMatch& port, EndpointAddresses& out) {
  if (!list.is_object()) return;
  for (const json& slice : array_at(list, "items")) {
    if (!slice.is_object() || str(slice, "addressType") == "FQDN") continue;
    const int target = matching_port(array_at(slice, "ports"), port);
    for (const json& ep : array_at(slice, "endpoints")) {
      if (!ep.is_object()) continue;
      const auto cond = ep.find("conditions");
      bool ready = true;
      if (cond != ep.end() && cond->is_object()) {
        const auto r = cond->find("ready");
        if (r != cond->end() && r->is_boolean()) ready = r->get<bool>();
      }
      const json& addresses = array_at(ep, "addresses");
      if (!ready) {
        out.not_ready += addresses.size();
        continue;
      }
      if (target <= 0) continue;
      for (const json& a : addresses) {
        if (a.is_string()) add_ready(out, a.get<std::string>(), target);
      }
    }
  }
}

void add_endpoints(const json& endpoints, const PortMatch& port, EndpointAddresses& out) {
  if (!endpoints.is_object()) return;
  for (const json& subset : array_at(endpoints, "subsets")) {
    if (!subset.is_object()) continue;
    const int target = matching_port(array_at(subset, "ports"), port);
    for (const json& a : array_at(subset, "addresses")) {
      if (target > 0 && a.is_object()) add_ready(out, str(a, "ip"), target);
    }
    out.not_ready += array_at(subset, "notReadyAddresses").size();
  }
}

}  // namespace wirecheck::cluster
