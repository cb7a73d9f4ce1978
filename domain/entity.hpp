// The entity framework: a versioned, timestamped, hash-chained aggregate whose state is
// the fold of its events. A user defines an entity type by deriving from Entity, listing
// its event structs (see event_type.hpp), and implementing mutate/save_state/load_state, or
// more shortly as an Aggregate (aggregate.hpp) of a plain state struct.
//
// Two ways to change one:
// - decide, then apply (the actors' way): a command handler returns a Decision; chain() turns
//   it into the next chained events without touching the entity; once stored, apply() each.
// - trigger() (the reference's synchronous way): builds the next chained event, applies it
//   and keeps it pending until collect_pending_events() hands it to a store.
// apply() first checks id, version, previous hash and own hash, in that order.
#pragma once

#include "domain/clock.hpp"
#include "domain/decision.hpp"
#include "domain/errors.hpp"
#include "domain/event.hpp"
#include "domain/event_type.hpp"
#include "domain/snapshot.hpp"

#include <boost/json/object.hpp>

#include <optional>
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

  // The stable topic of the entity type, e.g. "bank.Account"; names its snapshots.
  virtual std::string_view type_topic() const = 0;

  // Checks that `event` may follow the current state: OriginatorIDError,
  // OriginatorVersionError, HeadHashError, EventHashError, in that order.
  void check(const Event& event) const;
  // check() then mutate.
  void apply(const Event& event);

  // The events that would follow the current state, one per draft, chained onto its head
  // (versions, timestamps, previous hashes). `id` names a new entity; an existing one keeps
  // its own. Mutates nothing; EntityIsDiscarded on a discarded entity.
  std::vector<Event> chain(const Uuid& id, std::vector<EventDraft> drafts) const;

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
    record(id, Decision(payload));
  }
  // The next event of a live entity. Throws EntityIsDiscarded once discarded.
  template <class T>
  void trigger(const T& payload) {
    assert_not_discarded();
    if (!is_created()) throw InvalidInput("entity is not created yet");
    record(id_, Decision(payload));
  }
  // Chains the decided events, applies them and keeps them pending (a no-op when empty).
  void record(const Uuid& id, Decision decision);

  void assert_not_discarded() const;
  // Created and not discarded: EntityIsDiscarded, or InvalidInput before Created.
  void assert_live() const {
    assert_not_discarded();
    if (!is_created()) throw InvalidInput("entity is not created yet");
  }
  // Called by a mutator for the entity type's Discarded event.
  void mark_discarded() { discarded_ = true; }

  // Applies the entity type's own part of `event`.
  virtual void mutate(const Event& event) = 0;
  // Writes / reads the entity type's own attributes into / from a snapshot state.
  virtual void save_state(boost::json::object& state) const = 0;
  virtual void load_state(const boost::json::object& state) = 0;

 private:
  Uuid id_{};
  std::int64_t version_ = -1;
  std::int64_t created_on_ = 0;
  std::int64_t last_modified_ = 0;
  std::string head_;
  bool discarded_ = false;
  std::vector<Event> pending_;
};

// Rebuilds an entity of type E from an optional snapshot and the events after it: the one
// rebuild that recovery, reads at a version and the synchronous repository share. Nothing
// when there is neither.
template <class E, class Events>
std::optional<E> rebuild(const Snapshot* snapshot, const Events& events) {
  std::optional<E> entity;
  if (snapshot) entity.emplace().restore_snapshot(*snapshot);
  for (const auto& e : events) {
    if (!entity) entity.emplace();
    entity->apply(e);
  }
  return entity;
}

template <class E, class Events>
E replay(const Snapshot* snapshot, const Events& events) {
  auto entity = rebuild<E>(snapshot, events);
  return entity ? std::move(*entity) : E{};
}

}  // namespace es
