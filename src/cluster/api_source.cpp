#include "cluster/api_source.hpp"

#include <mutex>
#include <nlohmann/json.hpp>

#include "cluster/lister.hpp"

namespace wirecheck::cluster {
namespace {

using nlohmann::json;

// GET `path` as JSON; a 404 is a null value, other failures are errors.
core::Result<json> get_json(ApiClient& client, const std::string& path) {
  auto res = client.get(path);
  if (!res) return core::Result<json>::failure(res.error());
  if (res->status == 404) return json();
  if (res->status != 200) {
    return core::Result<json>::failure("HTTP " + std::to_string(res->status) + " for " + path);
  }
  json doc = json::parse(res->body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return core::Result<json>::failure("answer is not JSON: " + path);
  return doc;
}

std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The Endpoints port a call on Service port `port` reaches: matched by the
// Service port's name (Endpoints ports carry it), or the only one.
int endpoint_port(const json& subset, const std::string& port_name) {
  const json& ports = subset.value("ports", json::array());
  for (const json& p : ports) {
    if (str(p, "name") == port_name && p.value("port", 0) > 0) return p.value("port", 0);
  }
  return ports.size() == 1 ? ports[0].value("port", 0) : 0;
}

// Kinds the audit lists that the server's cache never watches: the
// ConfigMaps and Secrets monitors read (decoded to their key names).
const WatchedKind* audit_only_kind(core::Kind kind, bool secrets) {
  static const WatchedKind kConfigMaps{core::Kind::kConfigMap, "", {"v1"}, "configmaps", true};
  static const WatchedKind kSecrets{core::Kind::kSecret, "", {"v1"}, "secrets", true};
  if (kind == core::Kind::kConfigMap) return &kConfigMaps;
  if (kind == core::Kind::kSecret && secrets) return &kSecrets;
  return nullptr;
}

}  // namespace

ObjectSource api_object_source(ApiClient& client, std::size_t page_size, bool secrets) {
  auto parser = std::make_shared<simdjson::dom::parser>();
  return [&client, page_size, parser, secrets](core::Kind kind) {
    KindListing out;
    const WatchedKind* watched = watched_kind(kind);
    if (watched == nullptr) watched = audit_only_kind(kind, secrets);
    if (watched == nullptr) {
      out.status = KindListing::Status::kFailed;
      out.error = "the cluster client has no API resource for this kind";
      return out;
    }
    auto version = discover_version(client, *watched, *parser);
    if (!version) {
      out.status = KindListing::Status::kFailed;
      out.error = "discovery: " + version.error();
      return out;
    }
    if (version->empty()) {
      out.status = KindListing::Status::kNotServed;
      return out;
    }
    auto listed = list_kind(client, *watched, *version, page_size, *parser);
    if (!listed) {
      out.status = KindListing::Status::kFailed;
      out.error = "list " + std::string(watched->resource) + ": " + listed.error();
      return out;
    }
    out.objects = std::move(listed->objects);
    return out;
  };
}

BackendResolver api_backend_resolver(std::shared_ptr<ApiClient> client) {
  auto mutex = std::make_shared<std::mutex>();
  return [client, mutex](const std::string& ns, const std::string& name, int port) {
    ServiceBackends out;
    std::lock_guard<std::mutex> lock(*mutex);
    auto svc = get_json(*client, "/api/v1/namespaces/" + url_escape(ns) + "/services/" + url_escape(name));
    if (!svc) {
      out.lookup_error = svc.error();
      return out;
    }
    if (svc->is_null()) return out;
    out.found = true;
    const json& spec = svc->value("spec", json::object());
    out.type = str(spec, "type");
    out.cluster_ip = str(spec, "clusterIP");
    out.external_name = str(spec, "externalName");
    std::string port_name;
    for (const json& p : spec.value("ports", json::array())) {
      if (p.value("port", 0) == port) port_name = str(p, "name");
    }
    auto eps = get_json(*client, "/api/v1/namespaces/" + url_escape(ns) + "/endpoints/" + url_escape(name));
    if (!eps) {
      out.lookup_error = "endpoints: " + eps.error();
      return out;
    }
    if (eps->is_null()) return out;
    for (const json& subset : eps->value("subsets", json::array())) {
      const int target = endpoint_port(subset, port_name);
      for (const json& a : subset.value("addresses", json::array())) {
        if (target > 0 && !str(a, "ip").empty()) out.ready.emplace_back(str(a, "ip"), target);
      }
      out.not_ready += subset.value("notReadyAddresses", json::array()).size();
    }
    return out;
  };
}

}  // namespace wirecheck::cluster
