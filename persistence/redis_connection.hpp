// Why: the Redis stores need blocking request/reply with hard time limits and pipelining,
// on a single Redis and on a Redis Cluster alike, without knowing which one they talk to.
// RedisConnection is what they use: on a single Redis it is one RedisNodeConnection to the
// URL's server; on a cluster node it routes every command to the master of its key's slot
// (one node connection per master, made on demand), follows MOVED and ASK redirects, retries
// TRYAGAIN within the command timeout, and reads the slot map again when a node fails, so a
// promoted replica serves without a restart. RedisPool shares connections between threads.
#pragma once

#include "persistence/redis_cluster_map.hpp"
#include "persistence/redis_node_connection.hpp"
#include "persistence/redis_protocol.hpp"
#include "persistence/redis_url.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace es {

class StoreUnavailable;

// Not thread-safe (the pool hands each to one user at a time). Network failures and timeouts
// throw es::StoreUnavailable; error replies are returned as replies (a redirect only when it
// could not be followed).
class RedisConnection {
 public:
  // `map`: the slot map shared with the other connections of a pool; nothing: its own.
  explicit RedisConnection(RedisUrl url, RedisConnectionOptions options = {},
                           std::shared_ptr<RedisClusterMap> map = {});
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // One command, one round trip (more when redirected).
  RedisReply command(const RedisArgs& args);
  RedisReply command(std::initializer_list<std::string_view> args) {
    return command(RedisArgs(args));
  }

  // Pipelining: append N commands (nothing is sent yet), then read N replies in order; the
  // first read sends everything (to every master concerned, which work in parallel). A
  // connection returned to the pool with unread replies is dropped.
  void append(const RedisArgs& args);
  RedisReply read_reply();
  // Sends what append() buffered now, without waiting for a reply.
  void flush();
  std::size_t pending() const;
  // append() each, then read every reply.
  std::vector<RedisReply> pipeline(const std::vector<RedisArgs>& commands);

  // Connects to the URL's node now if not connected (normally implicit).
  void connect();
  bool connected() const { return seed_.connected() || !nodes_.empty(); }
  // Drops every connection (the next use reconnects).
  void disconnect();
  const RedisUrl& url() const { return url_; }

  // Whether the server is a Redis Cluster node (learnt on first use).
  bool is_cluster();
  // The masters ("host:port"), in a stable order: one element (the URL's) on a single Redis.
  std::vector<std::string> masters();
  // One command on one master of masters() (SCAN over every master, for instance).
  RedisReply command_on(const std::string& master, const RedisArgs& args);

  // Durability: WAIT on every server this connection wrote to since the last call, until
  // `replicas` replicas confirmed or `timeout` passed. Returns the fewest confirmations.
  long long wait_for_replicas(int replicas, std::chrono::milliseconds timeout);

 private:
  struct Pending {
    RedisNodeConnection* node = nullptr;
    RedisArgs args;  // owned copy, to send again after a redirect
    int slot = -1;
    std::optional<RedisReply> ready;  // answered already (commands to every master)
  };

  bool clustered();
  RedisNodeConnection& node_at(const std::string& address);
  RedisNodeConnection& side_at(const std::string& address);
  RedisReply follow(Pending& pending, RedisReply reply);
  RedisReply on_every_master(const RedisArgs& args);
  [[noreturn]] void lost(const StoreUnavailable& error);

  RedisUrl url_;
  RedisConnectionOptions options_;
  std::shared_ptr<RedisClusterMap> map_;
  RedisNodeConnection seed_;
  // Cluster mode: pipelined connections per master, and connections without pipelined state
  // for resending a redirected command.
  std::map<std::string, std::unique_ptr<RedisNodeConnection>> nodes_;
  std::map<std::string, std::unique_ptr<RedisNodeConnection>> side_;
  std::deque<Pending> pending_;
  std::set<RedisNodeConnection*> written_;
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

  // The slot map every connection of the pool shares (mode() says cluster or not).
  const std::shared_ptr<RedisClusterMap>& cluster_map() const { return map_; }

  const RedisUrl& url() const { return url_; }
  const RedisConnectionOptions& options() const { return options_; }
  std::size_t max_connections() const { return max_connections_; }

 private:
  void release(std::unique_ptr<RedisConnection> connection);

  RedisUrl url_;
  RedisConnectionOptions options_;
  std::shared_ptr<RedisClusterMap> map_;
  std::size_t max_connections_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
  std::size_t created_ = 0;
};

}  // namespace es
