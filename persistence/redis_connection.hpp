// Why: the Redis stores need blocking request/reply with hard time limits, reconnection
// after a server restart and pipelining (many commands per round trip); hiredis 0.14's
// synchronous API offers the pieces, and this wrapper puts them together once: RAII for
// contexts and replies, timeouts on every network call, AUTH/SELECT on connect, bounded
// exponential backoff, es::StoreUnavailable instead of hangs, and a small thread-safe pool.
// The hiredis types stay out of this header.
#pragma once

#include "persistence/redis_url.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;  // hiredis
struct redisReply;    // hiredis

namespace es {

struct RedisConnectionOptions {
  std::chrono::milliseconds connect_timeout{2000};
  // Limit of every single read or write on the socket once connected.
  std::chrono::milliseconds command_timeout{5000};
  // After a failed connect, the next attempt waits initial, 2x, 4x, ... up to max.
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{1000};
};

// The arguments of one command. Views are kept as given (the caller keeps the strings alive
// until the command is sent); add_copy() and add(number) keep their own copy in one internal
// buffer, resolved to pointers only when the command is sent (so moves and copies are safe).
class RedisArgs {
 public:
  RedisArgs() = default;
  RedisArgs(std::initializer_list<std::string_view> args);

  RedisArgs& add(std::string_view arg);
  RedisArgs& add(const char* arg) { return add(std::string_view(arg)); }
  RedisArgs& add(std::string&&) = delete;  // would dangle: use add_copy
  RedisArgs& add_copy(std::string_view arg);
  RedisArgs& add(std::int64_t number);
  void reserve(std::size_t args) {
    pointers_.reserve(args);
    lengths_.reserve(args);
  }

  std::size_t size() const { return pointers_.size(); }
  // Bytes of the arguments, for sizing batches.
  std::size_t bytes() const { return bytes_; }
  // Valid until this object changes.
  const char* const* argv() const;
  const std::size_t* lengths() const { return lengths_.data(); }

 private:
  std::vector<const char*> pointers_;  // nullptr: owned, at the offset in offsets_
  std::vector<std::size_t> lengths_;
  std::vector<std::size_t> offsets_;  // per argument (only read for owned ones)
  std::string owned_;
  mutable std::vector<const char*> resolved_;
  std::size_t bytes_ = 0;
};

// A non-owning view of one reply (or of an element of an array reply).
class RedisReplyView {
 public:
  enum class Kind { string, array, integer, nil, status, error };

  explicit RedisReplyView(const redisReply* reply) : reply_(reply) {}

  Kind kind() const;
  bool is_error() const { return kind() == Kind::error; }
  bool is_nil() const { return kind() == Kind::nil; }
  bool is_array() const { return kind() == Kind::array; }
  // The text of a string, status or error reply (empty for other kinds).
  std::string_view str() const;
  // An integer reply's value (0 for other kinds).
  long long integer() const;
  // Elements of an array reply (0 for other kinds).
  std::size_t size() const;
  RedisReplyView operator[](std::size_t i) const;

 private:
  const redisReply* reply_;
};

// An owned reply: freed with freeReplyObject when it goes.
class RedisReply {
 public:
  RedisReply() = default;
  explicit RedisReply(redisReply* reply);
  RedisReply(RedisReply&&) noexcept = default;
  RedisReply& operator=(RedisReply&&) noexcept = default;

  RedisReplyView view() const { return RedisReplyView(reply_.get()); }
  RedisReplyView::Kind kind() const { return view().kind(); }
  bool is_error() const { return view().is_error(); }
  bool is_nil() const { return view().is_nil(); }
  std::string_view str() const { return view().str(); }
  long long integer() const { return view().integer(); }
  std::size_t size() const { return view().size(); }
  RedisReplyView operator[](std::size_t i) const { return view()[i]; }

 private:
  struct Free {
    void operator()(redisReply* r) const;
  };
  std::unique_ptr<redisReply, Free> reply_;
};

// One connection to one Redis server; not thread-safe (the pool hands each to one user at a
// time). It connects lazily, and again on the next use after a failure (after a backoff
// delay when connecting itself failed). Every network failure or timeout throws
// es::StoreUnavailable and drops the connection; error replies are returned as replies.
// A wrong password or an unusable database throws es::ConfigurationError.
class RedisConnection {
 public:
  explicit RedisConnection(RedisUrl url, RedisConnectionOptions options = {});
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // One command, one round trip.
  RedisReply command(const RedisArgs& args);
  RedisReply command(std::initializer_list<std::string_view> args) {
    return command(RedisArgs(args));
  }

  // Pipelining: append N commands (nothing is sent yet), then read N replies in order; the
  // first read sends everything. A connection returned to the pool with unread replies is
  // dropped, so an exception between the two halves leaves no confusion behind.
  void append(const RedisArgs& args);
  RedisReply read_reply();
  // Sends what append() buffered now, without waiting for a reply: the server works on it
  // while the caller handles earlier replies.
  void flush();
  std::size_t pending() const { return pending_; }
  // append() each, then read every reply.
  std::vector<RedisReply> pipeline(const std::vector<RedisArgs>& commands);

  // Connects now if not connected (normally implicit).
  void connect();
  bool connected() const { return context_ != nullptr; }
  // Drops the connection (the next use reconnects).
  void disconnect();
  const RedisUrl& url() const { return url_; }

 private:
  void ensure_connected();
  bool peer_closed() const;
  [[noreturn]] void fail_io(const char* what);

  RedisUrl url_;
  RedisConnectionOptions options_;
  redisContext* context_ = nullptr;
  std::size_t pending_ = 0;
  bool unsent_ = false;  // appended commands not yet written
  int failed_connects_ = 0;
  std::chrono::steady_clock::time_point next_attempt_{};
};

// A small pool of connections to one server, safe to share between threads. Connections
// are made on demand up to `max_connections`; acquire() waits for a free one (for at most
// connect + command timeout, then StoreUnavailable).
class RedisPool {
 public:
  explicit RedisPool(RedisUrl url, RedisConnectionOptions options = {},
                     std::size_t max_connections = 8);
  // Parses the URL (ConfigurationError when bad).
  explicit RedisPool(const std::string& url, RedisConnectionOptions options = {},
                     std::size_t max_connections = 8);
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  // Exclusive use of one connection until the lease goes.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), connection_(std::move(other.connection_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    RedisConnection& operator*() const { return *connection_; }
    RedisConnection* operator->() const { return connection_.get(); }

   private:
    friend class RedisPool;
    Lease(RedisPool* pool, std::unique_ptr<RedisConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    RedisPool* pool_;
    std::unique_ptr<RedisConnection> connection_;
  };

  Lease acquire();

  const RedisUrl& url() const { return url_; }
  const RedisConnectionOptions& options() const { return options_; }
  std::size_t max_connections() const { return max_connections_; }

 private:
  void release(std::unique_ptr<RedisConnection> connection);

  RedisUrl url_;
  RedisConnectionOptions options_;
  std::size_t max_connections_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
  std::size_t created_ = 0;
};

// Throws the right typed error for an error reply: StoreUnavailable when the server cannot
// serve now (LOADING, BUSY, OOM, READONLY, MASTERDOWN, ...), es::Error otherwise. `context`
// says what was being done (no data in it).
[[noreturn]] void throw_redis_error(const RedisReplyView& reply, const std::string& context);
// True when an error reply means "the server cannot serve now".
bool is_unavailable_error(std::string_view error);

}  // namespace es
