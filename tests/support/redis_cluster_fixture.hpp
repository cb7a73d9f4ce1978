// Why: the Redis Cluster tests need a real cluster, not a mock: six private redis-servers on
// loopback (--cluster-enabled, --cluster-node-timeout 2000, AOF on), joined by
// `redis-cli --cluster create ... --cluster-replicas 1`, and a wait until every replica's
// link to its master is up (a replica that has not synced is never promoted). Missing
// redis-server or redis-cli is a failure with a clear message, never a silent pass.
//
// Header-only for the same reason as redis_fixture.hpp.
#pragma once

#include "domain/errors.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_launcher.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace es::test {

namespace detail {

inline bool loopback_port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return free;
}

// A port below 55536 that is free, and whose cluster bus port (+10000) is free too.
inline int cluster_port() {
  static std::mt19937 random(static_cast<unsigned>(::getpid()) ^
                             static_cast<unsigned>(std::random_device{}()));
  // Both ports below the kernel's ephemeral range (32768 up): a port there may be the local
  // end of someone's outgoing connection, which a listener probe does not see.
  std::uniform_int_distribution<int> pick(12000, 22700);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = pick(random);
    if (loopback_port_free(port) && loopback_port_free(port + 10000)) return port;
  }
  throw std::runtime_error("no free port pair for a Redis Cluster node");
}

inline std::string key_of(const std::string& info, const std::string& field) {
  const auto at = info.find(field + ":");
  if (at == std::string::npos) return {};
  const auto end = info.find_first_of("\r\n", at);
  return info.substr(at + field.size() + 1,
                     end == std::string::npos ? end : end - at - 1 - field.size());
}

}  // namespace detail

class RedisClusterFixture {
 public:
  // Starts and joins the nodes in directories below `root` (removed by the caller).
  explicit RedisClusterFixture(const std::filesystem::path& root, int masters = 3) {
    if (find_redis_server().empty()) {
      throw std::runtime_error(
          "redis-server not found: the Redis Cluster tests need it (scripts/install-deps)");
    }
    if (std::system("redis-cli --version >/dev/null 2>&1") != 0) {
      throw std::runtime_error(
          "redis-cli not found: the Redis Cluster tests need it (redis-tools, "
          "scripts/install-deps)");
    }
    for (int attempt = 0;; ++attempt) {
      try {
        start(root / ("try" + std::to_string(attempt)), masters);
        return;
      } catch (const std::exception&) {
        nodes.clear();
        if (attempt == 2) throw;
      }
    }
  }

  std::vector<std::unique_ptr<RedisServer>> nodes;

  RedisUrl url_of(int port) const {
    RedisUrl url = nodes.front()->redis_url();
    url.port = port;
    return url;
  }
  // A URL naming one node (the first), as a user would give it with --redis.
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(nodes.front()->port()); }

  RedisNodeConnection node(int port) const {
    RedisConnectionOptions o;
    o.connect_timeout = std::chrono::milliseconds(1000);
    o.command_timeout = std::chrono::milliseconds(3000);
    return RedisNodeConnection(url_of(port), o);
  }
  RedisServer* server(int port) const {
    for (const auto& n : nodes) {
      if (n->port() == port) return n.get();
    }
    return nullptr;
  }
  // The port of the master serving `slot`, as a live node sees it; -1 when none.
  int master_of(int slot) const {
    for (const auto& n : nodes) {
      if (!n->running()) continue;
      try {
        auto c = node(n->port());
        auto r = c.command({"CLUSTER", "SLOTS"});
        if (!r.view().is_array()) continue;
        for (std::size_t i = 0; i < r.size(); ++i) {
          if (r[i][0].integer() <= slot && slot <= r[i][1].integer()) {
            return static_cast<int>(r[i][2][1].integer());
          }
        }
        return -1;
      } catch (const StoreUnavailable&) {
      }
    }
    return -1;
  }
  std::vector<int> master_ports() const {
    std::vector<int> out;
    for (const auto& n : nodes) {
      if (!n->running()) continue;
      try {
        auto c = node(n->port());
        auto r = c.command({"ROLE"});
        if (r.view().is_array() && r[0].str() == "master") out.push_back(n->port());
      } catch (const StoreUnavailable&) {
      }
    }
    return out;
  }
  // Every live node says cluster_state:ok and every live replica's link is up.
  bool healthy() const {
    for (const auto& n : nodes) {
      if (!n->running()) continue;
      try {
        auto c = node(n->port());
        auto info = c.command({"CLUSTER", "INFO"});
        if (detail::key_of(std::string(info.str()), "cluster_state") != "ok") return false;
        auto replication = std::string(c.command({"INFO", "replication"}).str());
        if (detail::key_of(replication, "role") == "slave" &&
            detail::key_of(replication, "master_link_status") != "up") {
          return false;
        }
      } catch (const StoreUnavailable&) {
        return false;
      }
    }
    return true;
  }
  bool wait_healthy(std::chrono::milliseconds timeout) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (healthy()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

 private:
  void start(const std::filesystem::path& root, int masters) {
    std::string addresses;
    for (int i = 0; i < 2 * masters; ++i) {
      RedisServerOptions options;
      options.data_dir = root / ("node" + std::to_string(i));
      options.port = detail::cluster_port();
      options.extra_config = {"cluster-enabled yes", "cluster-config-file nodes.conf",
                              "cluster-node-timeout 2000"};  // the launcher turns AOF on
      nodes.push_back(std::make_unique<RedisServer>(options));
      addresses += " 127.0.0.1:" + std::to_string(nodes.back()->port());
    }
    const auto log = root / "create.log";
    const std::string create = "redis-cli --cluster create" + addresses +
                               " --cluster-replicas 1 --cluster-yes >'" + log.string() + "' 2>&1";
    if (std::system(create.c_str()) != 0) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      throw std::runtime_error("redis-cli --cluster create failed: " + text.str());
    }
    if (!wait_healthy(std::chrono::seconds(30))) {
      throw std::runtime_error("the Redis Cluster did not become healthy within 30 s");
    }
    // Every node must know every other one before a failover can be relied on.
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (const auto& n : nodes) {
      for (;;) {
        auto c = node(n->port());
        auto info = std::string(c.command({"CLUSTER", "INFO"}).str());
        if (detail::key_of(info, "cluster_known_nodes") == std::to_string(nodes.size())) break;
        if (std::chrono::steady_clock::now() > end) {
          throw std::runtime_error("the cluster nodes did not all meet within 30 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
};

}  // namespace es::test
