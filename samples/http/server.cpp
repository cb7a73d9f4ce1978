// Why: see server.hpp. Each connection runs on its own strand; a request is read in two
// steps (header, then body) so that `Expect: 100-continue` gets its interim answer and an
// oversized Content-Length is refused before any body byte is read. After an error answer
// the connection lingers (reads and discards for a moment) before closing, so that the
// client reads the answer instead of a reset.
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

#include <array>
#include <atomic>
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

}  // namespace

struct HttpServer::Shared {
  std::shared_ptr<const Router> router;
  ServerOptions options;
  std::shared_ptr<AccessLog> log;
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> draining{false};
  std::mutex mutex;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions;
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
    shared_->connections.fetch_sub(1);
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
    if (phase_ == Phase::idle) {
      beast::error_code ec;
      stream_.socket().cancel(ec);
    }
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class Phase { idle, reading, busy, writing, closing };

  bool draining() const { return draining_ || shared_->draining.load(); }

  void wait_for_request() {
    if (draining()) return close(false);
    if (buffer_.size() > 0) return read_header();  // a pipelined request is waiting
    phase_ = Phase::idle;
    stream_.expires_after(shared_->options.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(8192),
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
    Responder responder([self = shared_from_this()](Response&& response) {
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->send(std::move(response));
      });
    });
    if (shared_->options.handler_timeout.count() > 0) {
      responder_ = responder;
      deadline_.store((Clock::now() + shared_->options.handler_timeout).time_since_epoch().count(),
                      std::memory_order_relaxed);
    }
    shared_->router->dispatch(exchange, responder);
  }

 public:
  // Thread-safe: true when a handler runs past its deadline.
  bool overdue(Clock::time_point now) const {
    const auto deadline = deadline_.load(std::memory_order_relaxed);
    return deadline != 0 && now.time_since_epoch().count() >= deadline;
  }

  // On the strand: answers 503 for a handler past its deadline (its late answer is dropped).
  void expire() {
    if (phase_ != Phase::busy || !responder_ || !overdue(Clock::now())) return;
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
    // Beast serializes; one contiguous buffer then goes out in one write.
    out_.clear();
    bhttp::serializer<false, bhttp::string_body> serializer{response};
    beast::error_code ec;
    while (!ec && !serializer.is_done()) {
      serializer.next(ec, [&](beast::error_code&, const auto& buffers) {
        for (const auto b : beast::buffers_range_ref(buffers)) {
          out_.append(static_cast<const char*>(b.data()), b.size());
        }
        serializer.consume(beast::buffer_bytes(buffers));
      });
    }
    if (ec) {
      status_ = 500;
      keep_ = false;
      out_ = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    }
    phase_ = Phase::writing;
    stream_.expires_after(shared_->options.write_timeout);
    net::async_write(stream_, net::buffer(out_),
                     beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (shared_->log) {
      const auto micros =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_).count();
      shared_->log->record(method_, path_, status_, micros);
    }
    if (ec) return close(false);
    if (out_.capacity() > 64 * 1024) std::string().swap(out_);
    if (!keep_) return close(linger_);
    wait_for_request();
  }

  void close(bool linger) {
    phase_ = Phase::closing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (!linger || !stream_.socket().is_open()) {
      stream_.socket().close(ec);
      return;
    }
    // Read and drop what the client still sends (e.g. the rest of a refused body) so that
    // closing does not reset the connection before our answer arrived.
    buffer_.clear();
    stream_.expires_after(shared_->options.linger_timeout);
    discard();
  }

  void discard() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->discarded_ += n;
                              beast::error_code ignored;
                              if (ec || self->discarded_ > kMaxDiscard) {
                                self->stream_.socket().close(ignored);
                                return;
                              }
                              self->discard();
                            });
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Shared> shared_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<Responder> responder_;   // of the request being handled
  std::atomic<Clock::rep> deadline_{0};  // its deadline (0: none)
  std::string out_;                      // the serialized response being written
  unsigned status_ = 0;
  bool keep_ = true;
  Phase phase_ = Phase::idle;
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
  std::array<char, 8192> scratch_{};
  std::size_t discarded_ = 0;
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
    if (shared_->draining.load() ||
        shared_->connections.load() >= shared_->options.max_connections) {
      socket.close(ignored);
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

// Every 250 ms: sessions whose handler is overdue get expire() on their strand.
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
    std::vector<std::shared_ptr<Session>> overdue;
    {
      std::lock_guard lock(shared_->mutex);
      for (auto& kv : shared_->sessions) {
        if (kv.first->overdue(now)) {
          if (auto s = kv.second.lock()) overdue.push_back(std::move(s));
        }
      }
    }
    for (auto& s : overdue) net::post(s->executor(), [s] { s->expire(); });
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
