// Why: a node publishes exactly one actor, and it hands out nothing but to those who prove
// they know the cluster secret (cluster_handshake.hpp). Its router and repository, which
// serve every entity, are never published; an accepted member is announced to the router,
// which monitors it from then on.
#pragma once

#include "actors/cluster_handshake.hpp"
#include "actors/cluster_protocol.hpp"

#include <caf/actor_system.hpp>

#include <functional>
#include <string>

namespace es {

struct GatekeeperSettings {
  std::string node_id;
  ClusterSecret secret;
  caf::actor router;      // gets (member_atom, node id, address, router, repository) per member
  caf::actor repository;  // handed to members in the welcome
  std::function<void(const std::string&)> log;  // refused joins (rate-limited)
};

gatekeeper_actor spawn_gatekeeper(caf::actor_system& sys, GatekeeperSettings settings);

}  // namespace es
