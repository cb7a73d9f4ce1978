// Why: see subscription_actors.hpp. Each actor drives itself with a `poll` message per step
// (a bounded blocking call), so its mailbox, and with it an exit message, is looked at
// between steps; after a failure the next step is a delayed message (bounded backoff).
#include "actors/subscription_actors.hpp"

#include "domain/errors.hpp"

#include <caf/abstract_actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <numeric>

namespace es {
namespace {

using poll_atom = caf::atom_constant<caf::atom("poll")>;

std::vector<int> all_partitions(int count) {
  std::vector<int> out(static_cast<std::size_t>(count));
  std::iota(out.begin(), out.end(), 0);
  return out;
}

std::string describe(const std::exception& e) {
  // The runtime's own errors say what failed without data; foreign ones only by type.
  if (dynamic_cast<const Error*>(&e) != nullptr) return e.what();
  return "unexpected failure";
}

std::chrono::milliseconds next_backoff(std::chrono::milliseconds current,
                                       std::chrono::milliseconds initial,
                                       std::chrono::milliseconds max) {
  if (current.count() == 0) return initial;
  return std::min(current * 2, max);
}

// --- catch-up subscription ---

struct CatchupState {
  std::vector<PartitionCursor> cursors;
  bool positioned = false;
  std::chrono::milliseconds backoff{0};
  static inline const char* name = "catchup-subscription";
};

caf::behavior catchup_subscription(caf::stateful_actor<CatchupState>* self,
                                   std::shared_ptr<NotificationSource> source,
                                   std::shared_ptr<NotificationHandler> handler,
                                   CatchupOptions options,
                                   std::shared_ptr<SubscriptionProgress> progress) {
  if (options.partitions.empty()) options.partitions = all_partitions(source->partitions());
  for (int p : options.partitions) self->state.cursors.push_back({p, 0});
  self->send(self, poll_atom::value);
  return {
      [=](poll_atom) {
        auto& st = self->state;
        progress->note_step();
        try {
          if (!st.positioned) {
            // From the positions stored with the effects (after a crash, a restart or a
            // failure: whatever was applied last).
            auto positions = handler->positions(options.partitions);
            for (std::size_t i = 0; i < st.cursors.size(); ++i) st.cursors[i].after = positions[i];
            st.positioned = true;
          }
          auto batches = source->wait_and_read(st.cursors, options.page_size, options.block);
          if (!batches.empty()) {
            std::int64_t count = 0;
            for (const auto& b : batches) count += static_cast<std::int64_t>(b.items.size());
            auto stored = handler->handle(batches);
            progress->note_delivered(count);
            for (std::size_t i = 0; i < batches.size(); ++i) {
              for (auto& c : st.cursors) {
                // Whatever the handler stored is where to go on from: past what was applied
                // elsewhere, or back after a reset (a rebuild) refused the batch as a gap.
                if (c.partition == batches[i].partition) c.after = stored[i];
              }
            }
          }
          progress->note_success();
          st.backoff = std::chrono::milliseconds(0);
          self->send(self, poll_atom::value);
        } catch (const std::exception& e) {
          progress->note_failure(describe(e));
          st.positioned = false;
          st.backoff = next_backoff(st.backoff, options.retry_initial, options.retry_max);
          self->delayed_send(self, st.backoff, poll_atom::value);
        }
      },
  };
}

// --- competing consumer ---

struct GroupState {
  // Delivered to this consumer and not yet applied, per partition, by position.
  std::map<int, std::map<std::int64_t, Notification>> held;
  std::size_t held_count = 0;
  bool started = false;
  std::string server;  // the server the held entries were read from
  std::chrono::steady_clock::time_point last_claim{};
  std::chrono::milliseconds backoff{0};
  static inline const char* name = "group-consumer";

  void drop_held() {
    held.clear();
    held_count = 0;
  }
  void hold(std::vector<NotificationBatch>&& batches) {
    for (auto& b : batches) {
      auto& part = held[b.partition];
      for (auto& n : b.items) {
        const auto position = n.position;
        if (part.emplace(position, std::move(n)).second) ++held_count;
      }
    }
  }
};

caf::behavior group_consumer(caf::stateful_actor<GroupState>* self,
                             std::shared_ptr<ConsumerGroupSource> source,
                             std::shared_ptr<NotificationHandler> handler,
                             GroupConsumerOptions options,
                             std::shared_ptr<SubscriptionProgress> progress) {
  if (options.partitions.empty()) options.partitions = all_partitions(source->partitions());
  self->send(self, poll_atom::value);
  return {
      [=](poll_atom) {
        auto& st = self->state;
        progress->note_step();
        try {
          const auto now = std::chrono::steady_clock::now();
          // Entries read from a server that has restarted since may be gone or stand for
          // other events now (a crash can lose the logs' tail): forget them, read again.
          const auto server = source->server_id();
          if (server != st.server) {
            st.drop_held();
            st.started = false;
            st.server = server;
          }
          if (!st.started) {
            source->ensure_groups(options.partitions);
            // What an earlier run under this name was delivered and did not acknowledge.
            st.hold(source->read_pending(options.consumer, options.partitions, options.page_size));
            st.started = true;
            st.last_claim = now;
          }
          if (now - st.last_claim >= options.claim_interval) {
            // As many as may be held: entries a dead consumer was delivered but that were
            // applied since are acknowledged right away, so they must not wait for rounds.
            const auto room =
                options.max_held > st.held_count ? options.max_held - st.held_count : 0;
            const auto per_partition = std::max<std::size_t>(
                options.page_size, room / std::max<std::size_t>(options.partitions.size(), 1));
            st.hold(source->claim_stale(options.consumer, options.partitions, options.claim_after,
                                        per_partition));
            st.last_claim = now;
          }
          if (st.held_count < options.max_held) {
            const auto wait =
                st.held_count > 0 ? std::min(options.stall_wait, options.block) : options.block;
            st.hold(
                source->read_new(options.consumer, options.partitions, options.page_size, wait));
          }
          if (st.held_count > 0) {
            // Per partition the contiguous run of held positions from the lowest (nothing
            // past a hole can be applied before the hole is), a few pages at most.
            const std::size_t cap = 4 * options.page_size;
            std::vector<NotificationBatch> batches;
            for (const auto& [partition, items] : st.held) {
              if (items.empty()) continue;
              NotificationBatch b;
              b.partition = partition;
              for (const auto& kv : items) {
                if (b.items.size() >= cap ||
                    (!b.items.empty() && kv.first != b.items.back().position + 1)) {
                  break;
                }
                b.items.push_back(kv.second);
              }
              batches.push_back(std::move(b));
            }
            auto stored = handler->handle(batches);
            // Acknowledge only what the handler's stored position covers: the effect is
            // stored. The rest waits (a gap another consumer holds) or is retried.
            std::vector<PartitionAcks> acks;
            std::int64_t done = 0;
            for (std::size_t i = 0; i < batches.size(); ++i) {
              auto& items = st.held[batches[i].partition];
              PartitionAcks a;
              a.partition = batches[i].partition;
              for (auto it = items.begin(); it != items.end() && it->first <= stored[i];) {
                a.positions.push_back(it->first);
                it = items.erase(it);
                --st.held_count;
              }
              done += static_cast<std::int64_t>(a.positions.size());
              if (!a.positions.empty()) acks.push_back(std::move(a));
            }
            source->ack(acks);
            progress->note_delivered(done);
          }
          progress->note_success();
          st.backoff = std::chrono::milliseconds(0);
          self->send(self, poll_atom::value);
        } catch (const std::exception& e) {
          progress->note_failure(describe(e));
          // After a failure: groups again, own pending entries again, nothing held trusted.
          st.started = false;
          st.drop_held();
          st.backoff = next_backoff(st.backoff, options.retry_initial, options.retry_max);
          self->delayed_send(self, st.backoff, poll_atom::value);
        }
      },
  };
}

}  // namespace

void SubscriptionProgress::note_success() {
  healthy_.store(true, std::memory_order_relaxed);
}

void SubscriptionProgress::note_failure(const std::string& why) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  healthy_.store(false, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  last_error_ = why;
}

std::string SubscriptionProgress::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

caf::actor spawn_catchup_subscription(caf::actor_system& sys,
                                      std::shared_ptr<NotificationSource> source,
                                      std::shared_ptr<NotificationHandler> handler,
                                      CatchupOptions options,
                                      std::shared_ptr<SubscriptionProgress> progress) {
  if (!source || !handler) throw ConfigurationError("a subscription needs a source and a handler");
  if (options.page_size < 1) throw ConfigurationError("page size must be >= 1");
  if (!progress) progress = std::make_shared<SubscriptionProgress>();
  return sys.spawn<caf::detached>(catchup_subscription, std::move(source), std::move(handler),
                                  std::move(options), std::move(progress));
}

caf::actor spawn_group_consumer(caf::actor_system& sys, std::shared_ptr<ConsumerGroupSource> source,
                                std::shared_ptr<NotificationHandler> handler,
                                GroupConsumerOptions options,
                                std::shared_ptr<SubscriptionProgress> progress) {
  if (!source || !handler) throw ConfigurationError("a consumer needs a source and a handler");
  if (options.consumer.empty()) throw ConfigurationError("a consumer needs a name");
  if (options.page_size < 1) throw ConfigurationError("page size must be >= 1");
  if (!progress) progress = std::make_shared<SubscriptionProgress>();
  return sys.spawn<caf::detached>(group_consumer, std::move(source), std::move(handler),
                                  std::move(options), std::move(progress));
}

bool stop_actors(const std::vector<caf::actor>& actors, std::chrono::milliseconds timeout) {
  struct Waiter {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t remaining = 0;
  };
  auto waiter = std::make_shared<Waiter>();
  std::vector<caf::actor> live;
  for (const auto& a : actors) {
    if (a) live.push_back(a);
  }
  waiter->remaining = live.size();
  for (const auto& a : live) {
    // Runs at once when the actor is already gone.
    caf::actor_cast<caf::abstract_actor*>(a)->attach_functor([waiter](const caf::error&) {
      std::lock_guard lock(waiter->mutex);
      --waiter->remaining;
      waiter->done.notify_all();
    });
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
  std::unique_lock lock(waiter->mutex);
  return waiter->done.wait_for(lock, timeout, [&] { return waiter->remaining == 0; });
}

}  // namespace es
