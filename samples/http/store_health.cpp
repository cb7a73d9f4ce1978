// Why: see store_health.hpp.
#include "samples/http/store_health.hpp"

#include "domain/errors.hpp"

namespace es::http {

StoreHealth::StoreHealth(std::optional<RedisUrl> url, RedisConnectionOptions options,
                         std::chrono::milliseconds max_age)
    : url_(std::move(url)), options_(options), max_age_(max_age) {
  if (url_) thread_ = std::thread([this] { run(); });
}

StoreHealth::~StoreHealth() {
  stop();
}

void StoreHealth::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Whoever still waits hears that the server is going away.
  std::vector<Callback> callbacks;
  {
    std::lock_guard lock(mutex_);
    callbacks.swap(waiting_);
  }
  const StoreStatus closing{false, "the server is shutting down"};
  for (auto& cb : callbacks) {
    try {
      cb(closing);
    } catch (...) {
    }
  }
}

void StoreHealth::check(Callback done) {
  if (!url_) {
    static const StoreStatus always_ok{};
    done(always_ok);
    return;
  }
  StoreStatus fresh;
  {
    std::unique_lock lock(mutex_);
    if (stop_) {
      lock.unlock();
      done(StoreStatus{false, "the server is shutting down"});
      return;
    }
    if (have_status_ && std::chrono::steady_clock::now() - checked_ < max_age_) {
      fresh = status_;
    } else {
      const bool first = waiting_.empty();
      waiting_.push_back(std::move(done));
      lock.unlock();
      if (first) wake_.notify_one();
      return;
    }
  }
  done(fresh);
}

void StoreHealth::run() {
  RedisConnection connection(*url_, options_);
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || !waiting_.empty(); });
    if (stop_) return;
    lock.unlock();
    StoreStatus status;
    try {
      auto reply = connection.command({"PING"});
      if (reply.is_error()) {
        status = {false, "the store cannot serve now: " + std::string(reply.str().substr(0, 120))};
        connection.disconnect();
      }
    } catch (const std::exception& e) {
      status = {false, std::string("the store is unreachable: ") + e.what()};
    }
    lock.lock();
    status_ = status;
    checked_ = std::chrono::steady_clock::now();
    have_status_ = true;
    std::vector<Callback> callbacks;
    callbacks.swap(waiting_);
    lock.unlock();
    for (auto& cb : callbacks) {
      try {
        cb(status);
      } catch (...) {
        // A callback failure is the caller's; the prober goes on.
      }
    }
    lock.lock();
  }
}

}  // namespace es::http
