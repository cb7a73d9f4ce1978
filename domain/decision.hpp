// What a command handler decides: the events to persist, as typed payloads not yet chained.
// The entity actor chains them (versions, timestamps, hashes) onto the current state with
// Entity::chain(), stores them, and only then applies them: deciding never mutates state
// (Akka's Effect.persist, the Python library's "trigger" split into decide and apply).
#pragma once

#include "domain/event_codec.hpp"

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace es {

// One decided event: its topic, its own fields and the schema version of its type.
struct EventDraft {
  std::string topic;
  boost::json::object data;
  int schema_version = 1;
};

class Decision {
 public:
  Decision() = default;
  // persist(a, b, ...) in one go: Decision{Deposited{5}}.
  template <class T, class... Ts,
            class = std::enable_if_t<!std::is_same_v<std::decay_t<T>, Decision>>>
  explicit Decision(const T& first, const Ts&... rest) {
    drafts_.reserve(1 + sizeof...(Ts));
    persist(first);
    (persist(rest), ...);
  }

  // Appends one event of a registered event type (see event_type.hpp).
  template <class T>
  Decision& persist(const T& payload) {
    drafts_.push_back({std::string(T::topic), event_data_of(payload), schema_version_of<T>::value});
    return *this;
  }

  bool empty() const { return drafts_.empty(); }
  std::size_t size() const { return drafts_.size(); }
  const std::vector<EventDraft>& drafts() const { return drafts_; }
  std::vector<EventDraft> take() { return std::move(drafts_); }

 private:
  std::vector<EventDraft> drafts_;
};

}  // namespace es
