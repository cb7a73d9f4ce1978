// The entity actor: one per live entity id, for any binding (entity_binding.hpp). It rebuilds
// its state from the latest snapshot and the events after it (verifying the hash chain), then
// handles commands one at a time: the binding decides the events from the current state, the
// actor chains and encodes them and hands them to the journal writer, and applies them and
// replies only after the store confirmed (one commit path). Nothing is copied or mutated
// before that. A conflict makes it reload and decide the command once more against what the
// store holds (the one retry); any other failed write makes it reload and report. A
// DataIntegrityError on recovery makes it refuse commands with that error instead of
// crashing. A recovery that failed because the store was unreachable is retried on the
// actor's own timer (backoff from 100 ms doubling to 1 s), so it serves again within about a
// second of the store coming back, whether or not requests keep coming.
//
// Requests to the store actors carry no CAF timeout: those actors bound every store call
// themselves (StoreUnavailable), and a CAF timeout costs a clock entry per request.
#pragma once

#include "actors/entity_protocol.hpp"
#include "actors/entity_runtime.hpp"
#include "actors/error_code.hpp"
#include "actors/request_ticket.hpp"
#include "domain/canonical_json.hpp"
#include "persistence/event_store.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <optional>

namespace es {

template <class Binding>
struct EntityActorState {
  using Entity = entity_t<Binding>;
  std::shared_ptr<const EntityRuntime> rt;
  repository_actor<Binding> supervisor;
  Uuid id{};  // as text only where needed: a live actor's memory counts (issue 13)
  std::optional<Entity> entity;  // nothing while no event is stored
  caf::error failure;            // why the entity cannot be served (integrity, unavailable)
  std::int64_t snapshot_version = -1;
  // While the store is unreachable: the last delay before a reload on our own (0: loaded
  // fine), and whether one is scheduled.
  std::chrono::milliseconds backoff{0};
  bool retry_scheduled = false;
  // Requests answered; the supervisor compares it with what it delegated before stopping us.
  std::shared_ptr<std::atomic<std::uint64_t>> completed;
  static inline const char* name = "entity";

  RequestTicket ticket() { return {completed.get(), rt->in_flight.get()}; }
};

namespace detail {

template <class Binding>
using entity_pointer =
    typename entity_actor<Binding>::template stateful_pointer<EntityActorState<Binding>>;

// The one rebuild: the snapshot (if any) and the events after it, as a loader read them.
template <class Binding>
std::optional<entity_t<Binding>> rebuild_entity(const EventMapper& mapper,
                                                const StoredHistory& history) {
  std::optional<Snapshot> snapshot;
  if (history.has_snapshot) snapshot = mapper.snapshot_from_record(history.snapshot);
  return rebuild<entity_t<Binding>>(snapshot ? &*snapshot : nullptr, history.events);
}

template <class E, class = void>
struct has_event_types : std::false_type {};
template <class E>
struct has_event_types<E, std::void_t<typename E::Events>> : std::true_type {};

// False when the stream holds another entity type's history: to this type, the id is unknown.
template <class Binding>
bool of_this_type(const StoredHistory& history) {
  if (history.has_snapshot) return history.snapshot.topic == Binding::topic;
  if constexpr (has_event_types<entity_t<Binding>>::value) {
    if (!history.events.empty()) {
      return entity_t<Binding>::Events::contains(history.events.front().topic());
    }
  }
  return true;
}

// Rebuilds the state from what a loader read; corrupt data becomes `failure`.
template <class Binding>
void restore_from(entity_pointer<Binding> self, const StoredHistory& history) {
  auto& st = self->state;
  st.entity.reset();
  st.failure = history.failure;
  st.backoff = std::chrono::milliseconds(0);  // the store answered
  if (st.failure || !of_this_type<Binding>(history)) return;
  try {
    st.entity = rebuild_entity<Binding>(*st.rt->mapper, history);
    if (history.has_snapshot) st.snapshot_version = history.snapshot.position;
  } catch (...) {
    st.entity.reset();
    st.failure = current_exception_to_error();
  }
}

// Reloads after a delay that doubles up to a second while the store stays unreachable; the
// reload_atom handler (below) runs it, ahead of queued requests once due.
template <class Binding>
void schedule_retry(entity_pointer<Binding> self) {
  using std::chrono::milliseconds;
  auto& st = self->state;
  if (st.retry_scheduled) return;
  st.retry_scheduled = true;
  st.backoff = st.backoff.count() == 0 ? milliseconds(100)
                                       : std::min<milliseconds>(st.backoff * 2, milliseconds(1000));
  self->delayed_send(caf::actor_cast<entity_actor<Binding>>(self), st.backoff, reload_atom::value);
}

// Loads the entity, suspending every other message until done, then calls `done`.
template <class Binding, class Done>
void recover(entity_pointer<Binding> self, Done done) {
  auto& st = self->state;
  const auto started = std::chrono::steady_clock::now();
  self->request(st.rt->loader, caf::infinite, load_atom::value, st.id, std::int64_t{-1}, true)
      .await(
          [=](StoredHistory& history) mutable {
            restore_from<Binding>(self, history);
            // A recovery is a rebuild of an entity the store holds (not a miss).
            if (self->state.entity) {
              auto& metrics = *self->state.rt->metrics;
              metrics.recoveries.add();
              metrics.recovery_seconds.observe(std::chrono::steady_clock::now() - started);
            }
            done();
          },
          [=](caf::error& error) mutable {
            auto& st = self->state;
            st.entity.reset();
            st.failure =
                make_error(ErrorCode::unavailable,
                           "cannot load entity " + to_string(st.id) + ": " + reason_of(error));
            schedule_retry<Binding>(self);
            done();
          });
}

// Asks the supervisor to stop this actor once nothing is in flight to it. Used when the
// actor has nothing worth keeping in memory (an unknown id, an unreachable store).
template <class Binding>
void passivate_soon(entity_pointer<Binding> self) {
  self->send(self->state.supervisor, passivate_atom::value, to_string(self->state.id));
}

template <class Binding>
caf::error not_found(entity_pointer<Binding> self) {
  return make_error(ErrorCode::not_found, "no entity with id " + to_string(self->state.id));
}

// The error that stops a request for the current entity before it runs, if any: the entity
// cannot be served, is unknown, or is discarded.
template <class Binding>
caf::error unservable(entity_pointer<Binding> self) {
  auto& st = self->state;
  // An unreachable store heals on the actor's own timer (schedule_retry), not by passivation.
  if (st.failure) return st.failure;
  if (!st.entity) {
    passivate_soon<Binding>(self);
    return not_found<Binding>(self);
  }
  if (st.entity->is_discarded()) return not_found<Binding>(self);
  return {};
}

// A command on its way to the store, and what answers it.
template <class Binding>
struct PendingCommand {
  command_t<Binding> command;
  caf::typed_response_promise<view_t<Binding>> promise;
  RequestTicket ticket;
  std::vector<Event> events;  // decided, chained, being stored
  bool retried = false;
  std::chrono::steady_clock::time_point received;  // for es_command_seconds

  // Answers the command and counts its outcome.
  template <class Answer>
  void answer(const EntityRuntime& rt, Answer&& x) {
    if constexpr (std::is_same_v<std::decay_t<Answer>, caf::error>) {
      rt.metrics->command(x, received);
    } else {
      rt.metrics->command(caf::error{}, received);
    }
    promise.deliver(std::forward<Answer>(x));
  }
};

// What deciding a command came to: an answer now, or events to store.
template <class Binding>
struct Decided {
  caf::error error;
  std::optional<view_t<Binding>> view;
  std::vector<Event> events;
  AppendRequest request;
};

template <class Binding>
Decided<Binding> decide_command(entity_pointer<Binding> self, const command_t<Binding>& command) {
  using Entity = entity_t<Binding>;
  auto& st = self->state;
  Decided<Binding> out;
  const bool creates = creates_entity(command);
  if (creates) {
    if (st.failure) {
      out.error = st.failure;
      return out;
    }
    if (st.entity) {
      out.error = make_error(ErrorCode::invalid, "entity " + to_string(st.id) + " already exists");
      return out;
    }
  } else if ((out.error = unservable<Binding>(self))) {
    return out;
  } else if (const auto expected = expected_version_of(command);
             expected >= 0 && expected != st.entity->version()) {
    out.error = make_error(ErrorCode::precondition_failed,
                           "entity is at version " + std::to_string(st.entity->version()) +
                               ", not " + std::to_string(expected));
    return out;
  }
  try {
    static const Entity blank{};
    const Entity& current = st.entity ? *st.entity : blank;
    Decision decision = decide<Binding>(current, command);
    if (decision.empty()) {
      if (creates) {
        out.error = make_error(ErrorCode::invalid, "a creating command decided no event");
      } else {
        out.view = view_of<Binding>(current);
      }
      return out;
    }
    out.events = current.chain(st.id, decision.take());
    out.request = append_request_for(*st.rt->mapper, out.events);
  } catch (...) {
    out.error = current_exception_to_error();
  }
  return out;
}

// The one commit path: applies confirmed events, taking snapshots at period boundaries on
// the way, and publishes them.
template <class Binding>
void commit(entity_pointer<Binding> self, const std::vector<Event>& events) {
  auto& st = self->state;
  const auto period = st.rt->snapshot_period;
  if (!st.entity) st.entity.emplace();
  for (const auto& e : events) {
    st.entity->apply(e);
    if (period > 0 && (e.originator_version() + 1) % period == 0) {
      auto record = st.rt->mapper->snapshot_to_record(st.entity->take_snapshot());
      caf::anon_send(st.rt->snapshot_writer, snapshot_atom::value, std::move(record));
      st.snapshot_version = e.originator_version();
    }
  }
  st.rt->bus->publish(events);
}

// Stores what a command decided; answers once the store confirmed, or after a reload.
template <class Binding>
void store(entity_pointer<Binding> self, std::shared_ptr<PendingCommand<Binding>> pending,
           AppendRequest request) {
  auto& st = self->state;
  self->request(st.rt->journal_for(st.id), caf::infinite, append_atom::value, std::move(request))
      .await(
          [=](std::int64_t) {
            try {
              commit<Binding>(self, pending->events);
              pending->answer(*self->state.rt, view_of<Binding>(*self->state.entity));
            } catch (...) {
              // Stored but not applicable here (should not happen): rebuild from the store.
              auto error = current_exception_to_error();
              recover<Binding>(self, [=] { pending->answer(*self->state.rt, error); });
            }
          },
          [=](caf::error& error) {
            // Refused or unknown outcome: reload, so the state is what the store holds.
            recover<Binding>(self, [=] {
              if (code_of(error) != ErrorCode::concurrency || pending->retried) {
                pending->answer(*self->state.rt, error);
                return;
              }
              // Another writer got there first: decide once more against its events.
              pending->retried = true;
              auto again = decide_command<Binding>(self, pending->command);
              if (again.error) {
                pending->answer(*self->state.rt, again.error);
                return;
              }
              if (again.view) {
                pending->answer(*self->state.rt, std::move(*again.view));
                return;
              }
              pending->events = std::move(again.events);
              store<Binding>(self, pending, std::move(again.request));
            });
          });
}

// Answers a read that needs the store (a past version, a page of events) through a loader;
// `xs` is the loader request.
template <class Binding, class Result, class Answer, class... Ts>
caf::result<Result> read_through_loader(entity_pointer<Binding> self, Answer answer, Ts... xs) {
  auto& st = self->state;
  auto ticket = std::make_shared<RequestTicket>(st.ticket());
  auto promise = self->template make_response_promise<Result>();
  self->request(st.rt->loader, caf::infinite, xs...)
      .then(
          [=](StoredHistory& history) mutable {
            (void)ticket;
            if (history.failure) {
              promise.deliver(history.failure);
              return;
            }
            try {
              answer(promise, history);
            } catch (...) {
              promise.deliver(current_exception_to_error());
            }
          },
          [=](caf::error& error) mutable {
            (void)ticket;
            promise.deliver(error);
          });
  return promise;
}

inline EventView to_event_view(const Event& e) {
  return {e.originator_version(), e.topic(),      e.timestamp(),
          e.previous_hash(),      e.event_hash(), canonical_json(e.data())};
}

}  // namespace detail

// is_new: the actor was spawned for an id just generated, so there is nothing to load.
template <class Binding>
typename entity_actor<Binding>::behavior_type entity_actor_behavior(
    detail::entity_pointer<Binding> self, std::shared_ptr<const EntityRuntime> rt,
    repository_actor<Binding> supervisor, Uuid id,
    std::shared_ptr<std::atomic<std::uint64_t>> completed, bool is_new) {
  using View = view_t<Binding>;
  using namespace detail;
  auto& st = self->state;
  st.rt = rt;
  st.supervisor = std::move(supervisor);
  st.id = id;
  st.completed = std::move(completed);
  if (!is_new) recover<Binding>(self, [] {});

  return {
      [=](execute_atom, command_t<Binding>& command) -> caf::result<View> {
        const auto received = std::chrono::steady_clock::now();
        auto ticket = self->state.ticket();
        auto decided = decide_command<Binding>(self, command);
        auto& metrics = *self->state.rt->metrics;
        if (decided.error) {
          metrics.command(decided.error, received);
          return std::move(decided.error);
        }
        if (decided.view) {
          metrics.command(caf::error{}, received);
          return std::move(*decided.view);
        }
        auto pending = std::make_shared<PendingCommand<Binding>>(PendingCommand<Binding>{
            std::move(command), self->template make_response_promise<View>(), std::move(ticket),
            std::move(decided.events), false, received});
        store<Binding>(self, pending, std::move(decided.request));
        return pending->promise;
      },
      [=](get_atom) -> caf::result<View> {
        auto ticket = self->state.ticket();
        if (auto error = unservable<Binding>(self)) return error;
        return view_of<Binding>(*self->state.entity);
      },
      [=](get_at_atom, std::int64_t at) -> caf::result<View> {
        auto ticket = self->state.ticket();
        if (at < 0) return make_error(ErrorCode::invalid, "version must be >= 0");
        if (auto error = unservable<Binding>(self)) return error;
        if (at >= self->state.entity->version()) return view_of<Binding>(*self->state.entity);
        return read_through_loader<Binding, View>(
            self,
            [=](auto& promise, const StoredHistory& history) {
              auto entity = rebuild_entity<Binding>(*self->state.rt->mapper, history);
              if (!entity || entity->is_discarded()) {
                promise.deliver(not_found<Binding>(self));
                return;
              }
              promise.deliver(view_of<Binding>(*entity));
            },
            load_atom::value, self->state.id, at, true);
      },
      [=](events_atom, std::int64_t after, std::int64_t limit) -> caf::result<EventPage> {
        if (limit < 1 || limit > kMaxEventPage || after < -1) {
          auto ticket = self->state.ticket();
          return make_error(ErrorCode::invalid, "a page is after >= -1 and 1..10000 events");
        }
        return read_through_loader<Binding, EventPage>(
            self,
            [=](auto& promise, const StoredHistory& history) {
              if (history.events.empty() && after < 0) {
                promise.deliver(not_found<Binding>(self));
                return;
              }
              if (!history.events.empty() && after < 0 && !of_this_type<Binding>(history)) {
                promise.deliver(not_found<Binding>(self));
                return;
              }
              EventPage page;
              const auto n =
                  std::min<std::size_t>(history.events.size(), static_cast<std::size_t>(limit));
              page.more = history.events.size() > n;
              page.events.reserve(n);
              for (std::size_t i = 0; i < n; ++i) {
                page.events.push_back(to_event_view(history.events[i]));
              }
              promise.deliver(std::move(page));
            },
            events_atom::value, self->state.id, after, limit);
      },
      [=](snapshot_atom) -> caf::result<SnapshotTaken> {
        auto& st = self->state;
        auto ticket = st.ticket();
        if (auto error = unservable<Binding>(self)) return error;
        const auto version = st.entity->version();
        if (st.snapshot_version == version) return SnapshotTaken{version, false};
        SequencedRecord record;
        try {
          record = st.rt->mapper->snapshot_to_record(st.entity->take_snapshot());
        } catch (...) {
          return current_exception_to_error();
        }
        auto shared_ticket = std::make_shared<RequestTicket>(std::move(ticket));
        auto promise = self->template make_response_promise<SnapshotTaken>();
        self->request(st.rt->snapshot_writer, caf::infinite, snapshot_atom::value,
                      std::move(record))
            .await(
                [=](std::int64_t) mutable {
                  (void)shared_ticket;
                  self->state.snapshot_version = version;
                  promise.deliver(SnapshotTaken{version, true});
                },
                [=](caf::error& error) mutable {
                  (void)shared_ticket;
                  promise.deliver(error);
                });
        return promise;
      },
      [=](stop_atom) { self->quit(); },
      // Another node may have written since we loaded (a hand-over, a partition): rebuild
      // before anything else; other messages wait meanwhile.
      [=](reload_atom) {
        self->state.retry_scheduled = false;
        recover<Binding>(self, [] {});
      },
  };
}

}  // namespace es
