// Publish/subscribe of committed events, as the reference's publish()/subscribe(): a list
// of (subscriber, predicate); publish() hands each subscriber the events its predicate
// accepts, in subscription order. Subscribers are actors, so a slow one never blocks the
// publisher. Thread-safe; publishing with no subscribers costs one atomic load.
#pragma once

#include "actors/atoms.hpp"
#include "domain/event.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace es {

// What a subscriber receives: (publish_atom, PublishedEvents). Local only.
using PublishedEvents = std::shared_ptr<const std::vector<Event>>;
using EventPredicate = std::function<bool(const Event&)>;

class EventBus {
 public:
  // Adds a subscriber; a second subscription of the same actor is ignored.
  void subscribe(const caf::actor& subscriber, EventPredicate predicate = {});
  void unsubscribe(const caf::actor& subscriber);
  void publish(const std::vector<Event>& events) const;
  bool has_subscribers() const { return count_.load(std::memory_order_acquire) > 0; }

 private:
  struct Subscription {
    caf::actor subscriber;
    EventPredicate predicate;
  };
  mutable std::mutex mutex_;
  std::vector<Subscription> subscriptions_;
  std::atomic<std::size_t> count_{0};
};

// A predicate that accepts events whose topic is one of `topics`.
EventPredicate topic_in(std::vector<std::string> topics);

}  // namespace es

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::PublishedEvents)
