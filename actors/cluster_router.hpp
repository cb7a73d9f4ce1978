// Why: the HTTP interface (and any other caller) must reach every entity through any node,
// while each entity lives on exactly one node at a time. The cluster router speaks the
// repository's own typed interface, so callers cannot tell it from a repository: for each
// request it computes the owner of the id over the live nodes (placement.hpp) and delegates
// to the local repository (the reply goes straight back to the caller), or forwards to the
// owner's router with a timeout and relays the answer (the owner serves what a member
// forwards to it, so a request crosses at most one link even while views differ).
//
// Forwarded requests are not delegated: CAF 0.17 never fails a request to a node that died,
// so the router keeps each forwarded request's promise and answers it with `unavailable` the
// moment the node is reported down (or at the timeout). Nothing is counted in flight here,
// so nothing can leak; the remote repository counts its own.
//
// Membership: the router joins its configured peers in the background through the transport's
// connector (no actor blocks), retrying dead ones with a backoff so a restarted node rejoins;
// nodes that join through our gatekeeper are announced to it. It monitors every member's
// router: a down_msg (at once for a killed node, after the heartbeat timeout for a frozen
// one) removes the node and its entities are placed on the survivors. Every change is told
// to the local repository (place_atom), which passivates what is now placed elsewhere and
// makes the rest reload before their next request. For a while after a change, the first
// request for an id placed here first asks the other nodes to release it (hand-over:
// passivate there, then rebuild here).
#pragma once

#include "actors/cluster_config.hpp"
#include "actors/cluster_gatekeeper.hpp"
#include "actors/cluster_guard.hpp"
#include "actors/cluster_protocol.hpp"
#include "actors/cluster_transport.hpp"
#include "actors/error_code.hpp"
#include "actors/placement.hpp"
#include "actors/repository_actor.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace es {

template <class Binding>
using cluster_router_actor = typename repository_actor<Binding>::template extend<
    // GET /cluster.
    caf::replies_to<cluster_atom>::template with<ClusterView>,
    // A member proved the secret: its node id, node address, router and repository.
    caf::reacts_to<member_atom, std::string, std::string, caf::actor, caf::actor>,
    // The router's own timer (peer connections, hand-over housekeeping).
    caf::reacts_to<tick_atom>>;

template <class Binding>
struct ClusterRouterState {
  using Clock = std::chrono::steady_clock;
  struct Member {
    caf::actor router;                      // monitored
    cluster_router_actor<Binding> forward;  // the same, typed: requests placed there
    repository_actor<Binding> repository;   // releases during a hand-over
  };
  struct Peer {
    PeerAddress address;
    bool connecting = false;
    std::string node;  // the node id found there by the last successful join
    int failures = 0;
    Clock::time_point next_attempt{};
    std::string last_error;
  };
  struct Pending {
    std::string node;
    caf::response_promise promise;
  };
  ClusterSettings settings;
  repository_actor<Binding> local;
  cluster_connector_actor connector;
  std::map<std::string, Member> members;
  std::set<caf::node_id> member_nodes;  // the CAF nodes of the members' routers
  Placement placement;
  std::vector<Peer> peers;
  std::uint64_t next_request = 0;
  std::unordered_map<std::uint64_t, Pending> pending;
  Clock::time_point handover_until{};
  std::unordered_set<std::string> settled;  // ids released elsewhere since the last change
  std::unordered_map<std::string, std::vector<std::function<void()>>> waiting;
  static inline const char* name = "cluster-router";
};

namespace detail {

template <class Binding>
using router_pointer =
    typename cluster_router_actor<Binding>::template stateful_pointer<ClusterRouterState<Binding>>;

template <class Binding>
void router_log(router_pointer<Binding> self, const std::string& line) {
  if (self->state.settings.log) self->state.settings.log(line);
}

inline std::string joined(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs) out += (out.empty() ? "" : ", ") + x;
  return out;
}

// The placement changed: tell the repository, open the hand-over window.
template <class Binding>
void membership_changed(router_pointer<Binding> self, const std::string& why) {
  auto& st = self->state;
  std::vector<std::string> others;
  st.member_nodes.clear();
  for (const auto& kv : st.members) {
    others.push_back(kv.first);
    st.member_nodes.insert(kv.second.router.node());
  }
  st.placement = Placement(st.settings.node_id, std::move(others));
  self->send(st.local, place_atom::value, st.settings.node_id, st.placement.live());
  st.handover_until =
      ClusterRouterState<Binding>::Clock::now() + st.settings.timings.handover_window;
  st.settled.clear();
  router_log<Binding>(self, why + "; live: " + joined(st.placement.live()));
}

template <class Binding>
void add_member(router_pointer<Binding> self, const std::string& node, caf::actor router,
                caf::actor repository) {
  auto& st = self->state;
  if (node == st.settings.node_id || !router || !repository) return;
  auto it = st.members.find(node);
  if (it != st.members.end()) {
    if (it->second.router == router) return;
    self->demonitor(it->second.router);  // an earlier incarnation of that node
  }
  self->monitor(router);
  st.members[node] = {router, caf::actor_cast<cluster_router_actor<Binding>>(router),
                      caf::actor_cast<repository_actor<Binding>>(repository)};
  membership_changed<Binding>(self, "node " + node + " joined");
}

template <class Binding>
caf::error remote_failure(const caf::error& error, const std::string& node) {
  if (error.category() == caf::atom("es")) return error;
  if (error == caf::sec::request_timeout) {
    return make_error(ErrorCode::unavailable, "node " + node + " did not answer in time");
  }
  return make_error(ErrorCode::unavailable,
                    "node " + node + " cannot be reached (" + reason_of(error) + ")");
}

// Forwards to `node`'s router and relays the answer (or a failure) to our caller.
template <class Binding, class Result, class... Ts>
caf::result<Result> forward_to(router_pointer<Binding> self, const std::string& node, Ts... xs) {
  auto& st = self->state;
  auto member = st.members.find(node);
  if (member == st.members.end()) {
    return make_error(ErrorCode::unavailable, "node " + node + " is not reachable");
  }
  if (st.pending.size() >= st.settings.max_pending) {
    return make_error(ErrorCode::overloaded, "too many requests forwarded to other nodes");
  }
  auto promise = self->make_response_promise();
  const auto seq = ++st.next_request;
  st.pending.emplace(seq, typename ClusterRouterState<Binding>::Pending{node, promise});
  auto take = [self, seq]() -> std::optional<caf::response_promise> {
    auto& pending = self->state.pending;
    auto it = pending.find(seq);
    if (it == pending.end()) return std::nullopt;
    auto p = std::move(it->second.promise);
    pending.erase(it);
    return p;
  };
  self->request(member->second.forward, st.settings.timings.remote_timeout, std::move(xs)...)
      .then(
          [take](Result& result) mutable {
            if (auto p = take()) p->deliver(std::move(result));
          },
          [take, node](caf::error& error) mutable {
            if (auto p = take()) p->deliver(remote_failure<Binding>(error, node));
          });
  return promise;
}

// Runs `next` once every other node released `id` (or did not answer in time).
template <class Binding>
void after_release(router_pointer<Binding> self, const std::string& id,
                   std::function<void()> next) {
  auto& st = self->state;
  auto& queue = st.waiting[id];
  queue.push_back(std::move(next));
  if (queue.size() > 1) return;  // already asking
  auto remaining = std::make_shared<std::size_t>(st.members.size());
  auto done = [self, id, remaining] {
    if (--*remaining > 0) return;
    auto& st = self->state;
    st.settled.insert(id);
    auto it = st.waiting.find(id);
    if (it == st.waiting.end()) return;
    auto continuations = std::move(it->second);
    st.waiting.erase(it);
    for (auto& f : continuations) f();
  };
  for (const auto& kv : st.members) {
    self->request(kv.second.repository, st.settings.timings.release_timeout, release_atom::value,
                  id)
        .then([done](bool) { done(); }, [done](caf::error&) { done(); });
  }
}

// True for a request another member forwarded here: it is served here, whatever our own
// view says, so that views that differ for a moment cannot make requests bounce.
template <class Binding>
bool forwarded_here(router_pointer<Binding> self) {
  const auto& sender = self->current_sender();
  if (!sender || sender->node() == self->node()) return false;
  return self->state.member_nodes.count(sender->node()) > 0;
}

// Routes a request about one entity: to the local repository when placed (or forwarded)
// here, after the hand-over if one is due; else to the owner.
template <class Binding, class Result, class... Ts>
caf::result<Result> route_by_id(router_pointer<Binding> self, const std::string& id_text,
                                Ts... xs) {
  auto& st = self->state;
  auto id = parse_uuid(id_text);
  if (!id) return self->delegate(st.local, std::move(xs)...);  // answers `invalid`
  const auto key = to_string(*id);
  const auto& owner = st.placement.owner(key);
  if (owner != st.settings.node_id && !forwarded_here<Binding>(self)) {
    return forward_to<Binding, Result>(self, owner, std::move(xs)...);
  }
  const bool handing_over = !st.members.empty() &&
                            ClusterRouterState<Binding>::Clock::now() < st.handover_until &&
                            st.settled.count(key) == 0;
  if (!handing_over) return self->delegate(st.local, std::move(xs)...);
  auto promise = self->make_response_promise();
  after_release<Binding>(self, key, [self, promise, xs...]() mutable {
    promise.delegate(self->state.local, std::move(xs)...);
  });
  return promise;
}

// Routes a creation: a fresh id is hosted nowhere yet, so there is nothing to hand over.
template <class Binding, class... Ts>
caf::result<view_t<Binding>> route_create(router_pointer<Binding> self, const std::string& id,
                                          Ts... xs) {
  auto& st = self->state;
  auto parsed = parse_uuid(id);
  if (!parsed) return self->delegate(st.local, std::move(xs)...);  // answers `invalid`
  const auto& owner = st.placement.owner(to_string(*parsed));
  if (owner == st.settings.node_id || forwarded_here<Binding>(self)) {
    return self->delegate(st.local, std::move(xs)...);
  }
  return forward_to<Binding, view_t<Binding>>(self, owner, std::move(xs)...);
}

// `d` give or take a quarter, so that two nodes do not retry in lockstep.
inline std::chrono::milliseconds jittered(std::chrono::milliseconds d) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const auto quarter = std::max<std::int64_t>(1, d.count() / 4);
  std::uniform_int_distribution<std::int64_t> spread(-quarter, quarter);
  return std::chrono::milliseconds(d.count() + spread(rng));
}

template <class Binding>
void peer_failed(router_pointer<Binding> self, std::size_t index, const std::string& reason) {
  auto& st = self->state;
  auto& peer = st.peers[index];
  peer.connecting = false;
  ++peer.failures;
  const auto backoff = std::min<std::chrono::milliseconds>(
      st.settings.timings.retry_max,
      std::chrono::milliseconds(125) * (1 << std::min(peer.failures, 5)));
  peer.next_attempt = ClusterRouterState<Binding>::Clock::now() + jittered(backoff);
  if (reason != peer.last_error) {
    router_log<Binding>(self, "cannot join " + peer.address.text() + ": " + reason +
                                  " (retrying in the background)");
    peer.last_error = reason;
  }
}

template <class Binding>
void handshake(router_pointer<Binding> self, std::size_t index, gatekeeper_actor gatekeeper) {
  const auto timeout = self->state.settings.timings.handshake_timeout;
  self->request(gatekeeper, timeout, hello_atom::value)
      .then(
          [=](std::string& server_nonce) {
            auto& st = self->state;
            ClusterJoin join;
            join.node_id = st.settings.node_id;
            if (st.settings.port != 0) {
              join.address = PeerAddress{st.settings.host, st.settings.port}.text();
            }
            join.member = true;
            join.server_nonce = server_nonce;
            join.client_nonce = random_nonce();
            join.proof =
                st.settings.secret.join_proof(server_nonce, join.client_nonce, join.node_id, true);
            join.router = caf::actor_cast<caf::actor>(self);
            join.repository = caf::actor_cast<caf::actor>(st.local);
            const auto client_nonce = join.client_nonce;
            self->request(gatekeeper, timeout, join_atom::value, std::move(join))
                .then(
                    [=](ClusterWelcome& welcome) {
                      auto& st = self->state;
                      const auto expected = st.settings.secret.welcome_proof(
                          client_nonce, server_nonce, welcome.node_id);
                      if (!constant_time_equal(expected, welcome.proof)) {
                        return peer_failed<Binding>(self, index,
                                                    "the node there does not prove the cluster "
                                                    "secret");
                      }
                      if (!valid_node_id(welcome.node_id) || !welcome.router ||
                          !welcome.repository) {
                        return peer_failed<Binding>(self, index, "malformed welcome");
                      }
                      if (welcome.node_id == st.settings.node_id) {
                        return peer_failed<Binding>(self, index,
                                                    "that is this node's own id (ids must be "
                                                    "unique)");
                      }
                      auto& peer = st.peers[index];
                      peer.connecting = false;
                      peer.failures = 0;
                      peer.node = welcome.node_id;
                      if (!peer.last_error.empty()) {
                        router_log<Binding>(self, "joined " + peer.address.text());
                      }
                      peer.last_error.clear();
                      add_member<Binding>(self, welcome.node_id, welcome.router,
                                          welcome.repository);
                    },
                    [=](caf::error& error) {
                      peer_failed<Binding>(self, index, reason_of(error));
                    });
          },
          [=](caf::error& error) { peer_failed<Binding>(self, index, reason_of(error)); });
}

template <class Binding>
void connect_peer(router_pointer<Binding> self, std::size_t index) {
  auto& st = self->state;
  auto& peer = st.peers[index];
  peer.connecting = true;
  // The transport connects and authenticates, then BASP shakes hands: each step has its own
  // deadline, this one only backs them up.
  const auto& t = st.settings.timings;
  const auto backstop =
      t.connect_timeout + t.auth_timeout + t.handshake_timeout + std::chrono::seconds(1);
  self->request(st.connector, backstop, caf::connect_atom::value, peer.address.host,
                peer.address.port)
      .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            if (!ptr) return peer_failed<Binding>(self, index, "nothing is published there");
            handshake<Binding>(self, index, caf::actor_cast<gatekeeper_actor>(ptr));
          },
          [=](caf::error& error) { peer_failed<Binding>(self, index, reason_of(error)); });
}

}  // namespace detail

template <class Binding>
typename cluster_router_actor<Binding>::behavior_type cluster_router_behavior(
    detail::router_pointer<Binding> self, ClusterSettings settings, repository_actor<Binding> local,
    cluster_connector_actor connector) {
  using View = view_t<Binding>;
  using Command = command_t<Binding>;
  using namespace detail;
  auto& st = self->state;
  st.settings = std::move(settings);
  st.local = std::move(local);
  st.connector = std::move(connector);
  st.placement = Placement(st.settings.node_id, {});
  for (const auto& address : st.settings.peers) {
    typename ClusterRouterState<Binding>::Peer peer;
    peer.address = address;
    st.peers.push_back(std::move(peer));
  }
  guard_against_remote_exits(self);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto it = st.members.begin(); it != st.members.end(); ++it) {
      if (it->second.router.address() != msg.source) continue;
      const std::string node = it->first;
      st.members.erase(it);
      // Its answers will never come: fail what was forwarded to it now.
      for (auto p = st.pending.begin(); p != st.pending.end();) {
        if (p->second.node == node) {
          p->second.promise.deliver(
              make_error(ErrorCode::unavailable, "node " + node + " left the cluster; try again"));
          p = st.pending.erase(p);
        } else {
          ++p;
        }
      }
      // Reconnecting: only one side of a pair should, or both open a connection at once
      // (harmless over plain TCP, but over TLS CAF then drops both and the pair flaps). The
      // smaller node id retries soon; the other waits for it to join, then tries itself.
      for (auto& peer : st.peers) {
        if (peer.node != node) continue;
        const auto wait = st.settings.node_id < node ? std::chrono::milliseconds(250)
                                                     : st.settings.timings.retry_max * 3;
        peer.next_attempt = ClusterRouterState<Binding>::Clock::now() + jittered(wait);
        peer.failures = 0;
      }
      membership_changed<Binding>(
          self, "node " + node + " left (" + self->system().render(msg.reason) + ")");
      return;
    }
  });
  self->send(caf::actor_cast<cluster_router_actor<Binding>>(self), tick_atom::value);
  return {
      [=](create_atom, Command& command) -> caf::result<View> {
        // The id is chosen here, so that the entity is created on its owner.
        const auto id = to_string(new_uuid());
        return route_create<Binding>(self, id, create_atom::value, id, std::move(command));
      },
      [=](create_atom, const std::string& id, Command& command) -> caf::result<View> {
        return route_create<Binding>(self, id, create_atom::value, id, std::move(command));
      },
      [=](execute_atom, const std::string& id, Command& command) -> caf::result<View> {
        return route_by_id<Binding, View>(self, id, execute_atom::value, id, std::move(command));
      },
      [=](get_atom, const std::string& id) -> caf::result<View> {
        return route_by_id<Binding, View>(self, id, get_atom::value, id);
      },
      [=](get_at_atom, const std::string& id, std::int64_t at) -> caf::result<View> {
        return route_by_id<Binding, View>(self, id, get_at_atom::value, id, at);
      },
      [=](events_atom, const std::string& id, std::int64_t after,
          std::int64_t limit) -> caf::result<EventPage> {
        return route_by_id<Binding, EventPage>(self, id, events_atom::value, id, after, limit);
      },
      [=](snapshot_atom, const std::string& id) -> caf::result<SnapshotTaken> {
        return route_by_id<Binding, SnapshotTaken>(self, id, snapshot_atom::value, id);
      },
      [=](locate_atom, const std::string& id) -> caf::result<entity_actor<Binding>> {
        return route_by_id<Binding, entity_actor<Binding>>(self, id, locate_atom::value, id);
      },
      [=](stats_atom) -> caf::result<RepositoryStats> {
        return self->delegate(self->state.local, stats_atom::value);
      },
      [=](release_atom, const std::string& id) -> caf::result<bool> {
        return self->delegate(self->state.local, release_atom::value, id);
      },
      // The repository's own messages mean nothing here.
      [=](passivate_atom, const std::string&) {},
      [=](sweep_atom) {},
      [=](evict_atom) {},
      [=](place_atom, const std::string&, const std::vector<std::string>&) {},
      [=](cluster_atom) -> caf::result<ClusterView> {
        auto promise = self->template make_response_promise<ClusterView>();
        self->request(self->state.local, std::chrono::seconds(2), stats_atom::value)
            .then(
                [=](RepositoryStats& stats) mutable {
                  auto& st = self->state;
                  promise.deliver(
                      ClusterView{st.settings.node_id, st.placement.live(), stats.hosted});
                },
                [=](caf::error& error) mutable { promise.deliver(error); });
        return promise;
      },
      [=](member_atom, const std::string& node, const std::string& address, caf::actor& router,
          caf::actor& repository) {
        // It joined us: we need not (and must not, over TLS) connect to it ourselves.
        for (auto& peer : self->state.peers) {
          if (!address.empty() && peer.address.text() == address) peer.node = node;
        }
        add_member<Binding>(self, node, std::move(router), std::move(repository));
      },
      [=](tick_atom) {
        auto& st = self->state;
        const auto now = ClusterRouterState<Binding>::Clock::now();
        if (now >= st.handover_until && !st.settled.empty()) st.settled.clear();
        for (std::size_t i = 0; i < st.peers.size(); ++i) {
          auto& peer = st.peers[i];
          if (peer.connecting || now < peer.next_attempt) continue;
          if (!peer.node.empty() && st.members.count(peer.node) > 0) continue;
          connect_peer<Binding>(self, i);
        }
        self->delayed_send(caf::actor_cast<cluster_router_actor<Binding>>(self),
                           st.settings.timings.tick, tick_atom::value);
      },
  };
}

// A running node: its router (the repository interface for every caller on this node), its
// gatekeeper (the one actor BASP serves to authenticated connections) and the transport that
// owns the node port.
template <class Binding>
struct ClusterNode {
  cluster_router_actor<Binding> router;
  gatekeeper_actor gatekeeper;
  std::shared_ptr<ClusterTransport> transport;
  std::uint16_t port = 0;  // the node port
};

// Stops what start_cluster_node (or spawn_standalone_router) started: the router and the
// gatekeeper with exits their guards accept, then the transport. Call before the actor
// system goes.
template <class Binding>
void stop_cluster_node(caf::actor_system& sys, ClusterNode<Binding>& node) {
  send_local_exit(sys, node.router, caf::exit_reason::user_shutdown);
  send_local_exit(sys, node.gatekeeper, caf::exit_reason::user_shutdown);
  if (node.transport) node.transport->stop();
  node = {};
}

// Spawns the router and the gatekeeper and opens the node port through the cluster transport
// (TLS when settings.tls is enabled). The peers are joined in the background. Throws
// ConfigurationError when the port cannot be opened or the TLS files cannot be used.
template <class Binding>
ClusterNode<Binding> start_cluster_node(caf::actor_system& sys, ClusterSettings settings,
                                        repository_actor<Binding> local) {
  settings.peers = without_own_address(settings);
  ClusterNode<Binding> node;
  TransportSettings link;
  link.secret = settings.secret;
  link.tls = settings.tls;
  link.timings = settings.timings;
  link.log = settings.log;
  node.transport = std::make_shared<ClusterTransport>(sys, std::move(link));
  GatekeeperSettings gate;
  gate.node_id = settings.node_id;
  gate.secret = settings.secret;
  gate.log = settings.log;
  gate.repository = caf::actor_cast<caf::actor>(local);
  const auto host = settings.host;
  const auto port = settings.port;
  node.router = sys.spawn(cluster_router_behavior<Binding>, std::move(settings), local,
                          node.transport->connector());
  gate.router = caf::actor_cast<caf::actor>(node.router);
  node.gatekeeper = spawn_gatekeeper(sys, std::move(gate));
  try {
    node.port =
        node.transport->listen(host, port, caf::actor_cast<caf::strong_actor_ptr>(node.gatekeeper),
                               sys.message_types(node.gatekeeper));
  } catch (...) {
    stop_cluster_node(sys, node);
    throw;
  }
  return node;
}

// A router for a node that is not part of a cluster: every id is placed here, GET /cluster
// shows this node alone. Needs no middleman.
template <class Binding>
cluster_router_actor<Binding> spawn_standalone_router(caf::actor_system& sys, std::string node_id,
                                                      repository_actor<Binding> local) {
  ClusterSettings settings;
  settings.node_id = std::move(node_id);
  return sys.spawn(cluster_router_behavior<Binding>, std::move(settings), std::move(local),
                   cluster_connector_actor{});
}

}  // namespace es
