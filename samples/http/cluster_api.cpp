// Why: see cluster_api.hpp.
#include "samples/http/cluster_api.hpp"

#include "samples/http/example_api.hpp"
#include "samples/http/representation.hpp"

namespace es::http {

std::string cluster_json(const ClusterView& view) {
  std::string out = "{\"node\":";
  append_json_string(out, view.node);
  out += ",\"live\":[";
  for (std::size_t i = 0; i < view.live.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, view.live[i]);
  }
  out += "],\"hosted\":" + std::to_string(view.hosted) + "}";
  return out;
}

ClusterApi::ClusterApi(std::shared_ptr<ActorBridge> bridge, caf::actor router)
    : bridge_(std::move(bridge)), router_(std::move(router)) {}

void ClusterApi::add_routes(Router& router) {
  auto self = shared_from_this();
  router.add(Verb::get, "/cluster",
             [self](const ExchangePtr&, const Responder& r) { self->get(r); });
}

void ClusterApi::shutdown() {
  std::lock_guard lock(mutex_);
  router_ = nullptr;
}

void ClusterApi::get(const Responder& respond) {
  caf::actor router;
  {
    std::lock_guard lock(mutex_);
    router = router_;
  }
  if (!router) return respond(error_response(503, "the server is shutting down"));
  bridge_->request<ClusterView>(
      router,
      [respond](caf::expected<ClusterView> view) {
        if (!view) return respond(error_response_for(view.error()));
        respond(json_response(200, cluster_json(*view)));
      },
      cluster_atom::value);
}

}  // namespace es::http
