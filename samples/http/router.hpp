// Why: the server's routes are a table, not a chain of ifs, so that later issues add their
// own (/cluster, /notifications, /stats, GET /examples?foo=) with one call each, and the
// 404 / 405 + Allow answers stay right for every route without each handler repeating them.
// A handler answers through a Responder, exactly once, from any thread (typically a CAF
// worker when the actor system replies); a Responder dropped without an answer sends 500, so
// a forgotten path can never leave a client hanging.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace es::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Verb = boost::beast::http::verb;

// One request as a handler sees it. Shared, so asynchronous handlers can keep it.
struct Exchange {
  Request request;
  std::string path;                 // the target's path, still percent-encoded
  std::string query;                // the target's query, without '?', still encoded
  std::vector<std::string> params;  // decoded path parameters, in the pattern's order
};
using ExchangePtr = std::shared_ptr<const Exchange>;

// The body of a streamed answer (server-sent events): written piece by piece over time after
// its head went out. The connection ends with the stream. Thread-safe.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Queues bytes of the body; false once the stream ended (then nothing is queued).
  virtual bool write(std::string bytes) = 0;
  // Bytes queued and not yet written to the socket: a writer waits for 0 before adding more,
  // so that a slow reader holds at most one batch.
  virtual std::size_t pending() const = 0;
  // True once the stream ended: end() was called, the client left, a write failed or took
  // longer than the write timeout, or the server drains.
  virtual bool ended() const = 0;
  // Ends the body after what is queued; the connection then closes.
  virtual void end() = 0;
};

// Sends the response of one request exactly once (later calls are ignored). Thread-safe.
class Responder {
 public:
  using Sink = std::function<void(Response&&)>;
  // Starts a streamed answer with `head` (status and headers; its body is ignored).
  using StreamSink = std::function<std::shared_ptr<ResponseStream>(Response&&)>;
  explicit Responder(Sink sink, StreamSink stream_sink = {});
  void operator()(Response response) const;
  // Answers with a stream instead (counts as the one answer): the head goes out at once and
  // the body follows through the returned stream. Null when already answered, or when the
  // transport cannot stream.
  std::shared_ptr<ResponseStream> stream(Response head) const;
  // False once answered, or once the client gave up (closed its connection, or the server
  // answered 503 at its deadline): costly work for the answer can then be skipped.
  bool wanted() const { return !state_->done.load(std::memory_order_relaxed); }
  // The client is gone: later answers are dropped without reaching the connection.
  void abandon() const { state_->done.store(true); }

 private:
  struct State {
    Sink sink;
    StreamSink stream_sink;
    std::atomic<bool> done{false};
    ~State();  // answers 500 when nobody answered
  };
  std::shared_ptr<State> state_;
};

using Handler = std::function<void(const ExchangePtr&, const Responder&)>;

class Router {
 public:
  // `pattern` is a path of literal segments and `{name}` parameters, e.g.
  // "/examples/{id}/events". Literal segments win over parameters when both match.
  // Adding a method to a known pattern extends its Allow list.
  void add(Verb method, std::string_view pattern, Handler handler);

  // Runs the handler of the exchange's path and method; answers 404 (no route), 405 with
  // Allow (route without this method) or 400 (undecodable path) itself. Handler exceptions
  // become 500.
  void dispatch(const std::shared_ptr<Exchange>& exchange, const Responder& respond) const;

 private:
  struct Segment {
    std::string literal;  // empty for a parameter
    bool parameter = false;
  };
  struct Method {
    Verb verb;
    Handler handler;
  };
  struct Route {
    std::string pattern;
    std::vector<Segment> segments;
    std::vector<Method> methods;
    std::string allow;  // "GET, PATCH, DELETE"
  };
  std::vector<Route> routes_;
};

// Splits a request target into its path and query; "http://host/p?q" forms are reduced to
// their path. False when the target is not a path.
bool split_target(std::string_view target, std::string& path, std::string& query);

}  // namespace es::http
