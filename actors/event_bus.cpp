#include "actors/event_bus.hpp"

#include <caf/send.hpp>

#include <algorithm>

namespace es {

void EventBus::subscribe(const caf::actor& subscriber, EventPredicate predicate) {
  std::lock_guard lock(mutex_);
  for (const auto& s : subscriptions_) {
    if (s.subscriber == subscriber) return;
  }
  subscriptions_.push_back({subscriber, std::move(predicate)});
  count_.store(subscriptions_.size(), std::memory_order_release);
}

void EventBus::unsubscribe(const caf::actor& subscriber) {
  std::lock_guard lock(mutex_);
  subscriptions_.erase(
      std::remove_if(subscriptions_.begin(), subscriptions_.end(),
                     [&](const Subscription& s) { return s.subscriber == subscriber; }),
      subscriptions_.end());
  count_.store(subscriptions_.size(), std::memory_order_release);
}

void EventBus::publish(const std::vector<Event>& events) const {
  if (!has_subscribers() || events.empty()) return;
  std::vector<Subscription> subscriptions;
  {
    std::lock_guard lock(mutex_);
    subscriptions = subscriptions_;
  }
  auto all = std::make_shared<const std::vector<Event>>(events);
  for (const auto& s : subscriptions) {
    if (!s.predicate) {
      caf::anon_send(s.subscriber, publish_atom::value, PublishedEvents(all));
      continue;
    }
    auto matching = std::make_shared<std::vector<Event>>();
    for (const auto& e : events) {
      if (s.predicate(e)) matching->push_back(e);
    }
    if (!matching->empty()) {
      caf::anon_send(s.subscriber, publish_atom::value, PublishedEvents(std::move(matching)));
    }
  }
}

EventPredicate topic_in(std::vector<std::string> topics) {
  return [topics = std::move(topics)](const Event& e) {
    return std::find(topics.begin(), topics.end(), e.topic()) != topics.end();
  };
}

}  // namespace es
