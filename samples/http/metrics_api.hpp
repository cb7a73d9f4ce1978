// Why: GET /metrics (HTTP_API.md, "Operations"; docs/OPERATIONS.md): the runtime's own
// figures (commands, appends, recoveries, passivations, live entities, rendered by
// actors/metrics_text.hpp) and two that only the sample knows: how far its projection lags
// behind each partition's notification log, and whether the store answers. Those need Redis
// round trips, so a scrape runs on a thread of its own, never on the I/O thread.
#pragma once

#include "actors/metrics.hpp"
#include "samples/example/example_projection_service.hpp"
#include "samples/http/router.hpp"
#include "samples/http/store_health.hpp"

#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace es::http {

class MetricsApi : public std::enable_shared_from_this<MetricsApi> {
 public:
  // `projection` may be null (no lag is reported then).
  MetricsApi(std::shared_ptr<const RuntimeMetrics> metrics,
             std::shared_ptr<ExampleProjectionService> projection,
             std::shared_ptr<StoreHealth> health);
  ~MetricsApi();

  void add_routes(Router& router);
  // Finishes the scrape under way; later requests get 503.
  void shutdown();

  // The text of a scrape, given whether the store is up (blocks on the store when it is).
  std::string render(bool store_up) const;

 private:
  void scrape(const Responder& respond);

  std::shared_ptr<const RuntimeMetrics> metrics_;
  std::shared_ptr<ExampleProjectionService> projection_;
  std::shared_ptr<StoreHealth> health_;
  boost::asio::thread_pool pool_{1};
  std::atomic<bool> closed_{false};
};

}  // namespace es::http
