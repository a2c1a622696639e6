#include "cluster/api_source.hpp"

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>

#include "wirecheck/ca_bundle.hpp"

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

ProbeLookups::ProbeLookups(std::shared_ptr<ApiClient> client, bool read_secrets)
    : client_(std::move(client)), read_secrets_(read_secrets) {}

ServiceBackends ProbeLookups::service_backends(const std::string& ns, const std::string& name, int port) {
  ServiceBackends out;
  std::lock_guard<std::mutex> lock(mutex_);
  auto svc = get_json(*client_, "/api/v1/namespaces/" + url_escape(ns) + "/services/" + url_escape(name));
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
  PortMatch match;
  match.only_port = true;  // the API server calls the Service port by number
  for (const json& p : spec.value("ports", json::array())) {
    if (p.value("port", 0) == port) match.name = str(p, "name");
  }
  EndpointAddresses eps = endpoints_locked(ns, name, match);
  if (!eps.lookup_error.empty()) {
    out.lookup_error = "endpoints: " + eps.lookup_error;
    return out;
  }
  out.ready = std::move(eps.ready);
  out.not_ready = eps.not_ready;
  return out;
}

EndpointAddresses ProbeLookups::endpoints(const std::string& ns, const std::string& name, const PortMatch& port) {
  std::lock_guard<std::mutex> lock(mutex_);
  return endpoints_locked(ns, name, port);
}

EndpointAddresses ProbeLookups::endpoints_locked(const std::string& ns, const std::string& name,
                                                 const PortMatch& port) {
  EndpointAddresses out;
  static constexpr const char* kSliceApis[] = {"discovery.k8s.io/v1", "discovery.k8s.io/v1beta1"};
  const std::string selector = "?labelSelector=" + url_escape("kubernetes.io/service-name=" + name);
  // A 404 on the collection means the version is not served: try the next.
  for (int api = std::max(slice_api_, 1); api <= 2; ++api) {
    auto list = get_json(*client_, "/apis/" + std::string(kSliceApis[api - 1]) + "/namespaces/" + url_escape(ns) +
                                       "/endpointslices" + selector);
    if (!list) {
      out.lookup_error = list.error();
      return out;
    }
    if (list->is_null()) continue;
    slice_api_ = api;
    out.source = std::string("EndpointSlice ") + kSliceApis[api - 1];
    add_endpoint_slices(*list, port, out);
    return out;
  }
  slice_api_ = 3;
  auto eps = get_json(*client_, "/api/v1/namespaces/" + url_escape(ns) + "/endpoints/" + url_escape(name));
  if (!eps) {
    out.lookup_error = eps.error();
    return out;
  }
  out.source = "Endpoints v1";
  if (!eps->is_null()) add_endpoints(*eps, port, out);
  return out;
}

core::Result<std::string> ProbeLookups::ca_pem(const CaReference& ref) {
  using R = core::Result<std::string>;
  const bool secret = ref.kind == CaReference::Kind::kSecret;
  if (secret && !read_secrets_) {
    return R::failure("Secret " + ref.ns + "/" + ref.name + " not read (reading Secrets needs --probe-read-secrets)");
  }
  const std::string what = (secret ? "Secret " : "ConfigMap ") + ref.ns + "/" + ref.name;
  std::lock_guard<std::mutex> lock(mutex_);
  auto res = client_->get("/api/v1/namespaces/" + url_escape(ref.ns) + (secret ? "/secrets/" : "/configmaps/") +
                          url_escape(ref.name));
  if (!res) return R::failure(what + " could not be read: " + res.error());
  if (res->status == 404) return R::failure(what + " does not exist");
  if (res->status != 200) return R::failure(what + " could not be read: HTTP " + std::to_string(res->status));
  const json doc = json::parse(res->body, nullptr, false);
  const json data = doc.is_object() ? doc.value("data", json::object()) : json::object();
  const auto it = data.is_object() ? data.find(ref.key) : data.end();
  if (it == data.end() || !it->is_string()) return R::failure(what + " has no key " + ref.key);
  if (!secret) return it->get<std::string>();
  auto decoded = core::decode_base64(it->get<std::string>());
  if (!decoded) return R::failure(what + " key " + ref.key + " is not base64");
  return std::move(decoded).value();
}

BackendResolver api_backend_resolver(std::shared_ptr<ProbeLookups> lookups) {
  return [lookups](const std::string& ns, const std::string& name, int port) {
    return lookups->service_backends(ns, name, port);
  };
}

ScrapeSources api_scrape_sources(std::shared_ptr<ProbeLookups> lookups) {
  ScrapeSources out;
  out.endpoints = [lookups](const std::string& ns, const std::string& name, const PortMatch& port) {
    return lookups->endpoints(ns, name, port);
  };
  out.ca_pem = [lookups](const CaReference& ref) { return lookups->ca_pem(ref); };
  return out;
}

}  // namespace wirecheck::cluster
