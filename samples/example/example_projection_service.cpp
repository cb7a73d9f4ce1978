// Why: see example_projection_service.hpp.
#include "samples/example/example_projection_service.hpp"

#include "domain/errors.hpp"

#include <unistd.h>

#include <cstdio>

#include <thread>

namespace es {

std::string default_consumer_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "host");
  return std::string(host) + "-" + std::to_string(::getpid());
}

ExampleProjectionService::ExampleProjectionService(caf::actor_system& system,
                                                   std::shared_ptr<RecordManager> events,
                                                   std::shared_ptr<const AesGcmCipher> cipher,
                                                   ExampleProjectionOptions options)
    : system_(system),
      options_(std::move(options)),
      backend_(std::move(events), ProjectionBackendOptions{options_.name, options_.block}) {
  if (options_.mode == ExampleProjectionOptions::Mode::group && !backend_.supports_groups()) {
    throw ConfigurationError("the group mode needs the Redis store (consumer groups)");
  }
  if (options_.consumer.empty()) options_.consumer = default_consumer_name();
  if (options_.followers < 1) options_.followers = 1;
  projection_ = std::make_shared<ExampleProjection>(
      backend_.fetcher(), backend_.example_read_model(), std::move(cipher));
}

ExampleProjectionService::~ExampleProjectionService() {
  stop();
}

void ExampleProjectionService::start() {
  std::lock_guard lock(mutex_);
  if (!actors_.empty()) return;
  progress_.clear();
  const int partitions = backend_.partitions();
  if (options_.mode == ExampleProjectionOptions::Mode::group) {
    GroupConsumerOptions o;
    o.consumer = options_.consumer;
    o.page_size = options_.page_size;
    o.block = options_.block;
    o.claim_after = options_.claim_after;
    o.claim_interval = options_.claim_interval;
    auto progress = std::make_shared<SubscriptionProgress>();
    actors_.push_back(
        spawn_group_consumer(system_, backend_.new_group_source(), projection_, o, progress));
    progress_.push_back(std::move(progress));
    return;
  }
  const auto followers =
      std::min<std::size_t>(options_.followers, static_cast<std::size_t>(partitions));
  for (std::size_t k = 0; k < followers; ++k) {
    CatchupOptions o;
    for (int p = 0; p < partitions; ++p) {
      if (static_cast<std::size_t>(p) % followers == k) o.partitions.push_back(p);
    }
    o.page_size = options_.page_size;
    o.block = options_.block;
    auto progress = std::make_shared<SubscriptionProgress>();
    actors_.push_back(
        spawn_catchup_subscription(system_, backend_.new_source(), projection_, o, progress));
    progress_.push_back(std::move(progress));
  }
}

bool ExampleProjectionService::stop(std::chrono::milliseconds timeout) {
  std::vector<caf::actor> actors;
  {
    std::lock_guard lock(mutex_);
    actors.swap(actors_);
  }
  if (actors.empty()) return true;
  return stop_actors(actors, timeout);
}

bool ExampleProjectionService::running() const {
  std::lock_guard lock(mutex_);
  return !actors_.empty();
}

void ExampleProjectionService::rebuild() {
  const bool was_running = running();
  stop();
  backend_.example_read_model()->clear();
  if (options_.mode == ExampleProjectionOptions::Mode::group) {
    std::vector<int> all;
    for (int p = 0; p < backend_.partitions(); ++p) all.push_back(p);
    backend_.new_group_source()->reset_groups(all);
  }
  if (was_running) start();
}

std::int64_t ExampleProjectionService::lag() const {
  const auto applied = projection_->stats().positions;
  std::int64_t behind = 0;
  for (int p = 0; p < backend_.partitions(); ++p) {
    const auto head = backend_.events()->last_notification_position(p);
    behind += std::max<std::int64_t>(0, head - applied[static_cast<std::size_t>(p)]);
  }
  return behind;
}

bool ExampleProjectionService::wait_until_caught_up(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::int64_t> heads;
  for (int p = 0; p < backend_.partitions(); ++p) {
    heads.push_back(backend_.events()->last_notification_position(p));
  }
  for (;;) {
    try {
      const auto applied = projection_->stats().positions;
      bool done = true;
      for (std::size_t p = 0; p < heads.size(); ++p) done = done && applied[p] >= heads[p];
      if (done) return true;
    } catch (const StoreUnavailable&) {
      // keep waiting
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ProjectionStatus ExampleProjectionService::status() const {
  ProjectionStatus s;
  std::lock_guard lock(mutex_);
  s.running = !actors_.empty();
  for (const auto& p : progress_) {
    s.delivered += p->delivered();
    s.failures += p->failures();
    if (!p->healthy() && s.healthy) {
      s.healthy = false;
      s.last_error = p->last_error();  // the failing one's
    } else if (s.healthy && s.last_error.empty()) {
      s.last_error = p->last_error();  // an earlier failure, since recovered
    }
  }
  s.missing_records = projection_->missing_records();
  return s;
}

}  // namespace es
