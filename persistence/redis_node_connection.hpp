// Why: one blocking connection to one Redis server with hard time limits, reconnection after
// a server restart and pipelining; hiredis 0.14's synchronous API offers the pieces, and this
// class puts them together once: RAII for the context, timeouts on every network call,
// AUTH/SELECT on connect, bounded exponential backoff, es::StoreUnavailable instead of hangs.
// RedisConnection (redis_connection.hpp) routes commands over one or several of these.
#pragma once

#include "persistence/redis_protocol.hpp"
#include "persistence/redis_url.hpp"

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

struct redisContext;  // hiredis

namespace es {

// One connection to one Redis server; not thread-safe (the pool hands each to one user at a
// time). It connects lazily, and again on the next use after a failure (after a backoff
// delay when connecting itself failed). Every network failure or timeout throws
// es::StoreUnavailable and drops the connection; error replies are returned as replies.
// A wrong password or an unusable database throws es::ConfigurationError.
class RedisNodeConnection {
 public:
  explicit RedisNodeConnection(RedisUrl url, RedisConnectionOptions options = {});
  ~RedisNodeConnection();
  RedisNodeConnection(const RedisNodeConnection&) = delete;
  RedisNodeConnection& operator=(const RedisNodeConnection&) = delete;

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

}  // namespace es
