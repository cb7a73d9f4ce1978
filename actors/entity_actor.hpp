// The entity actor: one per live entity id. It rebuilds its state from the latest snapshot
// and the events after it (verifying the hash chain), then handles commands one at a time:
// it runs the command on a draft, hands the new events to the journal writer, and applies
// them and replies only after the store confirmed. A conflict (or a failed write) makes it
// reload before anything else; it never applies an unconfirmed event. A DataIntegrityError
// on recovery makes it refuse commands with that error instead of crashing.
//
// Requests to the store actors carry no CAF timeout: those actors bound every store call
// themselves (StoreUnavailable), and a CAF timeout costs a clock entry per request.
#pragma once

#include "actors/entity_protocol.hpp"
#include "actors/entity_runtime.hpp"
#include "actors/error_code.hpp"
#include "domain/canonical_json.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <optional>

namespace es {

template <class Model>
struct EntityActorState {
  using Entity = typename Model::Entity;
  std::shared_ptr<const EntityRuntime> rt;
  repository_actor<Model> supervisor;
  Uuid id{};
  std::string id_text;
  std::optional<Entity> entity;  // nothing while no event is stored
  caf::error failure;            // why the entity cannot be served (integrity, unavailable)
  std::int64_t snapshot_version = -1;
  // Requests answered; the supervisor compares it with what it delegated before stopping us.
  std::shared_ptr<std::atomic<std::uint64_t>> completed;
  static inline const char* name = "entity";
};

namespace detail {

template <class Model>
using entity_pointer =
    typename entity_actor<Model>::template stateful_pointer<EntityActorState<Model>>;

// Rebuilds the state from what a loader read; corrupt data becomes `failure`.
template <class Model>
void restore_from(entity_pointer<Model> self, StoredHistory& history) {
  auto& st = self->state;
  st.failure = caf::error{};
  if (history.failure) {
    st.entity.reset();
    st.failure = history.failure;
    return;
  }
  try {
    std::optional<typename Model::Entity> entity;
    if (history.has_snapshot) {
      Snapshot snapshot = st.rt->mapper->snapshot_from_record(history.snapshot);
      entity.emplace();
      entity->restore_snapshot(snapshot);
      st.snapshot_version = snapshot.originator_version;
    }
    for (const auto& event : history.events) {
      if (!entity) entity.emplace();
      entity->apply(event);
    }
    st.entity = std::move(entity);
  } catch (...) {
    st.entity.reset();
    st.failure = current_exception_to_error();
  }
}

// Loads the entity, suspending every other message until done, then calls `done`.
template <class Model, class Done>
void recover(entity_pointer<Model> self, Done done) {
  auto& st = self->state;
  self->request(st.rt->loader, caf::infinite, load_atom::value, st.id, std::int64_t{-1}, true)
      .await(
          [=](StoredHistory& history) mutable {
            restore_from<Model>(self, history);
            done();
          },
          [=](caf::error& error) mutable {
            auto& st = self->state;
            st.entity.reset();
            st.failure = make_error(ErrorCode::unavailable,
                                    "cannot load entity " + st.id_text + ": " + reason_of(error));
            done();
          });
}

// Marks one request answered.
template <class Model>
void complete(entity_pointer<Model> self) {
  self->state.completed->fetch_add(1, std::memory_order_acq_rel);
  self->state.rt->in_flight->fetch_sub(1, std::memory_order_acq_rel);
}

// Asks the supervisor to stop this actor once nothing is in flight to it. Used when the
// actor has nothing worth keeping in memory (an unknown id, an unreachable store).
template <class Model>
void passivate_soon(entity_pointer<Model> self) {
  self->send(self->state.supervisor, passivate_atom::value, self->state.id_text);
}

template <class Model>
caf::error not_found(entity_pointer<Model> self) {
  return make_error(ErrorCode::not_found, "no entity with id " + self->state.id_text);
}

// The error that stops the request before it reaches the entity, if any.
template <class Model>
caf::error unavailable_state(entity_pointer<Model> self) {
  auto& st = self->state;
  if (st.failure) {
    if (code_of(st.failure) == ErrorCode::unavailable) passivate_soon<Model>(self);
    return st.failure;
  }
  return {};
}

// Applies confirmed events, taking snapshots at period boundaries on the way.
template <class Model>
void commit(entity_pointer<Model> self, typename Model::Entity& draft,
            const std::vector<Event>& events) {
  auto& st = self->state;
  const auto period = st.rt->snapshot_period;
  if (period <= 0) {
    st.entity = std::move(draft);
  } else {
    if (!st.entity) st.entity.emplace();
    for (const auto& e : events) {
      st.entity->apply(e);
      if ((e.originator_version() + 1) % period == 0) {
        auto record = st.rt->mapper->snapshot_to_record(st.entity->take_snapshot());
        caf::anon_send(st.rt->snapshot_writer, snapshot_atom::value, std::move(record));
        st.snapshot_version = e.originator_version();
      }
    }
  }
  st.rt->bus->publish(events);
}

template <class Model>
EventView to_event_view(const Event& e) {
  return {e.originator_version(), e.topic(),      e.timestamp(),
          e.previous_hash(),      e.event_hash(), canonical_json(e.data())};
}

}  // namespace detail

// is_new: the actor was spawned for an id just generated, so there is nothing to load.
template <class Model>
typename entity_actor<Model>::behavior_type entity_actor_behavior(
    detail::entity_pointer<Model> self, std::shared_ptr<const EntityRuntime> rt,
    repository_actor<Model> supervisor, Uuid id,
    std::shared_ptr<std::atomic<std::uint64_t>> completed, bool is_new) {
  using View = typename Model::View;
  using Entity = typename Model::Entity;
  using namespace detail;
  auto& st = self->state;
  st.rt = rt;
  st.supervisor = std::move(supervisor);
  st.id = id;
  st.id_text = to_string(id);
  st.completed = std::move(completed);
  if (!is_new) recover<Model>(self, [] {});

  return {
      [=](execute_atom, const typename Model::Command& command) -> caf::result<View> {
        auto& st = self->state;
        auto fail = [&](caf::error error) -> caf::result<View> {
          complete<Model>(self);
          return error;
        };
        if (auto error = unavailable_state<Model>(self)) return fail(error);
        auto draft = std::make_shared<Entity>();
        try {
          if (Model::is_create(command)) {
            if (st.entity) return fail(make_error(ErrorCode::invalid, "entity already exists"));
            *draft = Model::create(st.id, command);
          } else {
            if (!st.entity || st.entity->is_discarded()) {
              if (!st.entity) passivate_soon<Model>(self);
              return fail(not_found<Model>(self));
            }
            const auto expected = Model::expected_version(command);
            if (expected >= 0 && expected != st.entity->version()) {
              return fail(make_error(ErrorCode::precondition_failed,
                                     "entity is at version " +
                                         std::to_string(st.entity->version()) + ", not " +
                                         std::to_string(expected)));
            }
            *draft = *st.entity;
            Model::execute(*draft, command);
          }
        } catch (...) {
          return fail(current_exception_to_error());
        }
        auto events = std::make_shared<std::vector<Event>>(draft->collect_pending_events());
        if (events->empty()) {
          complete<Model>(self);
          return Model::view(*draft);
        }
        AppendRequest request;
        request.sequence_id = st.id;
        request.expected_version = events->front().originator_version() - 1;
        try {
          for (const auto& e : *events) request.records.push_back(st.rt->mapper->to_record(e));
        } catch (...) {
          return fail(current_exception_to_error());
        }
        auto promise = self->template make_response_promise<View>();
        self->request(st.rt->journal_for(st.id), caf::infinite, append_atom::value,
                      std::move(request))
            .await(
                [=](std::int64_t) mutable {
                  commit<Model>(self, *draft, *events);
                  promise.deliver(Model::view(*self->state.entity));
                  complete<Model>(self);
                },
                [=](caf::error& error) mutable {
                  // Refused or unknown outcome: reload, so the state is what the store holds.
                  recover<Model>(self, [=]() mutable {
                    promise.deliver(error);
                    complete<Model>(self);
                  });
                });
        return promise;
      },
      [=](get_atom) -> caf::result<View> {
        auto& st = self->state;
        complete<Model>(self);
        if (auto error = unavailable_state<Model>(self)) return error;
        if (!st.entity || st.entity->is_discarded()) {
          if (!st.entity) passivate_soon<Model>(self);
          return not_found<Model>(self);
        }
        return Model::view(*st.entity);
      },
      [=](get_at_atom, std::int64_t at) -> caf::result<View> {
        auto& st = self->state;
        if (at < 0) {
          complete<Model>(self);
          return make_error(ErrorCode::invalid, "version must be >= 0");
        }
        if (auto error = unavailable_state<Model>(self)) {
          complete<Model>(self);
          return error;
        }
        if (!st.entity || st.entity->is_discarded()) {
          if (!st.entity) passivate_soon<Model>(self);
          complete<Model>(self);
          return not_found<Model>(self);
        }
        if (at >= st.entity->version()) {
          complete<Model>(self);
          return Model::view(*st.entity);
        }
        auto promise = self->template make_response_promise<View>();
        self->request(st.rt->loader, caf::infinite, load_atom::value, st.id, at, true)
            .then(
                [=](StoredHistory& history) mutable {
                  auto& st = self->state;
                  if (history.failure) {
                    promise.deliver(history.failure);
                    complete<Model>(self);
                    return;
                  }
                  try {
                    std::optional<Entity> entity;
                    if (history.has_snapshot) {
                      entity.emplace();
                      entity->restore_snapshot(
                          st.rt->mapper->snapshot_from_record(history.snapshot));
                    }
                    for (const auto& event : history.events) {
                      if (!entity) entity.emplace();
                      entity->apply(event);
                    }
                    if (!entity || entity->is_discarded()) {
                      promise.deliver(not_found<Model>(self));
                    } else {
                      promise.deliver(Model::view(*entity));
                    }
                  } catch (...) {
                    promise.deliver(current_exception_to_error());
                  }
                  complete<Model>(self);
                },
                [=](caf::error& error) mutable {
                  promise.deliver(error);
                  complete<Model>(self);
                });
        return promise;
      },
      [=](events_atom) -> caf::result<std::vector<EventView>> {
        auto& st = self->state;
        auto promise = self->template make_response_promise<std::vector<EventView>>();
        self->request(st.rt->loader, caf::infinite, load_atom::value, st.id, std::int64_t{-1},
                      false)
            .then(
                [=](StoredHistory& history) mutable {
                  if (history.failure) {
                    promise.deliver(history.failure);
                  } else if (history.events.empty()) {
                    promise.deliver(not_found<Model>(self));
                  } else {
                    try {
                      std::vector<EventView> views;
                      views.reserve(history.events.size());
                      for (const auto& event : history.events) {
                        views.push_back(to_event_view<Model>(event));
                      }
                      promise.deliver(std::move(views));
                    } catch (...) {
                      promise.deliver(current_exception_to_error());
                    }
                  }
                  complete<Model>(self);
                },
                [=](caf::error& error) mutable {
                  promise.deliver(error);
                  complete<Model>(self);
                });
        return promise;
      },
      [=](snapshot_atom) -> caf::result<SnapshotTaken> {
        auto& st = self->state;
        if (auto error = unavailable_state<Model>(self)) {
          complete<Model>(self);
          return error;
        }
        if (!st.entity || st.entity->is_discarded()) {
          complete<Model>(self);
          return not_found<Model>(self);
        }
        const auto version = st.entity->version();
        if (st.snapshot_version == version) {
          complete<Model>(self);
          return SnapshotTaken{version, false};
        }
        SequencedRecord record;
        try {
          record = st.rt->mapper->snapshot_to_record(st.entity->take_snapshot());
        } catch (...) {
          complete<Model>(self);
          return current_exception_to_error();
        }
        auto promise = self->template make_response_promise<SnapshotTaken>();
        self->request(st.rt->snapshot_writer, caf::infinite, snapshot_atom::value,
                      std::move(record))
            .await(
                [=](std::int64_t) mutable {
                  self->state.snapshot_version = version;
                  promise.deliver(SnapshotTaken{version, true});
                  complete<Model>(self);
                },
                [=](caf::error& error) mutable {
                  promise.deliver(error);
                  complete<Model>(self);
                });
        return promise;
      },
      [=](stop_atom) { self->quit(); },
      // Another node may have written since we loaded (a hand-over, a partition): rebuild
      // before anything else; other messages wait meanwhile.
      [=](reload_atom) { recover<Model>(self, [] {}); },
  };
}

}  // namespace es
