// The entity framework: a versioned, timestamped, hash-chained aggregate whose state is
// the fold of its events. A user defines an entity type by deriving from Entity, listing
// its event structs (see event_type.hpp), and implementing mutate/save_state/load_state.
//
// Commands call trigger(), which builds the next chained event, applies it and keeps it
// pending until collect_pending_events() hands it to a store. Replay calls apply(), which
// first checks id, version, previous hash and own hash, in that order.
#pragma once

#include "domain/clock.hpp"
#include "domain/errors.hpp"
#include "domain/event.hpp"
#include "domain/event_type.hpp"
#include "domain/snapshot.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace es {

class Entity {
 public:
  virtual ~Entity() = default;

  const Uuid& id() const { return id_; }
  // Version of the latest applied event; -1 before Created.
  std::int64_t version() const { return version_; }
  std::int64_t created_on() const { return created_on_; }
  std::int64_t last_modified() const { return last_modified_; }
  // event_hash of the latest applied event ("" before Created).
  const std::string& head() const { return head_; }
  bool is_discarded() const { return discarded_; }
  bool is_created() const { return version_ >= 0; }

  // The stable topic of the entity type, e.g. "example.Example"; names its snapshots.
  virtual std::string_view type_topic() const = 0;

  // Checks that `event` may follow the current state: OriginatorIDError,
  // OriginatorVersionError, HeadHashError, EventHashError, in that order.
  void check(const Event& event) const;
  // check() then mutate.
  void apply(const Event& event);

  // Events triggered and not yet collected, oldest first.
  const std::vector<Event>& pending_events() const { return pending_; }
  std::vector<Event> collect_pending_events();

  // The state a snapshot holds: null once discarded, as in the reference.
  boost::json::value snapshot_state() const;
  Snapshot take_snapshot() const;
  // Replaces the whole state with a snapshot's. Throws RecordDecodingError on a snapshot
  // of another type or with missing fields.
  void restore_snapshot(const Snapshot& snapshot);

  // Entities are equal when they have the same type and the same state.
  friend bool operator==(const Entity& a, const Entity& b);
  friend bool operator!=(const Entity& a, const Entity& b) { return !(a == b); }

 protected:
  Entity() = default;
  Entity(const Entity&) = default;
  Entity(Entity&&) = default;
  Entity& operator=(const Entity&) = default;
  Entity& operator=(Entity&&) = default;

  // The first event of a new entity (version 0) with the given id.
  template <class T>
  void trigger_created(const Uuid& id, const T& payload) {
    if (is_created()) throw InvalidInput("entity is already created");
    id_ = id;
    trigger_event(std::string(T::topic), payload.to_data(), schema_version_of<T>::value);
  }
  // The next event of a live entity. Throws EntityIsDiscarded once discarded.
  template <class T>
  void trigger(const T& payload) {
    assert_not_discarded();
    if (!is_created()) throw InvalidInput("entity is not created yet");
    trigger_event(std::string(T::topic), payload.to_data(), schema_version_of<T>::value);
  }

  void assert_not_discarded() const;
  // Called by a mutator for the entity type's Discarded event.
  void mark_discarded() { discarded_ = true; }

  // Applies the entity type's own part of `event`.
  virtual void mutate(const Event& event) = 0;
  // Writes / reads the entity type's own attributes into / from a snapshot state.
  virtual void save_state(boost::json::object& state) const = 0;
  virtual void load_state(const boost::json::object& state) = 0;

 private:
  void trigger_event(std::string topic, boost::json::object data, int schema_version);

  Uuid id_{};
  std::int64_t version_ = -1;
  std::int64_t created_on_ = 0;
  std::int64_t last_modified_ = 0;
  std::string head_;
  bool discarded_ = false;
  std::vector<Event> pending_;
};

// Rebuilds an entity of type E from an optional snapshot and the events after it.
template <class E, class Events>
E replay(const Snapshot* snapshot, const Events& events) {
  E entity;
  if (snapshot) entity.restore_snapshot(*snapshot);
  for (const auto& e : events) entity.apply(e);
  return entity;
}

}  // namespace es
