// Why: a projection needs, for the store its events are in, a way to follow the logs, to
// read events, a read model and (Redis only) consumer groups. This factory picks the right
// implementations from the application's record manager, so callers (the projection
// service, example-projector, the HTTP server) only hand over their Stores.
#pragma once

#include "persistence/consumer_group_source.hpp"
#include "persistence/event_fetcher.hpp"
#include "persistence/notification_source.hpp"
#include "persistence/record_manager.hpp"
#include "samples/example/example_read_model.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace es {

struct ProjectionBackendOptions {
  std::string name = "example";              // read-model keys and consumer group
  std::chrono::milliseconds max_block{500};  // longest XREAD / XREADGROUP block
};

class ProjectionBackend {
 public:
  // Redis streams when `events` is a RedisRecordManager, else the generic/in-memory parts
  // (no consumer groups).
  ProjectionBackend(std::shared_ptr<RecordManager> events, ProjectionBackendOptions options = {});

  const std::shared_ptr<RecordManager>& events() const { return events_; }
  int partitions() const { return events_->partitions(); }
  bool supports_groups() const { return redis_; }
  const ProjectionBackendOptions& options() const { return options_; }

  // A new source for one follower (each owns its blocking connection).
  std::shared_ptr<NotificationSource> new_source() const;
  // A new consumer-group source (ConfigurationError without Redis).
  std::shared_ptr<ConsumerGroupSource> new_group_source() const;
  const std::shared_ptr<EventFetcher>& fetcher() const { return fetcher_; }
  const std::shared_ptr<ExampleReadModel>& example_read_model() const { return read_model_; }

 private:
  std::shared_ptr<RecordManager> events_;
  ProjectionBackendOptions options_;
  bool redis_ = false;
  std::shared_ptr<EventFetcher> fetcher_;
  std::shared_ptr<ExampleReadModel> read_model_;
};

}  // namespace es
