// The audit's inputs read from a live API server: an ObjectSource that
// discovers each kind and LISTs it once (paginated, never a watch), and the
// lookups the live probes make (ProbeLookups): where a Service sends calls
// (its type, ClusterIP and the ready addresses of its EndpointSlices, see
// endpoints.hpp) and the CA a ServiceMonitor names (a ConfigMap key; a
// Secret key only when the user allowed it, and then never logged).
// The ObjectSource lists ConfigMaps (key names only: what monitors reference)
// and Secrets only when asked to (names and key names, never values).
//
// Thread-safety: the source is called from one thread; the lookups from the
// probes' workers (they serialise their requests on one client).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "cluster/api_client.hpp"
#include "cluster/audit.hpp"
#include "cluster/endpoints.hpp"
#include "cluster/live_probe.hpp"
#include "cluster/scrape_probe.hpp"

namespace wirecheck::cluster {

// `client` must outlive the source. Without `secrets`, asking for Secrets
// fails (the caller marks them unknown instead of asking).
ObjectSource api_object_source(ApiClient& client, std::size_t page_size = 500, bool secrets = false);

class ProbeLookups {
 public:
  // `read_secrets`: tlsConfig.ca from a Secret may be read (opt-in).
  explicit ProbeLookups(std::shared_ptr<ApiClient> client, bool read_secrets = false);

  // Service `ns`/`name` for a call on Service port `port`.
  ServiceBackends service_backends(const std::string& ns, const std::string& name, int port);
  // The ready addresses behind `port` of Service `ns`/`name`: EndpointSlice
  // v1, else v1beta1, else Endpoints (the version found is remembered).
  EndpointAddresses endpoints(const std::string& ns, const std::string& name, const PortMatch& port);
  // The PEM under `ref` (a ConfigMap's data or a Secret's decoded data).
  core::Result<std::string> ca_pem(const CaReference& ref);

 private:
  EndpointAddresses endpoints_locked(const std::string& ns, const std::string& name, const PortMatch& port);

  std::shared_ptr<ApiClient> client_;
  bool read_secrets_;
  std::mutex mutex_;
  int slice_api_ = 0;  // 0 unknown, 1 v1, 2 v1beta1, 3 none served (Endpoints)
};

BackendResolver api_backend_resolver(std::shared_ptr<ProbeLookups> lookups);
ScrapeSources api_scrape_sources(std::shared_ptr<ProbeLookups> lookups);

}  // namespace wirecheck::cluster
