// The repository: a supervisor that finds or spawns the entity actor of an id (exactly one
// per id, because every request passes through this actor), monitors its children, and
// rebuilds a crashed one from the store on the next request. Children idle for the runtime's
// passivate_after are stopped, but only when nothing is in flight to them. Past the runtime's
// max_live_entities (counted over every repository of the runtime), spawning a child first
// passivates this repository's least recently used idle children (Akka's active-entity
// limit). Past max_in_flight, requests are refused with ErrorCode::overloaded instead of
// queueing without bound.
//
// Multi-node deployments (docs/CLUSTER.md) add three things, all inert on a single node: a
// placement (which ids this node owns) after which children placed elsewhere are passivated
// as soon as nothing is in flight to them; a generation bumped by every placement change,
// after which each child reloads from the store before its next request (another node may
// have written meanwhile); and release, with which a new owner asks the old one to let go of
// an id before it rebuilds it.
#pragma once

#include "actors/cluster_guard.hpp"
#include "actors/entity_actor.hpp"
#include "actors/placement.hpp"
#include "actors/spread_send.hpp"

#include <boost/functional/hash.hpp>
#include <boost/uuid/uuid_hash.hpp>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <list>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace es {

template <class Binding>
struct RepositoryState {
  struct Child {
    entity_actor<Binding> actor;
    std::uint64_t delegated = 0;
    std::shared_ptr<std::atomic<std::uint64_t>> completed;
    std::chrono::steady_clock::time_point last_used;
    std::list<Uuid>::iterator lru;  // its place in the repository's recency order
    // Multi-node only.
    bool owned = true;             // placed on this node by the current placement
    bool served = false;           // has been sent a request since it was spawned
    std::uint64_t generation = 0;  // the placement generation it last loaded under
  };
  struct Release {
    caf::typed_response_promise<bool> promise;
    std::chrono::steady_clock::time_point deadline;
  };
  std::shared_ptr<const EntityRuntime> rt;
  std::unordered_map<Uuid, Child, boost::hash<Uuid>> children;
  std::unordered_map<caf::actor_addr, Uuid> ids;  // child address -> id
  std::list<Uuid> lru;                            // children, least recently used first
  RepositoryStats stats;
  // Multi-node only: nothing means every id is ours.
  std::optional<Placement> placement;
  std::uint64_t generation = 0;
  std::unordered_set<Uuid, boost::hash<Uuid>> unowned;  // hosted children placed elsewhere
  std::unordered_map<Uuid, std::vector<Release>, boost::hash<Uuid>> releasing;
  bool evict_scheduled = false;
  // Shutting down: children still to stop, and those sent an exit whose down is awaited.
  bool shutting_down = false;
  caf::error stop_reason;
  std::vector<entity_actor<Binding>> to_stop;
  std::unordered_set<caf::actor_addr> exiting;
  static inline const char* name = "repository";
};

namespace detail {

template <class Binding>
using repository_pointer =
    typename repository_actor<Binding>::template stateful_pointer<RepositoryState<Binding>>;

template <class Binding>
void schedule_evict(repository_pointer<Binding> self) {
  auto& st = self->state;
  if (st.evict_scheduled) return;
  st.evict_scheduled = true;
  self->delayed_send(caf::actor_cast<repository_actor<Binding>>(self),
                     std::chrono::milliseconds(100), evict_atom::value);
}

template <class Binding>
void make_room(repository_pointer<Binding> self);

template <class Binding>
typename RepositoryState<Binding>::Child& child_for(repository_pointer<Binding> self,
                                                    const Uuid& id, bool is_new) {
  auto& st = self->state;
  auto it = st.children.find(id);
  if (it != st.children.end()) return it->second;
  make_room<Binding>(self);
  auto completed = std::make_shared<std::atomic<std::uint64_t>>(0);
  auto actor = self->spawn(entity_actor_behavior<Binding>, st.rt,
                           caf::actor_cast<repository_actor<Binding>>(self), id, completed, is_new);
  self->monitor(actor);
  if (!is_new) ++st.stats.recovered;
  st.ids.emplace(actor.address(), id);
  typename RepositoryState<Binding>::Child fresh;
  fresh.actor = actor;
  fresh.completed = completed;
  fresh.last_used = std::chrono::steady_clock::now();
  fresh.generation = st.generation;
  fresh.lru = st.lru.insert(st.lru.end(), id);
  auto& child = st.children.emplace(id, std::move(fresh)).first->second;
  st.rt->live->fetch_add(1, std::memory_order_relaxed);
  if (st.placement && !st.placement->owns(to_string(id))) {
    // Served for a node whose view differs from ours; evicted as soon as it is idle.
    child.owned = false;
    st.unowned.insert(id);
    schedule_evict<Binding>(self);
  }
  return child;
}

// A child leaves the books (stopped or crashed).
template <class Binding>
void drop_child(repository_pointer<Binding> self,
                typename std::unordered_map<Uuid, typename RepositoryState<Binding>::Child,
                                            boost::hash<Uuid>>::iterator it) {
  auto& st = self->state;
  st.lru.erase(it->second.lru);
  st.rt->live->fetch_sub(1, std::memory_order_relaxed);
  st.children.erase(it);
}

// Marks a child used now: it moves to the back of the recency order.
template <class Binding>
void touch(repository_pointer<Binding> self, typename RepositoryState<Binding>::Child& child) {
  auto& st = self->state;
  child.last_used = std::chrono::steady_clock::now();
  st.lru.splice(st.lru.end(), st.lru, child.lru);
}

// Before a request is delegated: a child that may be behind the store reloads first (the
// reload is queued ahead of the request). That is every child after a placement change, and
// a child placed elsewhere on every request but its first.
template <class Binding>
void refresh(repository_pointer<Binding> self, typename RepositoryState<Binding>::Child& child) {
  auto& st = self->state;
  if (child.generation != st.generation || (!child.owned && child.served)) {
    self->send(child.actor, reload_atom::value);
    child.generation = st.generation;
  }
  child.served = true;
}

// A child is gone (stopped or crashed): forget it in the multi-node books.
template <class Binding>
void forget_child(repository_pointer<Binding> self, const Uuid& id) {
  auto& st = self->state;
  st.unowned.erase(id);
  auto waiting = st.releasing.find(id);
  if (waiting == st.releasing.end()) return;
  for (auto& r : waiting->second) r.promise.deliver(true);
  st.releasing.erase(waiting);
}

// Admission: counts the request in flight, or refuses it when the runtime is saturated or
// shutting down.
template <class Binding>
caf::error admit(repository_pointer<Binding> self) {
  if (self->state.shutting_down) {
    return make_error(ErrorCode::unavailable, "the repository is shutting down");
  }
  auto& counter = *self->state.rt->in_flight;
  if (counter.load(std::memory_order_acquire) >= self->state.rt->max_in_flight) {
    return make_error(ErrorCode::overloaded, "too many commands in flight; try again later");
  }
  counter.fetch_add(1, std::memory_order_acq_rel);
  return {};
}

// Forwards a request for `id_text` to its entity actor; the reply goes straight back to
// the original sender.
template <class Binding, class Result, class... Ts>
caf::result<Result> route(repository_pointer<Binding> self, const std::string& id_text,
                          Ts&&... xs) {
  auto id = parse_uuid(id_text);
  if (!id) return make_error(ErrorCode::invalid, "not a UUID: '" + id_text + "'");
  if (auto error = admit<Binding>(self)) return error;
  auto& child = child_for<Binding>(self, *id, false);
  refresh<Binding>(self, child);
  ++child.delegated;
  touch<Binding>(self, child);
  return self->delegate(child.actor, std::forward<Ts>(xs)...);
}

// Stops a child if nothing is in flight to it; true when it did.
template <class Binding>
bool try_passivate(repository_pointer<Binding> self,
                   typename std::unordered_map<Uuid, typename RepositoryState<Binding>::Child,
                                               boost::hash<Uuid>>::iterator it) {
  auto& st = self->state;
  if (st.shutting_down) return false;  // stop_children awaits every child's down message
  if (it->second.completed->load(std::memory_order_acquire) != it->second.delegated) {
    return false;  // requests are still on their way to it or being answered
  }
  self->demonitor(it->second.actor.address());
  send_spread(self, it->second.actor, stop_atom::value);  // sweeps stop many at once
  st.ids.erase(it->second.actor.address());
  const Uuid id = it->first;
  drop_child<Binding>(self, it);
  ++st.stats.passivated;
  st.rt->metrics->passivations.add();
  forget_child<Binding>(self, id);
  return true;
}

// Past the runtime's cap on live entities: passivates this repository's least recently used
// idle children, looking at a bounded number of them (busy ones are skipped, so the cap may
// be passed while every child is busy).
template <class Binding>
void make_room(repository_pointer<Binding> self) {
  auto& st = self->state;
  const auto cap = st.rt->max_live_entities;
  if (cap <= 0) return;
  auto full = [&] { return st.rt->live->load(std::memory_order_relaxed) >= cap; };
  int looked = 0;
  for (auto it = st.lru.begin(); full() && it != st.lru.end() && looked < 64; ++looked) {
    auto child = st.children.find(*it++);  // advanced first: passivating erases the node
    if (child != st.children.end() && try_passivate<Binding>(self, child)) ++st.stats.evicted;
  }
}

// Passivates idle children placed elsewhere and those asked to be released; answers
// releases that waited past their deadline with false; rearms itself while any remain.
template <class Binding>
void evict(repository_pointer<Binding> self) {
  auto& st = self->state;
  std::vector<Uuid> candidates(st.unowned.begin(), st.unowned.end());
  for (const auto& kv : st.releasing) candidates.push_back(kv.first);
  for (const auto& id : candidates) {
    auto it = st.children.find(id);
    if (it == st.children.end()) {
      forget_child<Binding>(self, id);
    } else {
      try_passivate<Binding>(self, it);
    }
  }
  const auto now = std::chrono::steady_clock::now();
  for (auto it = st.releasing.begin(); it != st.releasing.end();) {
    auto& list = it->second;
    for (auto r = list.begin(); r != list.end();) {
      if (r->deadline <= now) {
        r->promise.deliver(false);
        r = list.erase(r);
      } else {
        ++r;
      }
    }
    it = list.empty() ? st.releasing.erase(it) : std::next(it);
  }
  if (!st.unowned.empty() || !st.releasing.empty()) schedule_evict<Binding>(self);
}

// A command refused before it reached an entity actor (a malformed id, overload) still
// counts as answered, with no time spent.
template <class Binding>
caf::error refuse_command(repository_pointer<Binding> self, caf::error error) {
  self->state.rt->metrics->command(outcome_of(error), std::chrono::nanoseconds(0));
  return error;
}

// Why a window: CAF 0.17 steals work from the tail of a worker's queue by walking it from
// the head, so a queue of a million stopping children makes every steal O(n) under the
// queue's locks (stopping 1,000,000 live entities at once took 65 - 200 s, most of it
// idle workers spinning on those locks). Stopping at most kStopWindow at a time, each down
// message sending the next exit, keeps the queues short (docs/BENCHMARKS.md).
constexpr std::size_t kStopWindow = 512;

// Sends exits until kStopWindow children are stopping; quits when none is left.
template <class Binding>
void stop_children(repository_pointer<Binding> self) {
  auto& st = self->state;
  while (st.exiting.size() < kStopWindow && !st.to_stop.empty()) {
    auto child = std::move(st.to_stop.back());
    st.to_stop.pop_back();
    // One that went down meanwhile (crashed, passivated) sends no down message any more.
    if (st.ids.count(child.address()) == 0) continue;
    st.exiting.insert(child.address());
    send_exit_spread(self, child, st.stop_reason);
  }
  // Releases wait only for hosted children, and each one's down answered them.
  if (st.exiting.empty() && st.to_stop.empty()) self->quit(st.stop_reason);
}

template <class Binding>
void schedule_sweep(repository_pointer<Binding> self) {
  const auto interval = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(10),
                                                            self->state.rt->passivate_after / 4);
  self->delayed_send(caf::actor_cast<repository_actor<Binding>>(self), interval, sweep_atom::value);
}

}  // namespace detail

template <class Binding>
typename repository_actor<Binding>::behavior_type repository_behavior(
    detail::repository_pointer<Binding> self, std::shared_ptr<const EntityRuntime> rt) {
  using View = view_t<Binding>;
  using namespace detail;
  register_event_types<Binding>();
  self->state.rt = std::move(rt);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    auto it = st.ids.find(msg.source);
    if (it != st.ids.end()) {
      auto child = st.children.find(it->second);
      if (child != st.children.end()) {
        // Requests it never answered are no longer in flight.
        const auto lost =
            static_cast<std::int64_t>(child->second.delegated - child->second.completed->load());
        if (lost > 0) st.rt->in_flight->fetch_sub(lost);
        drop_child<Binding>(self, child);
      }
      const Uuid id = it->second;
      st.ids.erase(it);
      if (!st.shutting_down) ++st.stats.crashed;
      forget_child<Binding>(self, id);
    }
    if (st.shutting_down) {
      st.exiting.erase(msg.source);
      stop_children<Binding>(self);
    }
  });
  schedule_sweep<Binding>(self);
  // Shutting down takes the children along (they are monitored, not linked), a window at a
  // time (stop_children), and refuses new requests meanwhile. Only exits from this node
  // count: other nodes hold this handle (cluster_guard.hpp).
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    if (!is_local_exit(self, msg) || st.shutting_down) return;
    st.shutting_down = true;
    st.stop_reason = msg.reason ? msg.reason : caf::error{caf::exit_reason::user_shutdown};
    st.to_stop.reserve(st.children.size());
    for (auto& kv : st.children) st.to_stop.push_back(kv.second.actor);
    stop_children<Binding>(self);
  });
  self->set_error_handler([](caf::error&) {});  // an error sent as a message would end it
  return {
      [=](create_atom, command_t<Binding>& command) -> caf::result<View> {
        if (!creates_entity(command)) {
          return refuse_command<Binding>(self,
                                         make_error(ErrorCode::invalid, "not a creation command"));
        }
        if (auto error = admit<Binding>(self)) return refuse_command<Binding>(self, error);
        auto& child = child_for<Binding>(self, new_uuid(), true);
        child.served = true;
        ++child.delegated;
        touch<Binding>(self, child);
        return self->delegate(child.actor, execute_atom::value, std::move(command));
      },
      [=](execute_atom, const std::string& id, command_t<Binding>& command) -> caf::result<View> {
        if (creates_entity(command)) {
          return refuse_command<Binding>(
              self, make_error(ErrorCode::invalid, "creation commands go to create"));
        }
        auto routed = route<Binding, View>(self, id, execute_atom::value, std::move(command));
        if (routed.flag == caf::rt_error) refuse_command<Binding>(self, routed.err);
        return routed;
      },
      [=](get_atom, const std::string& id) -> caf::result<View> {
        return route<Binding, View>(self, id, get_atom::value);
      },
      [=](get_at_atom, const std::string& id, std::int64_t at) -> caf::result<View> {
        return route<Binding, View>(self, id, get_at_atom::value, at);
      },
      [=](events_atom, const std::string& id, std::int64_t after,
          std::int64_t limit) -> caf::result<EventPage> {
        return route<Binding, EventPage>(self, id, events_atom::value, after, limit);
      },
      [=](snapshot_atom, const std::string& id) -> caf::result<SnapshotTaken> {
        return route<Binding, SnapshotTaken>(self, id, snapshot_atom::value);
      },
      [=](stats_atom) -> RepositoryStats {
        auto stats = self->state.stats;
        stats.hosted = static_cast<std::int64_t>(self->state.children.size());
        stats.in_flight = self->state.rt->in_flight->load();
        return stats;
      },
      [=](locate_atom, const std::string& id_text) -> caf::result<entity_actor<Binding>> {
        auto id = parse_uuid(id_text);
        if (!id) return make_error(ErrorCode::invalid, "not a UUID: '" + id_text + "'");
        // A child spawned now would outlive the repository (stop_children never meets it).
        if (self->state.shutting_down) {
          return make_error(ErrorCode::unavailable, "the repository is shutting down");
        }
        return child_for<Binding>(self, *id, false).actor;
      },
      [=](passivate_atom, const std::string& id_text) {
        auto& st = self->state;
        auto id = parse_uuid(id_text);
        if (!id) return;
        auto it = st.children.find(*id);
        if (it == st.children.end() || it->second.actor.address() != self->current_sender()) {
          return;
        }
        try_passivate<Binding>(self, it);
      },
      [=](create_atom, const std::string& id_text,
          command_t<Binding>& command) -> caf::result<View> {
        if (!creates_entity(command)) {
          return refuse_command<Binding>(self,
                                         make_error(ErrorCode::invalid, "not a creation command"));
        }
        auto id = parse_uuid(id_text);
        if (!id) {
          return refuse_command<Binding>(
              self, make_error(ErrorCode::invalid, "not a UUID: '" + id_text + "'"));
        }
        if (auto error = admit<Binding>(self)) return refuse_command<Binding>(self, error);
        // A fresh id has nothing to load; should it exist all the same, the store refuses
        // the Created event (a conflict) and the actor reloads.
        const bool known = self->state.children.count(*id) > 0;
        auto& child = child_for<Binding>(self, *id, true);
        if (known) {
          refresh<Binding>(self, child);
        } else {
          child.served = true;
        }
        ++child.delegated;
        touch<Binding>(self, child);
        return self->delegate(child.actor, execute_atom::value, std::move(command));
      },
      [=](release_atom, const std::string& id_text) -> caf::result<bool> {
        auto& st = self->state;
        auto id = parse_uuid(id_text);
        if (!id) return false;
        auto it = st.children.find(*id);
        if (it == st.children.end()) return false;
        if (try_passivate<Binding>(self, it)) return true;
        auto promise = self->template make_response_promise<bool>();
        st.releasing[*id].push_back(
            {promise, std::chrono::steady_clock::now() + st.rt->store_timeout});
        schedule_evict<Binding>(self);
        return promise;
      },
      [=](place_atom, const std::string& node, const std::vector<std::string>& live) {
        auto& st = self->state;
        st.placement.emplace(node, live);
        ++st.generation;
        st.unowned.clear();
        for (auto& kv : st.children) {
          kv.second.owned = st.placement->owns(to_string(kv.first));
          if (!kv.second.owned) st.unowned.insert(kv.first);
        }
        evict<Binding>(self);
      },
      [=](evict_atom) {
        self->state.evict_scheduled = false;
        evict<Binding>(self);
      },
      [=](sweep_atom) {
        // Idle children are found by a periodic sweep rather than a timer per actor: a timer
        // would cost a clock entry on every message.
        auto& st = self->state;
        const auto idle_since = std::chrono::steady_clock::now() - st.rt->passivate_after;
        for (auto it = st.children.begin(); it != st.children.end();) {
          auto next = std::next(it);
          if (it->second.last_used < idle_since) try_passivate<Binding>(self, it);
          it = next;
        }
        schedule_sweep<Binding>(self);
      },
  };
}

}  // namespace es
