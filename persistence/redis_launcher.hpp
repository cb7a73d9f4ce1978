// Why: tests, benchmarks, samples and scripts/demo need a real Redis without touching the
// system one: RedisServer runs a private `redis-server` child on a free loopback port with
// its data (AOF) in a directory of its own, and makes sure the child never outlives its
// owner, even when the owner is killed with SIGKILL.
#pragma once

#include "persistence/redis_url.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace es {

// The `stream-node-max-bytes` the launcher sets. Redis preallocates min(this, 4096) bytes for
// the open node of every stream, so Redis' default 4096 costs ~4.4 KB per small entity; 1024
// costs ~1.4 KB for 1-3 events and only ~8% more than 4096 per event in long streams, where
// 512 and 256 lose (measurement in docs/STORAGE.md).
inline constexpr std::size_t kDefaultStreamNodeMaxBytes = 1024;

struct RedisServerOptions {
  std::filesystem::path data_dir;  // required; created when missing
  bool fsync_always = false;       // appendfsync always (else everysec)
  std::string password;            // requirepass when not empty (written to a 0600 file, not argv)
  int port = 0;                    // 0: a free loopback port
  std::size_t stream_node_max_bytes = kDefaultStreamNodeMaxBytes;
  std::chrono::milliseconds start_timeout{10000};  // until PING answers
  std::chrono::milliseconds stop_timeout{5000};    // SIGTERM, then SIGKILL after this
  std::vector<std::string> extra_config;           // more redis.conf lines, e.g. "maxmemory 1gb"
  std::filesystem::path executable;                // empty: redis-server on PATH, else /usr/bin
};

// A private redis-server child process. Starts in the constructor (StoreUnavailable or
// ConfigurationError when it cannot), stops in the destructor. Not thread-safe.
//
// The child gets PR_SET_PDEATHSIG = SIGKILL: it dies when the thread that started it ends,
// so create the server from a thread that lives as long as the server (e.g. main()).
class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // redis://[:PASSWORD@]127.0.0.1:PORT; it holds the password: hand it to a pool, never log it.
  std::string url() const;
  RedisUrl redis_url() const;
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  const std::filesystem::path& data_dir() const { return options_.data_dir; }
  std::filesystem::path log_file() const;

  // Graceful stop: SIGTERM (Redis flushes its AOF), SIGKILL after stop_timeout.
  void stop();
  // SIGKILL now, as a crash would (for tests).
  void kill();
  // Starts again on the same directory and port (stopping first when running).
  void restart();

 private:
  void start();
  bool spawn_and_wait(std::string& failure);
  void write_config() const;
  void wait_for_exit(std::chrono::milliseconds timeout);

  RedisServerOptions options_;
  std::filesystem::path executable_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// The redis-server program the launcher would run (PATH, then /usr/bin); empty when none.
std::filesystem::path find_redis_server();

}  // namespace es
