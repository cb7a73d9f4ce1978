// Why: Redis-backed tests need a real server but must never touch the system Redis (6379):
// one private redis-server per test process, started on first use through the launcher, and
// a fresh key prefix per test so that tests never see each other's keys.
//
// Header-only on purpose: every tests/support/*.cpp is compiled into every test executable,
// and test_domain does not link es_persistence; inline functions only pull the launcher in
// where a test uses them.
#pragma once

#include "domain/errors.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_launcher.hpp"
#include "support/redis_cluster_fixture.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>

namespace es::test {

namespace detail {

struct RedisFixture {
  std::mutex mutex;
  std::filesystem::path root;
  std::unique_ptr<RedisServer> server;
  std::unique_ptr<RedisClusterFixture> cluster;
  std::shared_ptr<RedisPool> pool;

  ~RedisFixture() {
    pool.reset();
    cluster.reset();
    server.reset();  // stops the child
    if (!root.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(root, ec);
    }
  }

  // Callers hold `mutex`.
  const std::filesystem::path& root_dir() {
    if (root.empty()) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "es-persistence-test-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp");
      }
      root = pattern;
    }
    return root;
  }
};

inline RedisFixture& redis_fixture() {
  static RedisFixture fixture;
  return fixture;
}

}  // namespace detail

// Connection options for tests: short timeouts, so that a failure is quick, never a hang.
inline RedisConnectionOptions test_connection_options() {
  RedisConnectionOptions o;
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.command_timeout = std::chrono::milliseconds(2000);
  o.backoff_initial = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(200);
  return o;
}

// A new empty directory below this process' temporary directory (removed at exit).
inline std::filesystem::path temp_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  auto& f = detail::redis_fixture();
  std::lock_guard lock(f.mutex);
  auto dir = f.root_dir() / (name + "-" + std::to_string(counter++));
  std::filesystem::create_directories(dir);
  return dir;
}

// The process-wide private server (started lazily, stopped and removed at exit). Call it
// first from the main thread: the child dies with the thread that started it.
inline RedisServer& redis_server() {
  auto& f = detail::redis_fixture();
  std::lock_guard lock(f.mutex);
  if (!f.server) {
    RedisServerOptions options;
    options.data_dir = f.root_dir() / "shared-redis";
    f.server = std::make_unique<RedisServer>(options);
  }
  return *f.server;
}

// Set (to anything) in the environment, redis_pool() is a pool on a private 3-master Redis
// Cluster instead: the same store tests then run on a cluster (ctest label redis-cluster).
inline constexpr const char* kClusterVariable = "ES_TEST_REDIS_CLUSTER";

// A pool on that server (or on the private Redis Cluster, see kClusterVariable).
inline std::shared_ptr<RedisPool> redis_pool() {
  if (std::getenv(kClusterVariable) != nullptr) {
    auto& f = detail::redis_fixture();
    std::lock_guard lock(f.mutex);
    if (!f.cluster) f.cluster = std::make_unique<RedisClusterFixture>(f.root_dir() / "cluster");
    if (!f.pool) {
      f.pool = std::make_shared<RedisPool>(f.cluster->url(), test_connection_options(), 8);
    }
    return f.pool;
  }
  auto& server = redis_server();
  auto& f = detail::redis_fixture();
  std::lock_guard lock(f.mutex);
  if (!f.pool) {
    f.pool = std::make_shared<RedisPool>(server.redis_url(), test_connection_options(), 8);
  }
  return f.pool;
}

// A key prefix unused so far by this process, e.g. "t1234x7".
inline std::string fresh_prefix() {
  static std::atomic<int> counter{0};
  return "t" + std::to_string(::getpid()) + "x" + std::to_string(counter++);
}

// Removes every key of the private server.
inline void flush_redis() {
  auto lease = redis_pool()->acquire();
  auto reply = lease->command({"FLUSHALL"});
  if (reply.is_error()) throw Error("FLUSHALL failed");
}

}  // namespace es::test
