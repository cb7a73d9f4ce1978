// Why: /healthz must say 503 when Redis is unreachable, and every other route must answer
// 503 quickly rather than wait on a dead store, yet a probe per request would double the
// Redis load. One prober thread with its own connection PINGs on demand, at most once per
// `max_age`; callers get the cached answer while it is fresh, or wait (asynchronously) for
// the probe in progress. The probe is bounded by its connect and command timeouts, so an
// answer always comes. Idle, it does nothing (the server writes nothing on its own).
#pragma once

#include "persistence/redis_connection.hpp"
#include "persistence/redis_url.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace es::http {

struct StoreStatus {
  bool ok = true;
  std::string reason;  // why not, when not ok (never holds a password)
};

class StoreHealth {
 public:
  using Callback = std::function<void(const StoreStatus&)>;

  // Without a URL (memory store) the store is always reachable and nothing is started.
  StoreHealth(std::optional<RedisUrl> url, RedisConnectionOptions options,
              std::chrono::milliseconds max_age);
  ~StoreHealth();  // stop()
  StoreHealth(const StoreHealth&) = delete;
  StoreHealth& operator=(const StoreHealth&) = delete;

  // Calls `done` with a status at most max_age old: right away (on the caller's thread) when
  // the cached one is fresh, else on the prober thread once the probe ends. `done` must not
  // block.
  void check(Callback done);

  // Ends the prober thread; callers still waiting hear "shutting down". Idempotent.
  void stop();

 private:
  void run();

  std::optional<RedisUrl> url_;
  RedisConnectionOptions options_;
  std::chrono::milliseconds max_age_;
  std::mutex mutex_;
  std::condition_variable wake_;
  StoreStatus status_;
  std::chrono::steady_clock::time_point checked_{};
  bool have_status_ = false;
  std::vector<Callback> waiting_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace es::http
