// Why: tools outside the cluster (example-sim, tests) drive a deployment through its nodes'
// routers like any local caller would, and get them the only way a node hands them out: a
// join through the published gatekeeper with the cluster secret, as a client (a client is
// not a member, so nothing is ever placed on it).
#pragma once

#include "actors/cluster_config.hpp"
#include "actors/cluster_transport.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <string>

namespace es {

struct ClusterClientConnection {
  std::string node_id;
  caf::actor router;  // speaks the repository interface (cluster_router.hpp)
};

// Blocking, for threads outside actors; every step is bounded by `timeout`. Connects through
// `transport` (the cluster's secret and TLS files; no port of its own), whose actor system must
// carry the nodes' heartbeat settings (configure_cluster_transport). Throws StoreUnavailable
// when the node cannot be reached or refuses the connection and Error when it refuses the join
// or does not prove the secret.
ClusterClientConnection join_cluster_as_client(caf::actor_system& sys, ClusterTransport& transport,
                                               const PeerAddress& node,
                                               const std::string& client_id,
                                               std::chrono::milliseconds timeout);

}  // namespace es
