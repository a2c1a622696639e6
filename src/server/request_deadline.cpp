#include "server/request_deadline.hpp"

#include <sys/socket.h>

#include <mutex>

namespace wirecheck::server {

namespace {

struct ConnectionClock {
  std::int64_t started_ns = 0;  // 0: idle (between requests)
  bool cut = false;
};

void free_clock(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<ConnectionClock*>(ptr);
}

// One ex_data slot for every SSL object, freed with it.
int clock_index() {
  static int index = -1;
  static std::once_flag once;
  std::call_once(once, [] { index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, &free_clock); });
  return index;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void RequestDeadline::install(SSL_CTX& ctx) {
  if (limit_.count() <= 0) return;
  clock_index();
  SSL_CTX_set_msg_callback(&ctx, &RequestDeadline::on_message);
  SSL_CTX_set_msg_callback_arg(&ctx, this);
}

void RequestDeadline::request_done(const SSL* ssl) {
  if (ssl == nullptr) return;
  auto* clock = static_cast<ConnectionClock*>(SSL_get_ex_data(ssl, clock_index()));
  if (clock != nullptr) clock->started_ns = 0;
}

void RequestDeadline::on_message(int write_p, int, int content_type, const void*, std::size_t, SSL* ssl,
                                 void* arg) {
  // Only the header of each record the peer sends.
  if (write_p != 0 || content_type != SSL3_RT_HEADER) return;
  auto* self = static_cast<RequestDeadline*>(arg);
  auto* clock = static_cast<ConnectionClock*>(SSL_get_ex_data(ssl, clock_index()));
  if (clock == nullptr) {
    clock = new ConnectionClock();
    if (SSL_set_ex_data(ssl, clock_index(), clock) != 1) {
      delete clock;
      return;
    }
  }
  const std::int64_t now = now_ns();
  if (clock->started_ns == 0) {
    clock->started_ns = now;
    return;
  }
  if (!clock->cut && now - clock->started_ns > std::chrono::nanoseconds(self->limit_).count()) {
    clock->cut = true;
    if (self->on_exceeded_) self->on_exceeded_();
    // The reads that follow see end-of-stream and httplib closes the connection.
    const int fd = SSL_get_fd(ssl);
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }
}

}  // namespace wirecheck::server
