// The cluster cache's metrics (wirecheck_cluster_*), rendered from
// ClusterCache::status() as a Metrics section. Bounded labels: one series
// per watched kind (and per sync state).
#pragma once

#include <string>

#include "cluster/cluster_cache.hpp"

namespace wirecheck::server {

void render_cluster_metrics(const cluster::ClusterCache& cache, std::string& out);

}  // namespace wirecheck::server
