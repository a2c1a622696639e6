// The audit's inputs read from a live API server: an ObjectSource that
// discovers each kind and LISTs it once (paginated, never a watch), and the
// BackendResolver the live prober uses to find where a Service sends calls
// (the Service's type, ClusterIP and targetPort, and its Endpoints' ready
// addresses). Reads ConfigMaps (key names only: the references monitors
// make) and Secrets only when asked to (names and key names, never values).
//
// Thread-safety: the source is called from one thread; the resolver from
// the prober's workers (it serialises its requests on one client).
#pragma once

#include <memory>

#include "cluster/api_client.hpp"
#include "cluster/audit.hpp"
#include "cluster/live_probe.hpp"

namespace wirecheck::cluster {

// `client` must outlive the source. Without `secrets`, asking for Secrets
// fails (the caller marks them unknown instead of asking).
ObjectSource api_object_source(ApiClient& client, std::size_t page_size = 500, bool secrets = false);

// `client` must outlive the resolver.
BackendResolver api_backend_resolver(std::shared_ptr<ApiClient> client);

}  // namespace wirecheck::cluster
