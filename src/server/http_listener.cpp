#include "server/http_listener.hpp"

#include <linux/filter.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/intrusive/list.hpp>
#include <array>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "server/log.hpp"
#include "server/transport_metrics.hpp"

namespace wirecheck::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;
namespace bi = boost::intrusive;

// http::string_body for reading requests, but appending each buffer: Beast's
// string_body reader resizes the string (zero-filling every new byte) and
// then copies over it, a memset of the whole body per request (callgrind:
// 210 K instructions for a 200 KB review). The string is reserved to the
// Content-Length beforehand, so appending does not reallocate.
struct RequestBody {
  using value_type = std::string;

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec) {
      ec = {};
      if (!length) return;
      if (*length > body_.max_size()) {
        ec = http::error::buffer_overflow;
        return;
      }
      body_.reserve(static_cast<std::size_t>(*length));
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      const std::size_t extra = beast::buffer_bytes(buffers);
      if (extra > body_.max_size() - body_.size()) {
        ec = http::error::buffer_overflow;
        return 0;
      }
      ec = {};
      for (const auto b : beast::buffers_range_ref(buffers)) body_.append(static_cast<const char*>(b.data()), b.size());
      return extra;
    }

    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};
using Request = http::request<RequestBody>;
// Every I/O object runs on the listener's one io_context, so its executor
// type is named instead of Asio's default type-erased any_io_executor: the
// executor that every pending operation and completion handler copies is
// then a pointer, not a polymorphic wrapper (callgrind: ~3,300 instructions
// per request went to moving and destroying any_io_executor).
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Executor>;
using TcpStream = beast::basic_stream<tcp, Executor>;
using TlsStream = beast::ssl_stream<TcpStream>;

std::string_view HttpHead::path() const {
  const std::string_view t = target();
  return t.substr(0, t.find('?'));
}

namespace {

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// A peer that went away: nothing to count or answer.
bool is_disconnect(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::error::broken_pipe || ec == asio::error::bad_descriptor ||
         ec == asio::ssl::error::stream_truncated || ec == http::error::partial_message;
}

// Why a handshake failed, from OpenSSL's reason code (asio keeps the packed
// error as the error_code's value).
std::optional<HandshakeFailure> classify_handshake(const error_code& ec) {
  if (is_disconnect(ec) || ec == beast::error::timeout) return std::nullopt;
  if (ec.category() != asio::error::get_ssl_category()) return HandshakeFailure::kOther;
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return HandshakeFailure::kNoClientCertificate;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:     // the client's certificate
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:        // the client does not trust ours
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
      return HandshakeFailure::kUnknownCa;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_NO_SHARED_CIPHER:
      return HandshakeFailure::kProtocolVersion;
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_RECORD_LENGTH_MISMATCH:
      return HandshakeFailure::kNotTls;
    default:
      return HandshakeFailure::kOther;
  }
}

// At most one log line per key every 10 s, saying how many were left out.
class RateLimitedLog {
 public:
  bool allow(std::size_t key, std::uint64_t& suppressed) {
    const std::int64_t now = now_ns();
    std::lock_guard<std::mutex> lock(mutex_);
    Slot& slot = slots_[key % slots_.size()];
    if (slot.last_ns != 0 && now - slot.last_ns < 10'000'000'000) {
      ++slot.suppressed;
      return false;
    }
    slot.last_ns = now;
    suppressed = slot.suppressed;
    slot.suppressed = 0;
    return true;
  }

 private:
  struct Slot {
    std::int64_t last_ns = 0;
    std::uint64_t suppressed = 0;
  };
  std::mutex mutex_;
  std::array<Slot, 16> slots_{};
};

enum class Phase { kHandshake, kAwaitFirst, kHead, kBody, kDeciding, kWriting, kIdle, kClosing };

// Links of a session in the listener's eviction queues; each unlinks itself
// when the session goes.
using QueueHook = bi::list_member_hook<bi::link_mode<bi::auto_unlink>>;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Closes the socket now (pending operations end with operation_aborted).
  virtual void close_now() = 0;
  // Closes with a FIN once nothing is being answered: at shutdown.
  virtual void close_quietly() = 0;
  Phase phase() const { return phase_; }
  Clock::time_point accepted() const { return accepted_; }
  bool pending() const { return pending_hook_.is_linked(); }

  QueueHook pending_hook_;  // Impl::pending: no complete request head yet, oldest first
  QueueHook source_hook_;   // the same, per source address
  QueueHook idle_hook_;     // Impl::idle_queue: idle keep-alive, longest idle first
  std::string source_;      // the peer's address bytes (key of Impl::sources)

 protected:
  Phase phase_ = Phase::kHandshake;
  Clock::time_point accepted_{};
};

template <QueueHook SessionBase::*Hook>
using SessionQueue = bi::list<SessionBase, bi::member_hook<SessionBase, QueueHook, Hook>,
                              bi::constant_time_size<false>>;
using PendingQueue = SessionQueue<&SessionBase::pending_hook_>;
using SourceQueue = SessionQueue<&SessionBase::source_hook_>;
using IdleQueue = SessionQueue<&SessionBase::idle_hook_>;

// The address of a peer as bytes (an IPv4-mapped IPv6 address as IPv4), the
// key that per-source limits count by.
std::string source_key(const tcp::endpoint& peer) {
  asio::ip::address a = peer.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    const auto bytes = a.to_v4().to_bytes();
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  const auto bytes = a.to_v6().to_bytes();
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

class BeastHead final : public HttpHead {
 public:
  void bind(const Request* req) { req_ = req; }
  void set_remote(std::string remote) { remote_ = std::move(remote); }
  std::string_view method() const override { return sv(req_->method_string()); }
  std::string_view target() const override { return sv(req_->target()); }
  bool has(std::string_view name) const override {
    return req_->find(beast::string_view(name.data(), name.size())) != req_->end();
  }
  std::string_view header(std::string_view name) const override {
    const auto it = req_->find(beast::string_view(name.data(), name.size()));
    return it == req_->end() ? std::string_view() : sv(it->value());
  }
  const std::string& remote() const override { return remote_; }

 private:
  const Request* req_ = nullptr;
  std::string remote_;
};

}  // namespace

struct HttpListener::Impl {
  Impl(HttpRoutes& r, TransportMetrics& m, HttpListenerOptions o)
      : routes(r), metrics(m), opt(std::move(o)) {}

  HttpRoutes& routes;
  TransportMetrics& metrics;
  HttpListenerOptions opt;
  asio::io_context io{1};
  std::optional<asio::ssl::context> tls;
  Acceptor acceptor{io.get_executor()};
  Timer tick{io.get_executor()};
  Timer accept_retry{io.get_executor()};
  std::unique_ptr<asio::thread_pool> workers;
  std::thread thread;
  std::unordered_set<SessionBase*> sessions;  // I/O thread only
  // Eviction queues and per-source counts of pending connections (I/O thread only).
  struct Source {
    SourceQueue queue;
    std::size_t count = 0;
  };
  PendingQueue pending;
  IdleQueue idle_queue;
  std::unordered_map<std::string, Source> sources;
  Timer grace_timer{io.get_executor()};
  std::size_t live = 0;                     // sessions whose socket is open (I/O thread only)
  std::atomic<std::size_t> open{0};         // = live, for readiness
  std::atomic<std::size_t> idle{0};
  std::atomic<std::size_t> pending_count{0};
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> acceptor_broken{false};
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::int64_t> last_tick_ns{0};
  std::atomic<std::int64_t> accept_failing_since_ns{0};  // 0: the last accept worked
  int port = 0;
  RateLimitedLog log_limit;
  std::size_t body_bytes = 0;                      // I/O thread only
  std::deque<std::function<bool()>> body_waiters;  // each: true once it took its bytes

  // Reserves `n` body bytes: true when they fit (or nothing else is held).
  bool reserve_body(std::size_t n) {
    if (body_bytes > 0 && body_bytes + n > opt.max_body_bytes_in_flight) return false;
    body_bytes += n;
    return true;
  }
  void release_body(std::size_t n) {
    body_bytes -= std::min(body_bytes, n);
    while (!body_waiters.empty()) {
      auto next = std::move(body_waiters.front());
      body_waiters.pop_front();
      if (!next()) {
        body_waiters.push_front(std::move(next));
        break;
      }
    }
  }

  void do_accept();
  void on_accept(const error_code& ec, Socket socket);
  void admit(Socket socket);
  bool close_oldest_idle();
  bool close_oldest_pending(PendingClose why, SourceQueue* from = nullptr);
  void enter_pending(SessionBase& s);
  void leave_pending(SessionBase& s);
  void drain_backlog();
  void close_pending_at_stop(bool all);
  void schedule_tick();
  void handshake_failed(HandshakeFailure why, const std::string& remote, const error_code& ec);
  template <class Stream>
  void open_session(Socket socket, std::string remote, std::string source);
};

namespace {

// One connection, plain or TLS. Lives as long as an operation on it is
// pending (shared_from_this in every handler).
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, TcpStream>;

 public:
  Session(HttpListener::Impl& impl, std::string remote, std::string source, Socket socket)
      : impl_(impl), raw_(std::move(socket)), timer_(raw_.get_executor()),
        buffer_(std::max<std::size_t>(64 * 1024, impl.opt.max_head_bytes * 2)) {
    if constexpr (!kTls) stream_.emplace(std::move(raw_));
    head_.set_remote(std::move(remote));
    source_ = std::move(source);
    accepted_ = Clock::now();
    impl_.sessions.insert(this);
    ++impl_.live;
    impl_.open.store(impl_.live, std::memory_order_relaxed);
    impl_.enter_pending(*this);
    impl_.metrics.connection_opened();
  }

  ~Session() override {
    set_phase(Phase::kClosing);
    end_request();
    give_back_body();
    release_slot();
    impl_.sessions.erase(this);
    impl_.metrics.connection_closed();
  }

  void start() {
    lowest().expires_at(accepted_ + impl_.opt.head_timeout);
    if constexpr (kTls) {
      // The TLS stream (Asio's two 17 KB record buffers, OpenSSL's state) is
      // made only once the client sends something: a connection that never
      // starts TLS costs a socket and this object.
      set_phase(Phase::kHandshake);
      timer_.expires_at(accepted_ + impl_.opt.head_timeout);
      timer_.async_wait([self = this->shared_from_this()](const error_code& ec) {
        if (ec || self->stream_ || self->released_) return;
        self->impl_.metrics.deadline_exceeded(Deadline::kHead);
        self->close_now();
      });
      raw_.socket().async_wait(Socket::wait_read, [self = this->shared_from_this()](const error_code& ec) {
        self->timer_.cancel();
        if (ec || !self->raw_.socket().is_open()) return;
        self->stream_.emplace(std::move(self->raw_), *self->impl_.tls);
        self->lowest().expires_at(self->accepted_ + self->impl_.opt.head_timeout);
        self->stream_->async_handshake(asio::ssl::stream_base::server,
                                       [self](const error_code& hs) { self->on_handshake(hs); });
      });
    } else {
      await_request(true);
    }
  }

  void close_now() override {
    release_slot();
    set_phase(Phase::kClosing);
    timer_.cancel();
    error_code ignored;
    lowest().socket().shutdown(Socket::shutdown_both, ignored);
    lowest().close();
  }

  // An idle keep-alive connection at shutdown: a FIN now, then whatever
  // the peer still sends is read and dropped until it closes or the linger
  // ends, so that a request racing the close meets an orderly end of stream,
  // not a reset.
  void close_quietly() override {
    release_slot();
    set_phase(Phase::kClosing);
    quiet_ = true;
    error_code ignored;
    lowest().socket().shutdown(Socket::shutdown_send, ignored);
    // The read of the next request is still pending (on_first_bytes drops
    // what it brings); the stream's own timer keeps the idle deadline, so
    // the linger is this timer's.
    timer_.expires_after(impl_.opt.linger);
    timer_.async_wait([self = this->shared_from_this()](const error_code& ec) {
      if (ec) return;
      self->lowest().close();
    });
  }

 private:
  TcpStream& lowest() { return stream_ ? beast::get_lowest_layer(*stream_) : raw_; }

  // The connection stops counting against the cap and the pending limits.
  void release_slot() {
    if (released_) return;
    released_ = true;
    --impl_.live;
    impl_.open.store(impl_.live, std::memory_order_relaxed);
    impl_.leave_pending(*this);
  }

  void set_phase(Phase p) {
    if (p == phase_) return;
    if (phase_ == Phase::kIdle) {
      impl_.idle.fetch_sub(1, std::memory_order_relaxed);
      idle_hook_.unlink();
    }
    if (p == Phase::kIdle && !released_) {
      impl_.idle.fetch_add(1, std::memory_order_relaxed);
      impl_.idle_queue.push_back(*this);
    }
    phase_ = p;
  }

  void on_handshake(const error_code& ec) {
    if (ec) {
      if (ec == beast::error::timeout) impl_.metrics.deadline_exceeded(Deadline::kHead);
      if (auto why = classify_handshake(ec)) impl_.handshake_failed(*why, head_.remote(), ec);
      return;
    }
    await_request(true);
  }

  // Waits for the first byte of the next request: the idle keep-alive wait,
  // or for the first request the rest of the head deadline from accept.
  void await_request(bool first) {
    first_ = first;
    if (impl_.stopping.load() && !first) return graceful_close();
    if (buffer_.size() > 0) return begin_request();  // pipelined
    if (first) {
      set_phase(Phase::kAwaitFirst);
    } else {
      if (buffer_.capacity() > 4096) buffer_.shrink_to_fit();
      lowest().expires_after(impl_.opt.idle_timeout);
      set_phase(Phase::kIdle);
    }
    stream_->async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](const error_code& ec, std::size_t n) {
                              self->on_first_bytes(ec, n);
                            });
  }

  void on_first_bytes(const error_code& ec, std::size_t n) {
    if (quiet_) {
      if (!ec) discard(false);
      return;
    }
    if (ec) {
      if (ec == beast::error::timeout) {
        if (phase_ == Phase::kIdle) impl_.metrics.idle_timed_out();
        else impl_.metrics.deadline_exceeded(Deadline::kHead);
      }
      return;
    }
    buffer_.commit(n);
    begin_request();
  }

  Clock::time_point request_deadline() const {
    if (impl_.opt.request_timeout.count() <= 0) return Clock::time_point::max();
    return request_start_ + impl_.opt.request_timeout;
  }

  void begin_request() {
    request_start_ = first_ ? accepted_ : Clock::now();
    if (!counted_) {
      counted_ = true;
      impl_.in_flight.fetch_add(1);
    }
    set_phase(Phase::kHead);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(impl_.opt.max_head_bytes));
    parser_->body_limit(impl_.opt.max_body_bytes);
    const Clock::time_point head_end = request_start_ + impl_.opt.head_timeout;
    head_deadline_is_request_ = request_deadline() < head_end;
    lowest().expires_at(std::min(head_end, request_deadline()));
    http::async_read_header(*stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                              self->on_head(ec);
                            });
  }

  void end_request() {
    if (counted_) {
      counted_ = false;
      impl_.in_flight.fetch_sub(1);
    }
  }

  // After a head-limit error: whether the request line is what was too long.
  // Beast consumes the request line once it has parsed it, and fills in the
  // target; an unparsed line is still at the front of the buffer.
  bool request_line_too_long() const {
    const auto target = parser_->get().target();
    if (!target.empty()) return target.size() > impl_.opt.max_request_line;
    const auto data = buffer_.data();
    const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    const std::size_t eol = bytes.find('\n');
    return (eol == std::string_view::npos ? bytes.size() : eol) > impl_.opt.max_request_line;
  }

  void refuse(int status, std::string_view reason, std::string_view message) {
    answer_ = HttpAnswer{};
    impl_.routes.refuse(status, reason, message, answer_);
    answer_.close = true;
    write_answer();
  }

  // A request Beast could not read: too large a body (413), malformed (400),
  // or a peer that went away (nothing to answer).
  void refuse_unreadable(const error_code& ec) {
    if (ec == http::error::body_limit) {
      refuse(413, "RequestEntityTooLarge",
             "body is over the limit of " + std::to_string(impl_.opt.max_body_bytes) + " bytes");
    } else if (!is_disconnect(ec)) {
      refuse(400, "BadRequest", "malformed HTTP request: " + ec.message());
    }
  }

  void on_head(const error_code& ec) {
    // A complete head (or an error that ends the connection): no longer
    // pending, never evicted to make room from here on.
    impl_.leave_pending(*this);
    if (ec) {
      if (ec == beast::error::timeout) {
        impl_.metrics.deadline_exceeded(head_deadline_is_request_ ? Deadline::kRequest : Deadline::kHead);
      } else if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        if (request_line_too_long()) {
          refuse(414, "RequestURITooLong",
                 "request line over " + std::to_string(impl_.opt.max_request_line) + " bytes");
        } else {
          refuse(431, "RequestHeaderFieldsTooLarge",
                 "request head over " + std::to_string(impl_.opt.max_head_bytes) + " bytes");
        }
      } else {
        refuse_unreadable(ec);
      }
      return;
    }
    Request& req = parser_->get();
    head_.bind(&req);
    if (req.target().size() > impl_.opt.max_request_line) {
      return refuse(414, "RequestURITooLong",
                    "request line over " + std::to_string(impl_.opt.max_request_line) + " bytes");
    }
    std::size_t fields = 0;
    for (auto it = req.begin(); it != req.end(); ++it) ++fields;
    if (fields > impl_.opt.max_header_fields) {
      return refuse(431, "RequestHeaderFieldsTooLarge",
                    "more than " + std::to_string(impl_.opt.max_header_fields) + " header fields");
    }
    answer_ = HttpAnswer{};
    if (!impl_.routes.accept_head(head_, answer_)) {
      const auto length = parser_->content_length();
      if (parser_->chunked() || (length && *length > 0)) answer_.close = true;
      return write_answer();
    }
    set_phase(Phase::kBody);
    const std::size_t need = static_cast<std::size_t>(parser_->content_length().value_or(0)) + impl_.opt.body_padding;
    if (!impl_.reserve_body(need)) return wait_for_body_budget(need);
    start_body(need);
  }

  // Other requests hold the body budget: wait (bounded by the request
  // deadline) until answers written give enough of it back, in arrival order.
  void wait_for_body_budget(std::size_t need) {
    timer_.expires_at(request_deadline());
    timer_.async_wait([self = this->shared_from_this()](const error_code& ec) {
      if (ec || self->body_reserved_ > 0 || self->released_) return;
      self->impl_.metrics.deadline_exceeded(Deadline::kRequest);
      self->close_now();
    });
    impl_.body_waiters.emplace_back([weak = this->weak_from_this(), need]() {
      auto self = weak.lock();
      if (!self || !self->lowest().socket().is_open()) return true;  // gone: skip it
      if (!self->impl_.reserve_body(need)) return false;
      self->timer_.cancel();
      self->start_body(need);
      return true;
    });
  }

  void start_body(std::size_t reserved) {
    body_reserved_ = reserved;
    Request& req = parser_->get();
    req.body().reserve(reserved);
    lowest().expires_at(request_deadline());
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, req.version());
      http::async_write(*stream_, *continue_,
                        [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                          if (ec) return self->on_body(ec);
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(*stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](const error_code& ec, std::size_t) { self->on_body(ec); });
  }

  void on_body(const error_code& ec) {
    if (ec) {
      if (ec == beast::error::timeout) {
        impl_.metrics.deadline_exceeded(Deadline::kRequest);
      } else {
        refuse_unreadable(ec);
      }
      return;
    }
    std::string& body = parser_->get().body();
    if (impl_.opt.body_padding > 0) {
      const std::size_t size = body.size();
      body.append(impl_.opt.body_padding, '\0');  // within the reserved capacity
      body.resize(size);
    }
    set_phase(Phase::kDeciding);
    lowest().expires_never();
    if (impl_.workers && body.size() > impl_.opt.inline_body_bytes) {
      asio::post(*impl_.workers, [self = this->shared_from_this(), guard = asio::make_work_guard(impl_.io)] {
        self->impl_.metrics.worker_busy(1);
        self->respond();
        self->impl_.metrics.worker_busy(-1);
        asio::post(self->impl_.io, [self] { self->write_answer(); });
      });
      return;
    }
    respond();
    write_answer();
  }

  void respond() {
    try {
      impl_.routes.respond(head_, parser_->get().body(), answer_);
    } catch (...) {
      answer_ = HttpAnswer{};
      impl_.routes.refuse(500, "InternalError", "internal error", answer_);
    }
  }

  void write_answer() {
    const bool client_keeps = parser_ && parser_->is_header_done() && parser_->get().keep_alive();
    keep_alive_ = client_keeps && !answer_.close && !impl_.draining.load() && !impl_.stopping.load();
    // The head and body in one buffer, written with one TLS record and one
    // send: what Beast's serializer produced for this message, without its
    // buffer-sequence adaptors and the copy that flattens them for TLS.
    wire_.clear();
    wire_.reserve(128 + answer_.body.size());
    wire_ += "HTTP/1.1 ";
    wire_ += std::to_string(answer_.status);
    wire_ += ' ';
    wire_ += sv(http::obsolete_reason(http::int_to_status(static_cast<unsigned>(answer_.status))));
    wire_ += "\r\n";
    const auto field = [this](std::string_view name, std::string_view value) {
      wire_ += name;
      wire_ += ": ";
      wire_ += value;
      wire_ += "\r\n";
    };
    if (!answer_.content_type.empty()) field("Content-Type", answer_.content_type);
    for (const auto& [name, value] : answer_.headers) field(name, value);
    field("Content-Length", std::to_string(answer_.body.size()));
    if (!keep_alive_) field("Connection", "close");
    wire_ += "\r\n";
    wire_ += answer_.body;
    answer_.body = std::string();
    set_phase(Phase::kWriting);
    lowest().expires_after(impl_.opt.write_timeout);
    asio::async_write(*stream_, asio::buffer(wire_), [self = this->shared_from_this()](const error_code& ec, std::size_t) {
      self->on_written(ec);
    });
  }

  void give_back_body() {
    if (body_reserved_ == 0) return;
    const std::size_t n = body_reserved_;
    body_reserved_ = 0;
    impl_.release_body(n);
  }

  void on_written(const error_code& ec) {
    // A small buffer is kept for the next answer; a large one goes now.
    if (wire_.capacity() > 4096) wire_ = std::string();
    end_request();
    if (parser_) parser_->get().body() = std::string();  // the memory goes with the budget
    give_back_body();
    if (ec) {
      if (ec == beast::error::timeout) impl_.metrics.deadline_exceeded(Deadline::kWrite);
      return;
    }
    if (!keep_alive_) return graceful_close();
    parser_.reset();
    continue_.reset();
    await_request(false);
  }

  // The answer is out: stop sending, then read (and drop) whatever the peer
  // still sends for a short while, so that an unread body does not turn the
  // close into a reset that destroys the answer before the peer reads it.
  void graceful_close() {
    set_phase(Phase::kClosing);
    error_code ignored;
    lowest().socket().shutdown(Socket::shutdown_send, ignored);
    lowest().expires_after(impl_.opt.linger);
    discard(true);
  }

  // `count`: a linger that runs out is a deadline cut (not at shutdown,
  // where the close was counted already).
  void discard(bool count) {
    lowest().async_read_some(asio::buffer(drain_), [self = this->shared_from_this(), count](const error_code& ec, std::size_t) {
      if (!ec) return self->discard(count);
      if (count && ec == beast::error::timeout) self->impl_.metrics.deadline_exceeded(Deadline::kLinger);
    });
  }

  HttpListener::Impl& impl_;
  TcpStream raw_;                  // the connection until the TLS stream is made
  Timer timer_;                    // the head deadline while waiting for the first byte
  std::optional<Stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<RequestBody>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::string wire_;  // the answer being written
  BeastHead head_;
  HttpAnswer answer_;
  Clock::time_point request_start_{};
  bool first_ = true;
  bool released_ = false;  // no longer counted against the cap
  bool quiet_ = false;     // closing quietly at shutdown
  bool counted_ = false;
  bool keep_alive_ = false;
  bool head_deadline_is_request_ = false;
  std::size_t body_reserved_ = 0;
  std::array<char, 1024> drain_{};
};

}  // namespace

template <class Stream>
void HttpListener::Impl::open_session(Socket socket, std::string remote, std::string source) {
  auto session = std::make_shared<Session<Stream>>(*this, std::move(remote), std::move(source), std::move(socket));
  session->start();
}

void HttpListener::Impl::do_accept() {
  acceptor.async_accept([this](const error_code& ec, Socket socket) { on_accept(ec, std::move(socket)); });
}

void HttpListener::Impl::enter_pending(SessionBase& s) {
  pending.push_back(s);
  Source& src = sources[s.source_];
  src.queue.push_back(s);
  ++src.count;
  pending_count.store(pending_count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void HttpListener::Impl::leave_pending(SessionBase& s) {
  if (!s.pending_hook_.is_linked()) return;
  s.pending_hook_.unlink();
  s.source_hook_.unlink();
  pending_count.store(pending_count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  const auto it = sources.find(s.source_);
  if (it != sources.end() && --it->second.count == 0) sources.erase(it);
}

// The oldest pending connection (of one source, or of all) makes room.
bool HttpListener::Impl::close_oldest_pending(PendingClose why, SourceQueue* from) {
  SessionBase* oldest = nullptr;
  if (from != nullptr) {
    if (!from->empty()) oldest = &from->front();
  } else if (!pending.empty()) {
    oldest = &pending.front();
  }
  if (oldest == nullptr) return false;
  oldest->close_now();  // leaves the queues (and may erase `from`)
  metrics.pending_closed(why);
  return true;
}

bool HttpListener::Impl::close_oldest_idle() {
  if (idle_queue.empty()) return false;
  idle_queue.front().close_now();
  metrics.idle_closed_for_room();
  return true;
}

void HttpListener::Impl::on_accept(const error_code& ec, Socket socket) {
  if (ec && (stopping.load() || !acceptor.is_open())) return;
  if (stopping.load()) {
    // Accepted just before stop: served like the backlog (never cut).
    admit(std::move(socket));
    return;
  }
  if (ec) {
    // Out of descriptors or memory: make room if we can, and retry shortly
    // instead of spinning on an accept that keeps failing.
    std::uint64_t suppressed = 0;
    if (log_limit.allow(15, suppressed)) {
      LogLine("accept failed").str("listener", opt.name).str("error", ec.message())
          .num("suppressed", static_cast<std::int64_t>(suppressed)).emit(spdlog::level::warn);
    }
    std::int64_t none = 0;
    accept_failing_since_ns.compare_exchange_strong(none, now_ns());
    if (!close_oldest_pending(PendingClose::kCap)) close_oldest_idle();
    accept_retry.expires_after(std::chrono::milliseconds(20));
    accept_retry.async_wait([this](const error_code& wait_ec) {
      if (!wait_ec) do_accept();
    });
    return;
  }
  accept_failing_since_ns.store(0, std::memory_order_relaxed);
  admit(std::move(socket));
  do_accept();
}

// Makes room for a new connection (its source's oldest pending one over the
// per-source limit; at the cap the oldest pending, else the oldest idle) and
// serves it, or refuses it when nothing can make room.
void HttpListener::Impl::admit(Socket socket) {
  error_code peer_ec;
  const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
  if (peer_ec) {
    // Gone between accept and now: nothing to serve.
    error_code ignored;
    socket.close(ignored);
    return;
  }
  std::string source = source_key(peer);
  if (opt.max_pending_per_source > 0) {
    const auto it = sources.find(source);
    if (it != sources.end() && it->second.count >= opt.max_pending_per_source) {
      close_oldest_pending(PendingClose::kSourceLimit, &it->second.queue);
    }
  }
  if (live >= opt.max_connections && !close_oldest_pending(PendingClose::kCap) && !close_oldest_idle()) {
    metrics.connection_refused();
    std::uint64_t suppressed = 0;
    if (log_limit.allow(14, suppressed)) {
      LogLine("connection refused: open-connection cap reached, every connection is in a request")
          .str("listener", opt.name)
          .num("cap", static_cast<std::int64_t>(opt.max_connections))
          .num("suppressed", static_cast<std::int64_t>(suppressed)).emit(spdlog::level::warn);
    }
    error_code ignored;
    socket.close(ignored);
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string remote = peer.address().to_string() + ":" + std::to_string(peer.port());
  if (tls) open_session<TlsStream>(std::move(socket), std::move(remote), std::move(source));
  else open_session<TcpStream>(std::move(socket), std::move(remote), std::move(source));
}

namespace {

// A classic BPF program for the listening socket that drops segments with
// SYN set and ACK clear: no new connection starts, while handshakes already
// under way complete into the backlog. Dropped SYNs are retransmitted by
// the client and then find the port closed (connection refused), before any
// byte of TLS.
bool drop_new_syns(int fd) {
  static sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),            // TCP flags
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x10, 2, 0),  // ACK: keep
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x02, 0, 1),  // SYN: drop
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFFu),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0;
}

}  // namespace

// Closing a listening socket resets every connection still in its accept
// backlog. So new SYNs are dropped first, the backlog is accepted until it
// is empty (those connections are served, with `Connection: close`), and
// only then is the socket closed.
void HttpListener::Impl::drain_backlog() {
  if (!acceptor.is_open()) return;
  const bool filtered = drop_new_syns(acceptor.native_handle());
  error_code ec;
  acceptor.cancel(ec);  // the pending async_accept ends with operation_aborted
  acceptor.non_blocking(true, ec);
  for (int i = 0; i < 65536; ++i) {
    Socket socket(io.get_executor());
    acceptor.accept(socket, ec);
    if (ec) break;  // would_block: the backlog is empty
    admit(std::move(socket));
  }
  (void)filtered;
  acceptor.close(ec);
}

// At stop: pending connections accepted more than stop_grace ago (or all,
// once the grace has run out) are closed.
void HttpListener::Impl::close_pending_at_stop(bool all) {
  const auto cutoff = Clock::now() - opt.stop_grace;
  std::vector<SessionBase*> old;
  for (SessionBase& s : pending) {
    if (all || s.accepted() <= cutoff) old.push_back(&s);
  }
  for (SessionBase* s : old) {
    s->close_now();
    metrics.pending_closed(PendingClose::kShutdown);
  }
}

void HttpListener::Impl::schedule_tick() {
  last_tick_ns.store(now_ns(), std::memory_order_relaxed);
  tick.expires_after(std::chrono::milliseconds(250));
  tick.async_wait([this](const error_code& ec) {
    if (!ec && !stopping.load()) schedule_tick();
  });
}

void HttpListener::Impl::handshake_failed(HandshakeFailure why, const std::string& remote, const error_code& ec) {
  metrics.handshake_failed(why);
  std::uint64_t suppressed = 0;
  if (!log_limit.allow(static_cast<std::size_t>(why), suppressed)) return;
  LogLine("TLS handshake failed")
      .str("listener", opt.name)
      .str("reason", handshake_failure_name(why))
      .str("peer", remote)
      .str("error", ec.message())
      .num("suppressedSinceLast", static_cast<std::int64_t>(suppressed))
      .emit(spdlog::level::warn);
}

HttpListener::HttpListener(HttpRoutes& routes, TransportMetrics& metrics, HttpListenerOptions options)
    : impl_(std::make_unique<Impl>(routes, metrics, std::move(options))) {}

HttpListener::~HttpListener() { stop(true); }

core::Status HttpListener::bind() {
  Impl& s = *impl_;
  if (s.opt.configure_tls) {
    s.tls.emplace(asio::ssl::context::tls_server);
    SSL_CTX* ctx = s.tls->native_handle();
    // Idle connections keep no record buffers (a few KB each instead of ~35).
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (auto status = s.opt.configure_tls(*ctx); !status) return status;
  }
  const std::string where = s.opt.host + ":" + std::to_string(s.opt.port);
  error_code ec;
  asio::ip::address address = asio::ip::make_address(s.opt.host, ec);
  if (ec) {
    tcp::resolver resolver(s.io);
    const auto results = resolver.resolve(s.opt.host, "", ec);
    if (ec || results.empty()) return core::Status::failure("cannot resolve " + s.opt.host);
    address = results.begin()->endpoint().address();
  }
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(s.opt.port));
  // SO_REUSEADDR only (never SO_REUSEPORT): a restart may reuse a port in
  // TIME_WAIT, a second live listener gets "address in use".
  if (!s.acceptor.open(endpoint.protocol(), ec) && !ec) {
    s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec) s.acceptor.bind(endpoint, ec);
  // The kernel clamps to net.core.somaxconn: a burst of API server
  // connections is queued, not dropped.
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    s.acceptor.close(ignored);
    return core::Status::failure("cannot bind " + where + ": " + ec.message());
  }
  s.port = s.acceptor.local_endpoint().port();
  if (s.opt.workers > 0) s.workers = std::make_unique<asio::thread_pool>(s.opt.workers);
  s.metrics.set_workers(static_cast<std::int64_t>(s.opt.workers));
  return core::ok_status();
}

void HttpListener::start() {
  Impl& s = *impl_;
  if (!s.acceptor.is_open() || s.started.exchange(true)) return;
  s.schedule_tick();
  s.do_accept();
  s.thread = std::thread([&s] {
    for (;;) {
      try {
        s.io.run();
        break;
      } catch (const std::exception& e) {
        // A handler threw (it should not): log and keep serving.
        LogLine("I/O loop error").str("listener", s.opt.name).str("error", e.what()).emit(spdlog::level::err);
      }
    }
    s.finished.store(true);
  });
}

void HttpListener::begin_drain() { impl_->draining.store(true); }
bool HttpListener::draining() const { return impl_->draining.load(); }

void HttpListener::stop(bool join) {
  Impl& s = *impl_;
  if (!s.started.load()) {
    error_code ignored;
    s.acceptor.close(ignored);
    return;
  }
  if (!s.stopping.exchange(true)) {
    asio::post(s.io, [&s] {
      s.drain_backlog();
      s.tick.cancel();
      s.accept_retry.cancel();
      // Idle connections go now with a FIN; pending ones that have had their
      // grace go now, the others when it ends unless they make their request;
      // requests under way are answered (with `Connection: close`).
      std::vector<SessionBase*> idle;
      for (SessionBase& session : s.idle_queue) idle.push_back(&session);
      for (SessionBase* session : idle) {
        session->close_quietly();
        s.metrics.idle_closed_at_shutdown();
      }
      s.close_pending_at_stop(false);
      if (!s.pending.empty()) {
        s.grace_timer.expires_after(s.opt.stop_grace);
        s.grace_timer.async_wait([&s](const error_code& ec) {
          if (!ec) s.close_pending_at_stop(true);
        });
      }
    });
  }
  if (!join || !s.thread.joinable()) return;
  // Bounded: after a grace period, connections still open are cut.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!s.finished.load() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (!s.finished.load()) {
    asio::post(s.io, [&s] {
      std::vector<SessionBase*> all(s.sessions.begin(), s.sessions.end());
      for (SessionBase* session : all) session->close_now();
    });
  }
  s.thread.join();
  if (s.workers) s.workers->join();
}

int HttpListener::port() const { return impl_->port; }
std::int64_t HttpListener::in_flight() const { return impl_->in_flight.load(); }

bool HttpListener::wait_closed(std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (impl_->started.load() && !impl_->finished.load()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

bool HttpListener::wait_idle(std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (impl_->in_flight.load() > 0) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string HttpListener::not_live_reason() const {
  const Impl& s = *impl_;
  if (!s.started.load() || s.stopping.load()) return {};
  if (s.finished.load()) return s.opt.name + " listener stopped serving";
  const std::int64_t lag_ms = (now_ns() - s.last_tick_ns.load(std::memory_order_relaxed)) / 1'000'000;
  if (lag_ms > 10'000) return s.opt.name + " I/O loop has not turned for " + std::to_string(lag_ms) + " ms";
  const std::int64_t failing = s.accept_failing_since_ns.load(std::memory_order_relaxed);
  if (failing != 0 && now_ns() - failing > 10'000'000'000) {
    return s.opt.name + " listener has failed to accept connections for over 10 s";
  }
  return {};
}

std::string HttpListener::not_ready_reason() const {
  const Impl& s = *impl_;
  if (std::string dead = not_live_reason(); !dead.empty()) return dead;
  const std::int64_t lag_ms = (now_ns() - s.last_tick_ns.load(std::memory_order_relaxed)) / 1'000'000;
  if (s.started.load() && lag_ms > 1'000) {
    return s.opt.name + " I/O loop is " + std::to_string(lag_ms) + " ms behind";
  }
  if (s.accept_failing_since_ns.load(std::memory_order_relaxed) != 0) {
    return s.opt.name + " listener cannot accept connections (out of descriptors or memory)";
  }
  if (s.open.load(std::memory_order_relaxed) >= s.opt.max_connections && s.idle.load(std::memory_order_relaxed) == 0 &&
      s.pending_count.load(std::memory_order_relaxed) == 0) {
    return s.opt.name + " listener is at its cap of " + std::to_string(s.opt.max_connections) +
           " open connections, every one in a request";
  }
  return {};
}

}  // namespace wirecheck::server
