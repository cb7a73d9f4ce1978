#include "samples/http/read_model_api.hpp"

#include "domain/errors.hpp"
#include "persistence/notification_log.hpp"
#include "samples/example/example_read_model.hpp"
#include "samples/http/representation.hpp"
#include "samples/http/route_requests.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>

namespace es::http {

ReadModelApi::ReadModelApi(std::shared_ptr<RecordManager> events,
                           std::shared_ptr<ExampleProjectionService> projection,
                           std::shared_ptr<StoreHealth> health)
    : events_(std::move(events)), projection_(std::move(projection)), health_(std::move(health)) {}

ReadModelApi::~ReadModelApi() {
  shutdown();
}

void ReadModelApi::shutdown() {
  if (closed_.exchange(true)) return;
  pool_.join();
}

void ReadModelApi::add_routes(Router& router) {
  auto self = shared_from_this();
  router.add(Verb::get, "/notifications",
             [self](const ExchangePtr& ex, const Responder& r) { self->notifications(ex, r); });
  router.add(Verb::get, "/stats",
             [self](const ExchangePtr&, const Responder& r) { self->stats(r); });
  router.add(Verb::get, "/examples",
             [self](const ExchangePtr& ex, const Responder& r) { self->examples_with_foo(ex, r); });
}

template <class F>
void ReadModelApi::read_when_store_up(const Responder& respond, F read) {
  if (closed_) return respond(error_response(503, "the server is shutting down"));
  auto self = shared_from_this();
  health_->check([self, respond, read = std::move(read)](const StoreStatus& status) mutable {
    if (!status.ok) return respond(error_response(503, status.reason));
    boost::asio::post(self->pool_, [respond, read = std::move(read)]() mutable {
      try {
        respond(read());
      } catch (const InvalidInput& e) {
        respond(error_response(400, e.what()));
      } catch (const StoreUnavailable& e) {
        respond(error_response(503, e.what()));
      } catch (const std::exception& e) {
        respond(error_response(500, e.what()));
      }
    });
  });
}

void ReadModelApi::notifications(const ExchangePtr& exchange, const Responder& respond) {
  NotificationsQuery query;
  try {
    query = parse_notifications_query(exchange->query);
  } catch (const BadRequest& e) {
    return respond(error_response(400, e.what()));
  }
  if (query.partition >= events_->partitions()) {
    return respond(error_response(
        400, "partition must be within 0.." + std::to_string(events_->partitions() - 1)));
  }
  const int p = static_cast<int>(query.partition);
  const std::int64_t first = query.start;
  const auto count = query.limit;
  auto events = events_;
  read_when_store_up(respond, [events, p, first, count] {
    NotificationPage page = NotificationLog(events).page(p, first, count, kMaxNotificationLimit);
    boost::json::array items;
    for (const auto& n : page.items) {
      items.push_back({{"position", n.position},
                       {"id", to_string(n.sequence_id)},
                       {"version", n.version},
                       {"topic", n.topic}});
    }
    boost::json::object body{{"partition", p}, {"items", std::move(items)}};
    body["next"] = page.next ? boost::json::value(*page.next) : boost::json::value(nullptr);
    return json_response(200, boost::json::serialize(body));
  });
}

void ReadModelApi::stats(const Responder& respond) {
  if (!projection_) return respond(error_response(503, "no projection runs in this server"));
  auto projection = projection_;
  read_when_store_up(respond, [projection] {
    return json_response(200, boost::json::serialize(to_json(projection->stats())));
  });
}

void ReadModelApi::examples_with_foo(const ExchangePtr& exchange, const Responder& respond) {
  std::string foo;
  try {
    foo = parse_foo_query(exchange->query);
  } catch (const BadRequest& e) {
    return respond(error_response(400, e.what()));
  }
  if (!projection_) return respond(error_response(503, "no projection runs in this server"));
  auto projection = projection_;
  read_when_store_up(respond, [projection, foo = std::move(foo)] {
    boost::json::array ids;
    for (const auto& id : projection->ids_with_foo(foo)) ids.push_back(boost::json::string(id));
    return json_response(200, boost::json::serialize(boost::json::object{{"ids", std::move(ids)}}));
  });
}

}  // namespace es::http
