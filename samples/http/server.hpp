// Why: the HTTP/1.1 transport of example-server on Boost.Beast (Beast parses and writes
// HTTP; nothing here does): an acceptor and one session per connection, keep-alive and
// pipelining, a 1 MiB body limit (413), an idle timeout between requests and a deadline to
// read each request once it started (slow clients cannot hold a connection for long), a cap
// on connections (past it a fast 503 and a close, so that descriptors are never exhausted),
// JSON errors for malformed requests, an access log, and a graceful drain for SIGINT/SIGTERM
// (stop accepting, close idle connections, let requests in flight finish and answer them
// with `Connection: close`), and a deadline on every handler (one sweep timer checks them,
// rather than a timer per request). A client that closes its connection while its request
// is handled has its answer abandoned (Responder::wanted). What a request means is the
// Router's business. A handler may answer with a stream instead (Responder::stream, for
// server-sent events): the head goes out at once, the body follows chunked while the
// connection is watched for the client leaving; no idle timeout applies while it streams
// (its writer sends heartbeats), each write must finish within the write timeout, the
// connection counts under the cap as any other, and a drain ends the stream cleanly.
// docs/RELIABILITY.md states these bounds and what they cost.
#pragma once

#include "samples/http/access_log.hpp"
#include "samples/http/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

namespace es::http {

struct ServerOptions {
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};     // between requests
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};  // first byte to last
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};
  // From a complete request to its answer: past it the client gets 503 (and a late answer
  // is dropped). 0: no limit.
  std::chrono::milliseconds handler_timeout{std::chrono::seconds(4)};
  std::chrono::milliseconds linger_timeout{std::chrono::seconds(2)};  // discarding after an error
  std::size_t body_limit = std::size_t{1} << 20;
  std::size_t header_limit = 16 * 1024;
  // Past it a new connection gets 503 and is closed. Keep it well below the descriptor
  // limit: the store, the cluster and those 503 answers need descriptors too.
  std::size_t max_connections = 1024;
};

class HttpServer {
 public:
  // Binds and listens (throws boost::system::system_error when it cannot); accepts nothing
  // before start(). `log` may be null (no access log).
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
             std::shared_ptr<const Router> router, ServerOptions options,
             std::shared_ptr<AccessLog> log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound address (with the real port when 0 was asked).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  void start();
  // Stops accepting and drains the connections (see above). Thread-safe, idempotent.
  void drain();
  // Connections still open.
  std::size_t connections() const;

 private:
  struct Shared;
  class Session;
  class Stream;
  class Listener;
  class Rejection;
  class Sweeper;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Listener> listener_;
  std::shared_ptr<Sweeper> sweeper_;
};

}  // namespace es::http
