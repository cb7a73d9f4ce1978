// Why: the event browser's routes, beside the JSON API rather than inside it: the page and
// its files (GET /ui/, GET /ui/<file>, embedded in the binary), the one listing the browser
// needs that no route of HTTP_API.md gives (a paged list of the stored examples with the
// node hosting each: GET /ui/api/examples), and where one example lives in a cluster
// (GET /cluster/locate/<id>). Placement is asked of the cluster router's view (its live
// nodes) and computed with the normative rendezvous rule (actors/placement.hpp), so the
// answer is what this node would route to. docs/OPERATIONS.md, "Event browser" documents them.
#pragma once

#include "persistence/record_manager.hpp"
#include "samples/http/actor_bridge.hpp"
#include "samples/http/router.hpp"
#include "samples/http/store_health.hpp"

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <memory>
#include <mutex>

namespace es::http {

class UiApi : public std::enable_shared_from_this<UiApi> {
 public:
  // `cluster_router`: any actor answering (cluster_atom) with a ClusterView.
  UiApi(std::shared_ptr<ActorBridge> bridge, caf::actor cluster_router,
        std::shared_ptr<RecordManager> events, std::shared_ptr<StoreHealth> health);
  ~UiApi();

  void add_routes(Router& router);
  // Releases the router handle and finishes the listings under way; later requests get 503.
  void shutdown();

 private:
  void asset(std::string_view name, const Responder& respond) const;
  void list(const ExchangePtr& exchange, const Responder& respond);
  void locate(const ExchangePtr& exchange, const Responder& respond);
  caf::actor cluster_router();

  std::shared_ptr<ActorBridge> bridge_;
  std::shared_ptr<RecordManager> events_;
  std::shared_ptr<StoreHealth> health_;
  boost::asio::thread_pool pool_{1};  // the listing blocks on the store
  std::mutex mutex_;
  caf::actor router_;
  std::atomic<bool> closed_{false};
};

}  // namespace es::http
