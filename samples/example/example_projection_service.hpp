// Why: the sample projection as something a process runs and asks: it assembles, for the
// application's event store, the read model, the event fetcher and the subscription actors
// (catch-up followers, or one competing consumer of the Redis consumer groups), starts and
// stops them, rebuilds the read model from position 1, and answers what GET /stats and
// GET /examples?foo= need, straight from the read model (no actor round trip). Used by
// example-server (in process) and example-projector (standalone).
#pragma once

#include "actors/subscription_actors.hpp"
#include "domain/cipher.hpp"
#include "samples/example/example_projection.hpp"
#include "samples/example/projection_backend.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace es {

struct ExampleProjectionOptions {
  enum class Mode { catchup, group };
  Mode mode = Mode::catchup;
  // group: this process's consumer name, unique among live consumers (default host-pid).
  std::string consumer;
  // catchup: follower actors, each following a share of the partitions.
  std::size_t followers = 1;
  std::size_t page_size = 1000;
  std::chrono::milliseconds block{500};
  std::chrono::milliseconds claim_after{std::chrono::seconds(10)};
  std::chrono::milliseconds claim_interval{std::chrono::seconds(1)};
  std::string name = "example";  // read-model keys and consumer group name
};

// How the projection is doing.
struct ProjectionStatus {
  bool running = false;
  bool healthy = true;     // the last step of every subscription succeeded
  std::string last_error;  // of the last failure (no data in it), empty when none
  std::int64_t delivered = 0;
  std::int64_t failures = 0;
  std::int64_t missing_records = 0;
};

class ExampleProjectionService {
 public:
  // `system` must outlive this object; `cipher` may be null. ConfigurationError for the
  // group mode over a store without consumer groups (memory).
  ExampleProjectionService(caf::actor_system& system, std::shared_ptr<RecordManager> events,
                           std::shared_ptr<const AesGcmCipher> cipher,
                           ExampleProjectionOptions options = {});
  ~ExampleProjectionService();  // stop()
  ExampleProjectionService(const ExampleProjectionService&) = delete;
  ExampleProjectionService& operator=(const ExampleProjectionService&) = delete;

  // Spawns the subscription actors (nothing when running).
  void start();
  // Stops them and waits (at most `timeout`) until they are gone. True when they are.
  bool stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running() const;

  // GET /stats: {examples, heartbeats, position per partition} (to_json() gives the body).
  ExampleStats stats() const { return projection_->stats(); }
  // GET /examples?foo=: sorted ids of live examples whose foo is exactly this string.
  std::vector<std::string> ids_with_foo(std::string_view foo) const {
    return projection_->ids_with_foo(foo);
  }
  // --rebuild-projection: stops the subscriptions, clears the read model (and in group mode
  // recreates the consumer groups from position 1), and starts again if it was running.
  // Other processes projecting into the same read model must be stopped meanwhile.
  void rebuild();

  // Notifications not yet applied: the logs' heads minus the applied positions (a sum).
  std::int64_t lag() const;
  // Waits until every partition's applied position reaches its log's head as of the call.
  bool wait_until_caught_up(std::chrono::milliseconds timeout) const;
  ProjectionStatus status() const;

  const ExampleProjection& projection() const { return *projection_; }
  const ProjectionBackend& backend() const { return backend_; }
  const ExampleProjectionOptions& options() const { return options_; }

 private:
  caf::actor_system& system_;
  ExampleProjectionOptions options_;
  ProjectionBackend backend_;
  std::shared_ptr<ExampleProjection> projection_;
  mutable std::mutex mutex_;
  std::vector<caf::actor> actors_;
  std::vector<std::shared_ptr<SubscriptionProgress>> progress_;
};

// "<hostname>-<pid>": a consumer name unique among live processes.
std::string default_consumer_name();

}  // namespace es
