// Binding a listener. cpp-httplib's default socket options set SO_REUSEPORT,
// which lets a second process bind a port that is already serving and share
// its traffic silently (a stale or doubled wirecheck would answer half the
// API server's calls). wirecheck binds with SO_REUSEADDR only: a restart can
// reuse a port in TIME_WAIT, a second live listener gets "address in use".
#pragma once

#include <httplib.h>

#include <string>

#include "wirecheck/result.hpp"

namespace wirecheck::server {

// Binds `server` to host:port (port 0: any free port) exclusively. Returns
// the bound port.
core::Result<int> bind_exclusive(httplib::Server& server, const std::string& host, int port);

}  // namespace wirecheck::server
