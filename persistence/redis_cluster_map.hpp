// Why: a Redis Cluster client must know which master serves each of the 16384 slots. The map
// is learnt from CLUSTER SLOTS of any node that answers (--redis may name any node), kept
// per pool and shared by its connections, updated at once by a MOVED redirect, and read again
// when a node fails or the cluster says it changed (a replica promoted after a failover).
// It also learns, on first use, whether the server is a cluster node at all: on a single
// Redis the connections send everything to the URL's server as before.
#pragma once

#include "persistence/redis_protocol.hpp"
#include "persistence/redis_url.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace es {

class RedisNodeConnection;

class RedisClusterMap {
 public:
  enum class Mode { unknown, standalone, cluster };

  RedisClusterMap(RedisUrl seed, RedisConnectionOptions options);
  RedisClusterMap(const RedisClusterMap&) = delete;
  RedisClusterMap& operator=(const RedisClusterMap&) = delete;

  Mode mode() const;
  // Learns the mode (and the slot map of a cluster) through a connection to the seed when
  // not known yet; StoreUnavailable when the seed cannot answer.
  Mode learn(RedisNodeConnection& seed);

  // The master serving `slot` ("host:port"), after reading the map again when it is stale;
  // StoreUnavailable when no node answers or no master serves the slot.
  std::string master_of(int slot);
  // Every master, in slot order (the order is stable while the map does not change).
  std::vector<std::string> masters();
  // A MOVED redirect: the slot is served by `address` from now on; the rest is read again soon.
  void moved(int slot, const std::string& address);
  // Something failed (a lost node, CLUSTERDOWN): read the map again before the next routing.
  void invalidate();
  // Times the map was read (for tests and diagnostics).
  std::uint64_t refreshes() const;

  // The URL of a node: the seed's credentials, the node's host and port.
  RedisUrl url_of(const std::string& address) const;
  const RedisConnectionOptions& options() const { return options_; }

 private:
  // Callers hold mutex_.
  void refresh_locked();
  bool read_slots_locked(RedisNodeConnection& node);

  RedisUrl seed_;
  RedisConnectionOptions options_;
  mutable std::mutex mutex_;
  std::atomic<Mode> mode_{Mode::unknown};  // read without the lock on every command
  std::vector<std::string> masters_;       // slot order of their first range
  std::vector<std::int16_t> owner_;        // per slot: index into masters_, -1 when unserved
  std::vector<std::string> known_;         // every node seen (masters and replicas)
  bool stale_ = false;
  std::uint64_t refreshes_ = 0;
  std::chrono::steady_clock::time_point last_refresh_{};
};

}  // namespace es
