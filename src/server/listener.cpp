#include "server/listener.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace wirecheck::server {

core::Result<int> bind_exclusive(httplib::Server& server, const std::string& host, int port) {
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  errno = 0;
  const int bound = port == 0 ? server.bind_to_any_port(host)
                              : (server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    const std::string why = errno != 0 ? std::string(": ") + std::strerror(errno) : std::string();
    return core::Result<int>::failure("cannot bind " + host + ":" + std::to_string(port) + why);
  }
  return bound;
}

}  // namespace wirecheck::server
