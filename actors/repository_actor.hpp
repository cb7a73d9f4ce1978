// The repository: a supervisor that finds or spawns the entity actor of an id (exactly one
// per id, because every request passes through this actor), monitors its children, and
// rebuilds a crashed one from the store on the next request. Children idle for the runtime's
// passivate_after are stopped, but only when nothing is in flight to them. Past the runtime's
// max_in_flight, requests are refused with ErrorCode::overloaded instead of queueing
// without bound.
#pragma once

#include "actors/entity_actor.hpp"

#include <boost/functional/hash.hpp>
#include <boost/uuid/uuid_hash.hpp>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <unordered_map>

namespace es {

template <class Model>
struct RepositoryState {
  struct Child {
    entity_actor<Model> actor;
    std::uint64_t delegated = 0;
    std::shared_ptr<std::atomic<std::uint64_t>> completed;
    std::chrono::steady_clock::time_point last_used;
  };
  std::shared_ptr<const EntityRuntime> rt;
  std::unordered_map<Uuid, Child, boost::hash<Uuid>> children;
  std::unordered_map<caf::actor_addr, Uuid> ids;  // child address -> id
  RepositoryStats stats;
  static inline const char* name = "repository";
};

namespace detail {

template <class Model>
using repository_pointer =
    typename repository_actor<Model>::template stateful_pointer<RepositoryState<Model>>;

template <class Model>
typename RepositoryState<Model>::Child& child_for(repository_pointer<Model> self, const Uuid& id,
                                                 bool is_new) {
  auto& st = self->state;
  auto it = st.children.find(id);
  if (it != st.children.end()) return it->second;
  auto completed = std::make_shared<std::atomic<std::uint64_t>>(0);
  auto actor = self->spawn(entity_actor_behavior<Model>, st.rt,
                           caf::actor_cast<repository_actor<Model>>(self), id, completed, is_new);
  self->monitor(actor);
  if (!is_new) ++st.stats.recovered;
  st.ids.emplace(actor.address(), id);
  return st.children
      .emplace(id, typename RepositoryState<Model>::Child{actor, 0, completed,
                                                          std::chrono::steady_clock::now()})
      .first->second;
}

// Admission: counts the request in flight, or refuses it when the runtime is saturated.
template <class Model>
caf::error admit(repository_pointer<Model> self) {
  auto& counter = *self->state.rt->in_flight;
  if (counter.load(std::memory_order_acquire) >= self->state.rt->max_in_flight) {
    return make_error(ErrorCode::overloaded, "too many commands in flight; try again later");
  }
  counter.fetch_add(1, std::memory_order_acq_rel);
  return {};
}

// Forwards a request for `id_text` to its entity actor; the reply goes straight back to
// the original sender.
template <class Model, class Result, class... Ts>
caf::result<Result> route(repository_pointer<Model> self, const std::string& id_text,
                          Ts&&... xs) {
  auto id = parse_uuid(id_text);
  if (!id) return make_error(ErrorCode::invalid, "not a UUID: '" + id_text + "'");
  if (auto error = admit<Model>(self)) return error;
  auto& child = child_for<Model>(self, *id, false);
  ++child.delegated;
  child.last_used = std::chrono::steady_clock::now();
  return self->delegate(child.actor, std::forward<Ts>(xs)...);
}

// Stops a child if nothing is in flight to it; true when it did.
template <class Model>
bool try_passivate(repository_pointer<Model> self,
                   typename std::unordered_map<Uuid, typename RepositoryState<Model>::Child,
                                               boost::hash<Uuid>>::iterator it) {
  auto& st = self->state;
  if (it->second.completed->load(std::memory_order_acquire) != it->second.delegated) {
    return false;  // requests are still on their way to it or being answered
  }
  self->demonitor(it->second.actor.address());
  self->send(it->second.actor, stop_atom::value);
  st.ids.erase(it->second.actor.address());
  st.children.erase(it);
  ++st.stats.passivated;
  return true;
}

template <class Model>
void schedule_sweep(repository_pointer<Model> self) {
  const auto interval = std::max<std::chrono::milliseconds>(
      std::chrono::milliseconds(10), self->state.rt->passivate_after / 4);
  self->delayed_send(caf::actor_cast<repository_actor<Model>>(self), interval, sweep_atom::value);
}

}  // namespace detail

template <class Model>
typename repository_actor<Model>::behavior_type repository_behavior(
    detail::repository_pointer<Model> self, std::shared_ptr<const EntityRuntime> rt) {
  using View = typename Model::View;
  using namespace detail;
  Model::register_types();
  self->state.rt = std::move(rt);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    auto it = st.ids.find(msg.source);
    if (it == st.ids.end()) return;
    auto child = st.children.find(it->second);
    if (child != st.children.end()) {
      // Requests it never answered are no longer in flight.
      const auto lost = static_cast<std::int64_t>(child->second.delegated -
                                                  child->second.completed->load());
      if (lost > 0) st.rt->in_flight->fetch_sub(lost);
      st.children.erase(child);
    }
    st.ids.erase(it);
    ++st.stats.crashed;
  });
  schedule_sweep<Model>(self);
  // Shutting down takes the children along (they are monitored, not linked).
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& kv : self->state.children) self->send_exit(kv.second.actor, msg.reason);
    self->quit(msg.reason);
  });
  return {
      [=](create_atom, typename Model::Command& command) -> caf::result<View> {
        if (!Model::is_create(command)) {
          return make_error(ErrorCode::invalid, "not a creation command");
        }
        if (auto error = admit<Model>(self)) return error;
        auto& child = child_for<Model>(self, new_uuid(), true);
        ++child.delegated;
        child.last_used = std::chrono::steady_clock::now();
        return self->delegate(child.actor, execute_atom::value, std::move(command));
      },
      [=](execute_atom, const std::string& id,
          typename Model::Command& command) -> caf::result<View> {
        if (Model::is_create(command)) {
          return make_error(ErrorCode::invalid, "creation commands go to create");
        }
        return route<Model, View>(self, id, execute_atom::value, std::move(command));
      },
      [=](get_atom, const std::string& id) -> caf::result<View> {
        return route<Model, View>(self, id, get_atom::value);
      },
      [=](get_at_atom, const std::string& id, std::int64_t at) -> caf::result<View> {
        return route<Model, View>(self, id, get_at_atom::value, at);
      },
      [=](events_atom, const std::string& id) -> caf::result<std::vector<EventView>> {
        return route<Model, std::vector<EventView>>(self, id, events_atom::value);
      },
      [=](snapshot_atom, const std::string& id) -> caf::result<SnapshotTaken> {
        return route<Model, SnapshotTaken>(self, id, snapshot_atom::value);
      },
      [=](stats_atom) -> RepositoryStats {
        auto stats = self->state.stats;
        stats.hosted = static_cast<std::int64_t>(self->state.children.size());
        stats.in_flight = self->state.rt->in_flight->load();
        return stats;
      },
      [=](locate_atom, const std::string& id_text) -> caf::result<entity_actor<Model>> {
        auto id = parse_uuid(id_text);
        if (!id) return make_error(ErrorCode::invalid, "not a UUID: '" + id_text + "'");
        return child_for<Model>(self, *id, false).actor;
      },
      [=](passivate_atom, const std::string& id_text) {
        auto& st = self->state;
        auto id = parse_uuid(id_text);
        if (!id) return;
        auto it = st.children.find(*id);
        if (it == st.children.end() || it->second.actor.address() != self->current_sender()) {
          return;
        }
        try_passivate<Model>(self, it);
      },
      [=](sweep_atom) {
        // Idle children are found by a periodic sweep rather than a timer per actor: a timer
        // would cost a clock entry on every message.
        auto& st = self->state;
        const auto idle_since = std::chrono::steady_clock::now() - st.rt->passivate_after;
        for (auto it = st.children.begin(); it != st.children.end();) {
          auto next = std::next(it);
          if (it->second.last_used < idle_since) try_passivate<Model>(self, it);
          it = next;
        }
        schedule_sweep<Model>(self);
      },
  };
}

}  // namespace es
