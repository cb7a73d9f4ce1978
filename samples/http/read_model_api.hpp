// Why: the "Read models" routes of HTTP_API.md (GET /notifications, GET /stats,
// GET /examples?foo=) over the notification log and the sample projection. Their reads
// block on Redis, so they run on a small pool of their own, never on the I/O thread.
#pragma once

#include "persistence/record_manager.hpp"
#include "samples/example/example_projection_service.hpp"
#include "samples/http/router.hpp"
#include "samples/http/store_health.hpp"

#include <boost/asio/thread_pool.hpp>

#include <memory>

namespace es::http {

class ReadModelApi : public std::enable_shared_from_this<ReadModelApi> {
 public:
  ReadModelApi(std::shared_ptr<RecordManager> events,
               std::shared_ptr<ExampleProjectionService> projection,
               std::shared_ptr<StoreHealth> health);
  ~ReadModelApi();

  void add_routes(Router& router);
  // Finishes the reads under way; later requests get 503.
  void shutdown();

 private:
  void notifications(const ExchangePtr& exchange, const Responder& respond);
  void stats(const Responder& respond);
  void examples_with_foo(const ExchangePtr& exchange, const Responder& respond);
  // Runs `read` on the pool once the store is known reachable; its exceptions become errors.
  template <class F>
  void read_when_store_up(const Responder& respond, F read);

  std::shared_ptr<RecordManager> events_;
  std::shared_ptr<ExampleProjectionService> projection_;
  std::shared_ptr<StoreHealth> health_;
  boost::asio::thread_pool pool_{2};
  std::atomic<bool> closed_{false};
};

}  // namespace es::http
