// Why: subscriptions are actors (DESIGN.md "Actors"), but following a log blocks on the
// store, so each runs detached on its own thread and blocks for a bounded time only (an exit
// message is seen within about a second). Both deliver each partition's notifications in
// position order (so each entity's events in version order), at least once, to a
// NotificationHandler whose tracking makes the effects exactly-once:
//
// - catch-up subscription: from the handler's stored positions, reads history in pages and
//   then follows live appends (one wait_and_read per step, with a timeout);
// - competing consumer: one member of a consumer group per partition log; it holds what it
//   was delivered until the handler applied it (only the next position of a partition is
//   ever applied), acknowledges only after the effect is stored, and claims entries left
//   pending too long by a consumer that died.
//
// The actors never speak the Redis protocol: they use the persistence interfaces.
#pragma once

#include "persistence/consumer_group_source.hpp"
#include "persistence/notification_handler.hpp"
#include "persistence/notification_source.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace es {

// What a subscription reports about itself; shared with its owner, thread-safe.
class SubscriptionProgress {
 public:
  void note_delivered(std::int64_t count) {
    delivered_.fetch_add(count, std::memory_order_relaxed);
  }
  void note_step() { steps_.fetch_add(1, std::memory_order_relaxed); }
  void note_success();
  void note_failure(const std::string& why);  // why: no data, no secrets

  std::int64_t delivered() const { return delivered_.load(); }  // handed to the handler
  std::int64_t steps() const { return steps_.load(); }
  std::int64_t failures() const { return failures_.load(); }
  bool healthy() const { return healthy_.load(); }
  std::string last_error() const;

 private:
  std::atomic<std::int64_t> delivered_{0};
  std::atomic<std::int64_t> steps_{0};
  std::atomic<std::int64_t> failures_{0};
  std::atomic<bool> healthy_{true};
  mutable std::mutex mutex_;
  std::string last_error_;
};

struct CatchupOptions {
  std::vector<int> partitions;                  // empty: all of the source's
  std::size_t page_size = 1000;                 // notifications per partition per step at most
  std::chrono::milliseconds block{500};         // longest wait for new notifications
  std::chrono::milliseconds retry_initial{50};  // after a failure, doubling up to retry_max
  std::chrono::milliseconds retry_max{1000};
};

caf::actor spawn_catchup_subscription(caf::actor_system& sys,
                                      std::shared_ptr<NotificationSource> source,
                                      std::shared_ptr<NotificationHandler> handler,
                                      CatchupOptions options,
                                      std::shared_ptr<SubscriptionProgress> progress = nullptr);

struct GroupConsumerOptions {
  std::string consumer;          // required; unique among the group's live consumers
  std::vector<int> partitions;   // empty: all of the source's
  std::size_t page_size = 1000;  // entries per partition per read at most
  std::chrono::milliseconds block{500};
  // Entries pending on any consumer longer than this are claimed (XAUTOCLAIM min-idle).
  std::chrono::milliseconds claim_after{std::chrono::seconds(10)};
  std::chrono::milliseconds claim_interval{std::chrono::seconds(1)};
  // While holding entries that must wait for others (a gap), new reads wait at most this.
  std::chrono::milliseconds stall_wait{50};
  std::size_t max_held = 100000;  // no new reads while holding this many
  std::chrono::milliseconds retry_initial{50};
  std::chrono::milliseconds retry_max{1000};
};

caf::actor spawn_group_consumer(caf::actor_system& sys, std::shared_ptr<ConsumerGroupSource> source,
                                std::shared_ptr<NotificationHandler> handler,
                                GroupConsumerOptions options,
                                std::shared_ptr<SubscriptionProgress> progress = nullptr);

// Sends user_shutdown to each actor and waits until all have terminated, at most `timeout`.
// True when they all did.
bool stop_actors(const std::vector<caf::actor>& actors, std::chrono::milliseconds timeout);

}  // namespace es
