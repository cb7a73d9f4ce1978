// Why: the routes of HTTP_API.md's table for the Example application (the reference's Flask
// index page and the JSON API around the repository), kept apart from the transport so that
// later routes (/cluster, /notifications, /stats, GET /examples?foo=) are added beside them
// on the same Router. Every route that needs the store first asks StoreHealth (503 at once
// when Redis is known down), then goes through the ActorBridge to the repository actor;
// errors map to statuses in one place (status_of).
#pragma once

#include "actors/metrics.hpp"
#include "samples/example/example_binding.hpp"
#include "samples/http/actor_bridge.hpp"
#include "samples/http/router.hpp"
#include "samples/http/store_health.hpp"

#include <memory>
#include <mutex>
#include <string>

namespace es::http {

// The HTTP status and JSON error of a runtime error (ErrorCode of actors/error_code.hpp).
Response error_response_for(const caf::error& error);

class ExampleApi : public std::enable_shared_from_this<ExampleApi> {
 public:
  // `metrics`, when given, counts commands refused here (malformed id, body or If-Match)
  // as invalid in es_commands_total; the runtime counts the others.
  ExampleApi(std::shared_ptr<ActorBridge> bridge, example_repository_actor repository,
             std::shared_ptr<StoreHealth> health,
             std::shared_ptr<RuntimeMetrics> metrics = nullptr);

  // GET /, GET /healthz and the /examples routes.
  void add_routes(Router& router);

  // Releases the repository handle (before the actor system goes); later requests get 503.
  void shutdown();

 private:
  void index(const Responder& respond);
  void healthz(const Responder& respond);
  void create(const ExchangePtr& exchange, const Responder& respond);
  void get(const ExchangePtr& exchange, const Responder& respond);
  void patch(const ExchangePtr& exchange, const Responder& respond);
  void discard(const ExchangePtr& exchange, const Responder& respond);
  void events(const ExchangePtr& exchange, const Responder& respond);
  void heartbeats(const ExchangePtr& exchange, const Responder& respond);
  void snapshot(const ExchangePtr& exchange, const Responder& respond);

  // Runs `next` when the store is reachable, else answers 503.
  template <class F>
  void when_store_up(const Responder& respond, F next);
  // Sends a command to the entity and answers 200 with the entity, or 204 when `no_content`.
  void execute(std::string id, ExampleBinding::Command command, Responder respond, bool no_content);
  // execute() once the store is reachable (else 503): what every write route ends with.
  void submit(std::string id, ExampleBinding::Command command, const Responder& respond,
              bool no_content);
  example_repository_actor repository();
  // A write refused before it became a command: counted as an invalid command.
  void refused();

  std::shared_ptr<ActorBridge> bridge_;
  std::shared_ptr<StoreHealth> health_;
  std::shared_ptr<RuntimeMetrics> metrics_;
  std::mutex mutex_;
  example_repository_actor repository_;
};

}  // namespace es::http
