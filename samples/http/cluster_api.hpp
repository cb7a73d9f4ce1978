// Why: GET /cluster (HTTP_API.md, "Cluster") is this node's view of the deployment, asked of
// the cluster router, kept apart from the entity routes. It needs no store, so it answers
// even while Redis is down.
#pragma once

#include "actors/cluster_protocol.hpp"
#include "samples/http/actor_bridge.hpp"
#include "samples/http/router.hpp"

#include <memory>
#include <mutex>

namespace es::http {

// {"node": "<id>", "live": ["<id>", ...], "hosted": n}
std::string cluster_json(const ClusterView& view);

class ClusterApi : public std::enable_shared_from_this<ClusterApi> {
 public:
  // `router`: any actor answering (cluster_atom) with a ClusterView.
  ClusterApi(std::shared_ptr<ActorBridge> bridge, caf::actor router);
  void add_routes(Router& router);
  // Releases the router handle (before the actor system goes); later requests get 503.
  void shutdown();

 private:
  void get(const Responder& respond);
  std::shared_ptr<ActorBridge> bridge_;
  std::mutex mutex_;
  caf::actor router_;
};

}  // namespace es::http
