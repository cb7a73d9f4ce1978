// A typed, blocking handle on one hosted entity type (Runtime::host<B>()): each call sends
// one request to the type's repository and waits at most the runtime's request timeout.
// Errors come back as the typed exceptions of domain/errors.hpp (RepositoryKeyError,
// EntityIsDiscarded, ConcurrencyError, PreconditionFailed, DataIntegrityError, InvalidInput,
// StoreUnavailable, Overloaded). Cheap to copy; for callers outside actors.
#pragma once

#include "actors/entity_protocol.hpp"
#include "actors/error_code.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <optional>

namespace es {

// A blocking request: the reply, or the error as a typed exception.
template <class T, class Dest, class... Ts>
T ask(caf::actor_system& system, const Dest& dest, std::chrono::milliseconds timeout, Ts&&... xs) {
  caf::scoped_actor self{system};
  std::optional<T> result;
  caf::error failure;
  self->request(dest, timeout, std::forward<Ts>(xs)...)
      .receive([&](T& value) { result = std::move(value); },
               [&](caf::error& error) { failure = std::move(error); });
  if (failure) throw_as_exception(failure);
  return std::move(*result);
}

template <class B>
class EntityHandle {
 public:
  using View = view_t<B>;
  using Command = command_t<B>;

  EntityHandle(caf::actor_system& system, repository_actor<B> repository,
               std::chrono::milliseconds timeout)
      : system_(&system), repository_(std::move(repository)), timeout_(timeout) {}

  // For actors: send requests to it directly.
  const repository_actor<B>& repository() const { return repository_; }

  // A new entity with a fresh id, from a creating command.
  template <class C>
  View create(C command) {
    check_command<C>();
    static_assert(binding::creates<C>::value,
                  "create() takes a command type with `static constexpr bool creates = true`");
    return call<View>(create_atom::value, Command(std::move(command)));
  }
  View create(Command command) { return call<View>(create_atom::value, std::move(command)); }

  // Runs a command on an existing entity.
  template <class C>
  View execute(const Uuid& id, C command) {
    check_command<C>();
    static_assert(!binding::creates<C>::value,
                  "execute() takes a command type that does not create its entity; use create()");
    return call<View>(execute_atom::value, to_string(id), Command(std::move(command)));
  }
  View execute(const Uuid& id, Command command) {
    return call<View>(execute_atom::value, to_string(id), std::move(command));
  }

  View get(const Uuid& id) { return call<View>(get_atom::value, to_string(id)); }
  bool contains(const Uuid& id) {
    try {
      get(id);
      return true;
    } catch (const RepositoryKeyError&) {
      return false;
    }
  }
  // The entity as of `version`; nothing when it has no event at or below it.
  std::optional<View> get_at(const Uuid& id, std::int64_t version) {
    try {
      return call<View>(get_at_atom::value, to_string(id), version);
    } catch (const RepositoryKeyError&) {
      return std::nullopt;
    }
  }
  // Every stored event, read page by page.
  std::vector<EventView> events(const Uuid& id) {
    std::vector<EventView> all;
    std::int64_t after = -1;
    for (;;) {
      auto page = events_page(id, after, kMaxEventPage);
      for (auto& e : page.events) all.push_back(std::move(e));
      if (!page.more || all.empty()) return all;
      after = all.back().version;
    }
  }
  // Versions after `after` (-1: from the first), at most `limit`.
  EventPage events_page(const Uuid& id, std::int64_t after, std::int64_t limit) {
    return call<EventPage>(events_atom::value, to_string(id), after, limit);
  }
  // Nothing for an unknown id, as the reference's take_snapshot.
  std::optional<SnapshotTaken> take_snapshot(const Uuid& id) {
    try {
      return call<SnapshotTaken>(snapshot_atom::value, to_string(id));
    } catch (const RepositoryKeyError&) {
      return std::nullopt;
    }
  }
  RepositoryStats stats() { return call<RepositoryStats>(stats_atom::value); }

 private:
  template <class C>
  static void check_command() {
    static_assert(binding::is_command_of<C, Command>::value,
                  "this command type is not one of the binding's `using Command = "
                  "es::Commands<...>`");
  }
  template <class T, class... Ts>
  T call(Ts&&... xs) {
    return ask<T>(*system_, repository_, timeout_, std::forward<Ts>(xs)...);
  }

  caf::actor_system* system_;
  repository_actor<B> repository_;
  std::chrono::milliseconds timeout_;
};

}  // namespace es
