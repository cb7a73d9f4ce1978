// Why: the messages that cross nodes in a multi-node deployment, in one place, each with an
// inspect() and registered by name in runtime_config.cpp (CAF 0.17 silently drops an
// unregistered type between nodes). A node publishes only its gatekeeper, whose interface is
// the two-step join below; routers and repositories are handed out only to nodes and clients
// that proved they know the cluster secret (docs/CLUSTER.md, "Joining").
#pragma once

#include "actors/atoms.hpp"

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace es {

using cluster_atom = caf::atom_constant<caf::atom("cluster")>;
using member_atom = caf::atom_constant<caf::atom("member")>;
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;

// The second step of a join: who asks, and the proof that it knows the secret (see
// cluster_handshake.hpp). Members hand over their router and repository; clients (tools
// such as example-sim) leave them empty and only get the answer's router.
struct ClusterJoin {
  std::int32_t protocol = 1;
  std::string node_id;
  std::string address;  // a member's node port as "host:port" ("" when unknown)
  bool member = true;
  std::string server_nonce;  // from the gatekeeper's hello
  std::string client_nonce;  // fresh, for the answer's proof
  std::string proof;         // lowercase hex HMAC-SHA256
  caf::actor router;
  caf::actor repository;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ClusterJoin& x) {
  return f(caf::meta::type_name("es.ClusterJoin"), x.protocol, x.node_id, x.address, x.member,
           x.server_nonce, x.client_nonce, x.proof, x.router, x.repository);
}

// The answer to an accepted join: the node's id, router and repository, and its own proof.
struct ClusterWelcome {
  std::string node_id;
  std::string proof;
  caf::actor router;
  caf::actor repository;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ClusterWelcome& x) {
  return f(caf::meta::type_name("es.ClusterWelcome"), x.node_id, x.proof, x.router, x.repository);
}

// GET /cluster: this node's id, the live nodes (sorted, itself included) and the number of
// entity actors it hosts.
struct ClusterView {
  std::string node;
  std::vector<std::string> live;
  std::int64_t hosted = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ClusterView& x) {
  return f(caf::meta::type_name("es.ClusterView"), x.node, x.live, x.hosted);
}

// The only actor a node publishes.
using gatekeeper_actor = caf::typed_actor<
    // A fresh single-use nonce (valid for a few seconds) to answer with a proof.
    caf::replies_to<hello_atom>::with<std::string>,
    // Admission: refused (ErrorCode::invalid) without a valid proof.
    caf::replies_to<join_atom, ClusterJoin>::with<ClusterWelcome>>;

}  // namespace es
