// Why: see server.hpp. Each connection runs on its own strand; a request is read in two
// steps (header, then body) so that `Expect: 100-continue` gets its interim answer and an
// oversized Content-Length is refused before any body byte is read. After an error answer
// the connection lingers (reads and discards for a moment) before closing, so that the
// client reads the answer instead of a reset. An idle connection holds no read buffer
// beyond a small first-read one (docs/RELIABILITY.md has the figures).
#include "samples/http/server.hpp"

#include "samples/http/representation.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace es::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// The Date header, formatted once per second per thread.
const std::string& http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    char buf[64];
    const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cached_second = now;
  }
  return cached;
}

const beast::error_category& http_category() {
  static const auto& category = bhttp::make_error_code(bhttp::error::bad_method).category();
  return category;
}

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t kMaxDiscard = 16 * 1024 * 1024;
// The first read of a request: most requests fit; bigger ones grow the buffer as needed.
constexpr std::size_t kFirstRead = 1024;
// Connections past the cap that linger after their 503: at most a quarter of the cap (and
// at least 64), so that a flood cannot take the descriptors the cap leaves free.
constexpr std::size_t kMinRejecting = 64;
constexpr auto kRejectTimeout = std::chrono::seconds(1);

// The header of `response` (its body is sent as it is, from its own string).
std::string serialize_header(Response& response, beast::error_code& ec) {
  std::string out;
  bhttp::serializer<false, bhttp::string_body> serializer{response};
  serializer.split(true);
  while (!ec && !serializer.is_header_done()) {
    serializer.next(ec, [&](beast::error_code&, const auto& buffers) {
      for (const auto b : beast::buffers_range_ref(buffers)) {
        out.append(static_cast<const char*>(b.data()), b.size());
      }
      serializer.consume(beast::buffer_bytes(buffers));
    });
  }
  return out;
}

}  // namespace

struct HttpServer::Shared {
  std::shared_ptr<const Router> router;
  ServerOptions options;
  std::shared_ptr<AccessLog> log;
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> rejecting{0};  // connections past the cap being answered 503
  std::atomic<bool> draining{false};
  std::mutex mutex;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions;
};

// The body of a streamed answer: writers queue pieces from any thread; the session writes
// them on its strand (see Session::pump).
class HttpServer::Stream : public ResponseStream {
 public:
  explicit Stream(std::weak_ptr<Session> session) : session_(std::move(session)) {}

  bool write(std::string bytes) override {
    {
      std::lock_guard lock(mutex_);
      if (ended_ || ending_) return false;
      if (bytes.empty()) return true;
      pending_ += bytes.size();
      queue_.push_back(std::move(bytes));
    }
    kick();
    return true;
  }

  std::size_t pending() const override {
    std::lock_guard lock(mutex_);
    return pending_;
  }

  bool ended() const override {
    std::lock_guard lock(mutex_);
    return ended_ || ending_;
  }

  void end() override {
    {
      std::lock_guard lock(mutex_);
      if (ended_ || ending_) return;
      ending_ = true;
    }
    kick();
  }

  // The session's side, on its strand.
  std::vector<std::string> take(bool& ending) {
    std::lock_guard lock(mutex_);
    ending = ending_;
    std::vector<std::string> out;
    out.swap(queue_);
    return out;
  }
  void written(std::size_t n) {
    std::lock_guard lock(mutex_);
    pending_ -= std::min(n, pending_);
  }
  void finish() {
    std::lock_guard lock(mutex_);
    ended_ = true;
    queue_.clear();
    pending_ = 0;
  }

 private:
  void kick();

  std::weak_ptr<Session> session_;
  mutable std::mutex mutex_;
  std::vector<std::string> queue_;
  std::size_t pending_ = 0;
  bool ending_ = false;
  bool ended_ = false;
};

class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}

  ~Session() {
    {
      std::lock_guard lock(shared_->mutex);
      shared_->sessions.erase(this);
    }
    release_slot();
  }

  void start() {
    {
      std::lock_guard lock(shared_->mutex);
      shared_->sessions.emplace(this, weak_from_this());
    }
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::wait_for_request, shared_from_this()));
  }

  // On the session's strand.
  void drain() {
    draining_ = true;
    if (phase_ == Phase::streaming && out_stream_) return out_stream_->end();
    if (phase_ == Phase::idle) {
      beast::error_code ec;
      stream_.socket().cancel(ec);
    }
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class Phase { idle, reading, busy, writing, streaming, closing };

  bool draining() const { return draining_ || shared_->draining.load(); }

  void wait_for_request() {
    if (draining()) return close(false);
    if (buffer_.size() > 0) return read_header();  // a pipelined request is waiting
    phase_ = Phase::idle;
    // What the last request grew stays free while the connection idles.
    if (buffer_.capacity() > kFirstRead) buffer_.shrink_to_fit();
    stream_.expires_after(shared_->options.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kFirstRead),
        beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, std::size_t n) {
    if (ec) return close(false);  // idle timeout, peer closed, drained
    buffer_.commit(n);
    read_header();
  }

  void read_header() {
    phase_ = Phase::reading;
    parser_.emplace();
    parser_->body_limit(shared_->options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(shared_->options.header_limit));
    parser_->eager(true);
    continue_checked_ = false;
    stream_.expires_after(shared_->options.request_timeout);
    parse_buffered();
  }

  // Parses what is already buffered (usually the whole request, so no further read is
  // needed); reads the rest of the header or body only when it is not there yet.
  void parse_buffered() {
    beast::error_code ec;
    while (!parser_->is_done() && buffer_.size() > 0) {
      const auto n = parser_->put(buffer_.data(), ec);
      buffer_.consume(n);
      if (ec || n == 0) break;
    }
    if (ec == bhttp::error::need_more || (!ec && !parser_->is_done())) {
      if (!parser_->is_header_done()) {
        bhttp::async_read_header(
            stream_, buffer_, *parser_,
            beast::bind_front_handler(&Session::on_header, shared_from_this()));
        return;
      }
      return after_header();
    }
    if (ec) return on_read_error(ec);
    on_request();
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    after_header();
  }

  // The header is complete and the body is not: answer `Expect: 100-continue` once, then
  // read the body.
  void after_header() {
    if (!continue_checked_) {
      continue_checked_ = true;
      if (!parser_->is_done() &&
          beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
        net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                           if (ec) return self->close(false);
                           self->read_body();
                         });
        return;
      }
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    on_request();
  }

  void on_read_error(beast::error_code ec) {
    if (parser_) {
      const auto& req = parser_->get();
      method_ = std::string(req.method_string());
      std::string query;
      if (!split_target(req.target(), path_, query)) path_.clear();
      version_ = req.version() == 10 ? 10 : 11;
    }
    keep_alive_ = false;
    head_ = false;
    started_ = Clock::now();
    if (ec == bhttp::error::body_limit) {
      return fail(413, "request body larger than " + std::to_string(shared_->options.body_limit) +
                           " bytes");
    }
    if (ec == bhttp::error::header_limit) return fail(431, "request header fields too large");
    if (ec.category() == http_category() && ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message) {
      return fail(400, "malformed HTTP request: " + ec.message());
    }
    close(false);  // timeout, reset, or the peer went away mid-request
  }

  // Answers an error and closes (lingering) afterwards.
  void fail(unsigned status, const std::string& reason) {
    close_after_ = true;
    linger_ = true;
    send(error_response(status, reason));
  }

  void on_request() {
    phase_ = Phase::busy;
    stream_.expires_never();
    auto exchange = std::make_shared<Exchange>();
    exchange->request = parser_->release();
    parser_.reset();
    const auto& req = exchange->request;
    if (shared_->log) method_.assign(req.method_string().data(), req.method_string().size());
    keep_alive_ = req.keep_alive();
    version_ = req.version() == 10 ? 10 : 11;
    head_ = req.method() == bhttp::verb::head;
    started_ = Clock::now();
    if (req.version() != 10 && req.version() != 11) {
      close_after_ = true;
      linger_ = true;
      path_.clear();
      return send(error_response(400, "unsupported HTTP version"));
    }
    if (!split_target(req.target(), exchange->path, exchange->query)) {
      path_.clear();
      return send(error_response(400, "the request target must be a path"));
    }
    if (shared_->log) path_ = exchange->path;
    Responder responder(
        [self = shared_from_this()](Response&& response) {
          net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
            self->send(std::move(response));
          });
        },
        [self = shared_from_this()](Response&& head) -> std::shared_ptr<ResponseStream> {
          auto stream = std::make_shared<Stream>(self->weak_from_this());
          net::post(self->stream_.get_executor(), [self, stream, head = std::move(head)]() mutable {
            self->begin_stream(stream, std::move(head));
          });
          return stream;
        });
    responder_ = responder;
    ++requests_;
    if (shared_->options.handler_timeout.count() > 0) {
      // Most answers come within a millisecond: the sweeper starts watching the connection
      // only of a handler that is still busy when it passes (within 250 ms).
      watch_armed_.store(false, std::memory_order_relaxed);
      deadline_.store((Clock::now() + shared_->options.handler_timeout).time_since_epoch().count(),
                      std::memory_order_relaxed);
    } else {
      watch_peer();
    }
    shared_->router->dispatch(exchange, responder);
  }

  enum class Peer { quiet, sent, gone };

  Peer peek_peer() {
    char byte = 0;
    const auto n = ::recv(stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return Peer::sent;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Peer::quiet;
    return Peer::gone;  // end of stream, or a reset
  }

  // While a handler works nothing reads the socket; a readiness wait (no buffer) still tells
  // when the client closes, so that its answer is abandoned instead of built and written.
  void watch_peer() {
    watch_armed_.store(true, std::memory_order_relaxed);
    // Look first: a close that came before the wait raises no new readiness event.
    switch (peek_peer()) {
      case Peer::sent:
        return;  // a pipelined request: it is read after this answer
      case Peer::gone:
        return abandon();
      case Peer::quiet:
        break;
    }
    watching_ = true;
    stream_.socket().async_wait(tcp::socket::wait_read,
                                [self = shared_from_this(), request = requests_](
                                    beast::error_code ec) { self->on_peer_readable(ec, request); });
  }

  void on_peer_readable(beast::error_code ec, std::uint64_t request) {
    if (request != requests_ || phase_ != Phase::busy || !watching_) return;
    watching_ = false;
    if (ec == net::error::operation_aborted) return;
    if (ec) return abandon();
    watch_peer();
  }

  // The client closed (or reset) its connection: nobody will read the answer. A client that
  // half-closes after its request is treated alike, as nginx does.
  void abandon() {
    deadline_.store(0, std::memory_order_relaxed);
    if (responder_) responder_->abandon();
    responder_.reset();
    status_ = 499;  // nginx's "client closed request", for the access log only
    log_request();
    close(false);
  }

  void stop_watching() {
    if (!watching_) return;
    watching_ = false;
    beast::error_code ignored;
    stream_.socket().cancel(ignored);
  }

 public:
  // Thread-safe: true when a handler runs past its deadline.
  bool overdue(Clock::time_point now) const {
    const auto deadline = deadline_.load(std::memory_order_relaxed);
    return deadline != 0 && now.time_since_epoch().count() >= deadline;
  }

  // Thread-safe: true when the sweeper has something to do here (see visit()).
  bool wants_visit(Clock::time_point now) const {
    return overdue(now) || (deadline_.load(std::memory_order_relaxed) != 0 &&
                            !watch_armed_.load(std::memory_order_relaxed));
  }

  // On the strand, from the sweeper: a handler past its deadline is answered 503; one that
  // is merely slow gets its connection watched.
  void visit() {
    if (phase_ != Phase::busy || !responder_) return;
    if (overdue(Clock::now())) return expire();
    if (!watching_) watch_peer();
  }

 private:
  // Answers 503 for a handler past its deadline (its late answer is dropped).
  void expire() {
    auto responder = std::move(*responder_);
    responder_.reset();
    responder(error_response(
        503,
        "no answer within " + std::to_string(shared_->options.handler_timeout.count()) + " ms"));
  }

 private:
  // On the strand.
  void send(Response response) {
    if (phase_ == Phase::closing) return;
    deadline_.store(0, std::memory_order_relaxed);
    responder_.reset();
    stop_watching();
    response.version(version_);
    response.keep_alive(keep_alive_ && !close_after_ && !draining());
    response.set(bhttp::field::server, "example-server");
    response.set(bhttp::field::date, http_date());
    if (response.result() == bhttp::status::no_content) {
      // RFC 9110 8.6: no Content-Length in a 204.
      response.body().clear();
      response.erase(bhttp::field::content_length);
    } else {
      response.prepare_payload();
      if (head_) {
        // A HEAD answer carries the headers of the body it does not send.
        const auto length = response.body().size();
        response.body().clear();
        response.content_length(length);
      }
    }
    status_ = response.result_int();
    keep_ = response.keep_alive();
    // Beast serializes the header; the body goes out from the response's own string in the
    // same write (a page of events is never copied).
    beast::error_code ec;
    out_ = serialize_header(response, ec);
    body_ = std::move(response.body());
    if (ec) {
      status_ = 500;
      keep_ = false;
      out_ = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      body_.clear();
    }
    phase_ = Phase::writing;
    stream_.expires_after(shared_->options.write_timeout);
    const std::array<net::const_buffer, 2> buffers{net::buffer(out_), net::buffer(body_)};
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  // A streamed answer (see server.hpp): its head now, then its body as it is queued, framed
  // in chunks for HTTP/1.1 (a close ends it for 1.0). On the strand.
  void begin_stream(const std::shared_ptr<Stream>& stream, Response head) {
    if (phase_ != Phase::busy) return stream->finish();  // the client left, or 503 went out
    deadline_.store(0, std::memory_order_relaxed);
    responder_.reset();
    stop_watching();
    phase_ = Phase::streaming;
    out_stream_ = stream;
    chunked_ = version_ == 11;
    head.version(version_);
    head.keep_alive(false);
    head.set(bhttp::field::server, "example-server");
    head.set(bhttp::field::date, http_date());
    head.body().clear();
    if (chunked_) head.chunked(true);
    status_ = head.result_int();
    beast::error_code ec;
    out_ = serialize_header(head, ec);
    if (ec) return abort_stream();
    writing_stream_ = true;
    payload_ = 0;
    stream_.expires_after(shared_->options.write_timeout);
    net::async_write(stream_, net::buffer(out_),
                     beast::bind_front_handler(&Session::on_stream_write, shared_from_this()));
    watch_stream_reader();
    if (draining()) stream->end();
  }

 public:
  // Writes what the stream has queued, unless a write is under way. On the strand.
  void pump() {
    if (phase_ != Phase::streaming || writing_stream_) return;
    bool ending = false;
    auto pieces = out_stream_->take(ending);
    out_.clear();
    payload_ = 0;
    for (const auto& piece : pieces) {
      if (chunked_) {
        char size[24];
        const int n = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        out_.append(size, static_cast<std::size_t>(n));
      }
      out_ += piece;
      if (chunked_) out_ += "\r\n";
      payload_ += piece.size();
    }
    if (ending) {
      if (chunked_) out_ += "0\r\n\r\n";
      final_sent_ = true;
    }
    if (out_.empty()) {
      if (ending) finish_stream();
      return;
    }
    writing_stream_ = true;
    stream_.expires_after(shared_->options.write_timeout);
    net::async_write(stream_, net::buffer(out_),
                     beast::bind_front_handler(&Session::on_stream_write, shared_from_this()));
  }

 private:
  void on_stream_write(beast::error_code ec, std::size_t) {
    writing_stream_ = false;
    if (phase_ != Phase::streaming) return;
    if (ec) return abort_stream();  // the client left, or did not read within the timeout
    stream_.expires_never();
    out_stream_->written(payload_);
    payload_ = 0;
    if (out_.capacity() > 64 * 1024) std::string().swap(out_);
    if (final_sent_) return finish_stream();
    pump();
  }

  // Nothing is expected from the client while it streams: reads only tell when it leaves
  // (what it sends is dropped, up to kMaxDiscard). Raw socket reads, outside the stream's
  // timer, which only bounds writes.
  void watch_stream_reader() {
    buffer_.clear();
    stream_.socket().async_read_some(
        buffer_.prepare(kFirstRead),
        [self = shared_from_this()](beast::error_code ec, std::size_t n) {
          if (self->phase_ != Phase::streaming) return;
          self->discarded_ += n;
          if (ec || self->discarded_ > kMaxDiscard) return self->abort_stream();
          self->watch_stream_reader();
        });
  }

  void finish_stream() {
    out_stream_->finish();
    log_request();
    close(false);
  }

  void abort_stream() {
    if (out_stream_) out_stream_->finish();
    log_request();
    close(false);
  }

  void log_request() {
    if (!shared_->log) return;
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count();
    shared_->log->record(method_, path_, status_, micros);
  }

  void on_write(beast::error_code ec, std::size_t) {
    log_request();
    std::string().swap(body_);
    if (out_.capacity() > 4096) std::string().swap(out_);
    if (ec) return close(false);
    if (!keep_) return close(linger_);
    wait_for_request();
  }

  void close(bool linger) {
    phase_ = Phase::closing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (!linger || !stream_.socket().is_open()) return close_socket();
    // Read and drop what the client still sends (e.g. the rest of a refused body) so that
    // closing does not reset the connection before our answer arrived.
    buffer_.clear();
    stream_.expires_after(shared_->options.linger_timeout);
    discard();
  }

  void discard() {
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->discarded_ += n;
                              if (ec || self->discarded_ > kMaxDiscard) return self->close_socket();
                              self->discard();
                            });
  }

  // The descriptor and the connection's place under the cap are given back at once, even
  // while a late answer still holds this object.
  void close_socket() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    std::string().swap(body_);
    buffer_.clear();
    buffer_.shrink_to_fit();
    release_slot();
  }

  void release_slot() {
    if (counted_) {
      counted_ = false;
      shared_->connections.fetch_sub(1);
    }
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Shared> shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<Responder> responder_;  // of the request being handled
  std::shared_ptr<Stream> out_stream_;  // of a streamed answer
  std::size_t payload_ = 0;             // body bytes in the stream write under way
  bool writing_stream_ = false;
  bool chunked_ = false;
  bool final_sent_ = false;
  std::atomic<Clock::rep> deadline_{0};  // its deadline (0: none)
  std::string out_;                      // the serialized header being written
  std::string body_;                     // and the body
  unsigned status_ = 0;
  bool keep_ = true;
  Phase phase_ = Phase::idle;
  std::uint64_t requests_ = 0;  // tells a stale peer watch from the current one
  bool watching_ = false;
  std::atomic<bool> watch_armed_{true};
  bool counted_ = true;
  bool continue_checked_ = false;
  bool draining_ = false;
  bool close_after_ = false;
  bool linger_ = false;
  bool keep_alive_ = true;
  bool head_ = false;
  unsigned version_ = 11;
  std::string method_;
  std::string path_;
  Clock::time_point started_{};
  std::size_t discarded_ = 0;
};

void HttpServer::Stream::kick() {
  if (auto session = session_.lock()) {
    net::post(session->executor(), [session] { session->pump(); });
  }
}

// The whole 503 answer to a connection past the cap.
std::string too_many_connections(std::size_t max_connections) {
  auto response = error_response(503, "too many connections: the server holds its maximum of " +
                                          std::to_string(max_connections));
  response.keep_alive(false);
  response.set(bhttp::field::server, "example-server");
  response.set(bhttp::field::date, http_date());
  response.set(bhttp::field::retry_after, "1");
  response.prepare_payload();
  beast::error_code ec;
  auto out = serialize_header(response, ec);
  if (ec) return {};
  return out + response.body();
}

// A connection past the cap: a 503 with `Connection: close`, then a short linger (so that a
// request already sent does not turn the close into a reset before the answer is read).
class HttpServer::Rejection : public std::enable_shared_from_this<Rejection> {
 public:
  Rejection(tcp::socket socket, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket)), shared_(std::move(shared)) {}
  ~Rejection() { shared_->rejecting.fetch_sub(1); }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->write(); });
  }

 private:
  void write() {
    out_ = too_many_connections(shared_->options.max_connections);
    if (out_.empty()) return;
    stream_.expires_after(kRejectTimeout);  // for the write and the linger together
    net::async_write(stream_, net::buffer(out_),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       beast::error_code ignored;
                       self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                       if (!ec) self->discard();
                     });
  }

  void discard() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) self->discard();
                            });
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Shared> shared_;
  std::string out_;
  std::array<char, 512> scratch_{};
};

class HttpServer::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& io, const tcp::endpoint& endpoint, std::shared_ptr<Shared> shared)
      : io_(io),
        strand_(net::make_strand(io)),
        acceptor_(strand_),
        retry_(strand_),
        shared_(std::move(shared)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  void start() {
    net::dispatch(strand_, beast::bind_front_handler(&Listener::accept, shared_from_this()));
  }

  void stop() {
    net::dispatch(strand_, [self = shared_from_this()] {
      beast::error_code ec;
      self->stopped_ = true;
      self->acceptor_.close(ec);
      self->retry_.cancel();
    });
  }

 private:
  void accept() {
    if (stopped_) return;
    acceptor_.async_accept(
        net::make_strand(io_),
        net::bind_executor(strand_,
                           beast::bind_front_handler(&Listener::on_accept, shared_from_this())));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (stopped_ || ec == net::error::operation_aborted) return;
    if (ec) {
      // E.g. out of file descriptors: try again shortly instead of spinning.
      retry_.expires_after(std::chrono::milliseconds(50));
      retry_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec) self->accept();
      });
      return;
    }
    beast::error_code ignored;
    if (shared_->draining.load()) {
      socket.close(ignored);
    } else if (shared_->connections.load() >= shared_->options.max_connections) {
      const auto most = std::max(kMinRejecting, shared_->options.max_connections / 4);
      if (shared_->rejecting.fetch_add(1) < most) {
        std::make_shared<Rejection>(std::move(socket), shared_)->start();
      } else {
        // Too many lingering already: the answer goes into the empty send buffer without
        // waiting, and the descriptor is freed at once (a request the client already sent
        // may then turn the close into a reset).
        shared_->rejecting.fetch_sub(1);
        const auto answer = too_many_connections(shared_->options.max_connections);
        [[maybe_unused]] const auto sent = ::send(socket.native_handle(), answer.data(),
                                                  answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
      }
    } else {
      socket.set_option(tcp::no_delay(true), ignored);
      shared_->connections.fetch_add(1);
      std::make_shared<Session>(std::move(socket), shared_)->start();
    }
    accept();
  }

  net::io_context& io_;
  net::strand<net::io_context::executor_type> strand_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
  std::shared_ptr<Shared> shared_;
  bool stopped_ = false;
};

// Every 250 ms: sessions whose handler is overdue or slow get visit() on their strand.
class HttpServer::Sweeper : public std::enable_shared_from_this<Sweeper> {
 public:
  Sweeper(net::io_context& io, std::shared_ptr<Shared> shared)
      : timer_(net::make_strand(io)), shared_(std::move(shared)) {}

  void start() { arm(); }
  void stop() {
    net::dispatch(timer_.get_executor(), [self = shared_from_this()] {
      self->stopped_ = true;
      self->timer_.cancel();
    });
  }

 private:
  void arm() {
    if (stopped_) return;
    timer_.expires_after(std::chrono::milliseconds(250));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->stopped_) return;
      self->sweep();
      self->arm();
    });
  }

  void sweep() {
    const auto now = Clock::now();
    std::vector<std::shared_ptr<Session>> due;
    {
      std::lock_guard lock(shared_->mutex);
      for (auto& kv : shared_->sessions) {
        if (kv.first->wants_visit(now)) {
          if (auto s = kv.second.lock()) due.push_back(std::move(s));
        }
      }
    }
    for (auto& s : due) net::post(s->executor(), [s] { s->visit(); });
  }

  net::steady_timer timer_;
  std::shared_ptr<Shared> shared_;
  bool stopped_ = false;
};

HttpServer::HttpServer(net::io_context& io, const tcp::endpoint& endpoint,
                       std::shared_ptr<const Router> router, ServerOptions options,
                       std::shared_ptr<AccessLog> log)
    : shared_(std::make_shared<Shared>()) {
  shared_->router = std::move(router);
  shared_->options = options;
  shared_->log = std::move(log);
  listener_ = std::make_shared<Listener>(io, endpoint, shared_);
  if (options.handler_timeout.count() > 0) sweeper_ = std::make_shared<Sweeper>(io, shared_);
}

HttpServer::~HttpServer() {
  drain();
  if (sweeper_) sweeper_->stop();
}

tcp::endpoint HttpServer::local_endpoint() const {
  return listener_->local_endpoint();
}

void HttpServer::start() {
  listener_->start();
  if (sweeper_) sweeper_->start();
}

void HttpServer::drain() {
  shared_->draining.store(true);
  listener_->stop();
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(shared_->mutex);
    for (auto& kv : shared_->sessions) {
      if (auto s = kv.second.lock()) sessions.push_back(std::move(s));
    }
  }
  for (auto& s : sessions) {
    net::post(s->executor(), [s] { s->drain(); });
  }
}

std::size_t HttpServer::connections() const {
  return shared_->connections.load();
}

}  // namespace es::http
