// Why: see projection_backend.hpp.
#include "samples/example/projection_backend.hpp"

#include "domain/errors.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/stream_sources.hpp"
#include "samples/example/example_read_model_redis.hpp"

namespace es {

ProjectionBackend::ProjectionBackend(std::shared_ptr<RecordManager> events,
                                     ProjectionBackendOptions options)
    : events_(std::move(events)), options_(std::move(options)) {
  if (!events_) throw ConfigurationError("a projection needs the event store");
  if (auto* redis = dynamic_cast<RedisRecordManager*>(events_.get())) {
    redis_ = true;
    fetcher_ = std::make_shared<StreamEventFetcher>(redis->pool(), redis->keys());
    read_model_ = std::make_shared<RedisExampleReadModel>(
        redis->pool(), redis->keys(), options_.name, redis->options().replica_acks,
        redis->options().replica_ack_timeout);
  } else {
    fetcher_ = std::make_shared<RecordManagerEventFetcher>(events_);
    read_model_ = std::make_shared<MemoryExampleReadModel>(events_->partitions());
  }
}

std::shared_ptr<NotificationSource> ProjectionBackend::new_source() const {
  if (auto* redis = dynamic_cast<RedisRecordManager*>(events_.get())) {
    return std::make_shared<StreamNotificationSource>(
        redis->pool()->url(), redis->pool()->options(), redis->keys(), options_.max_block);
  }
  return std::make_shared<RecordManagerNotificationSource>(events_);
}

std::shared_ptr<ConsumerGroupSource> ProjectionBackend::new_group_source() const {
  auto* redis = dynamic_cast<RedisRecordManager*>(events_.get());
  if (redis == nullptr) {
    throw ConfigurationError("competing consumers need the Redis store (consumer groups)");
  }
  return std::make_shared<StreamConsumerGroupSource>(redis->pool()->url(), redis->pool()->options(),
                                                     redis->keys(), "projection:" + options_.name,
                                                     options_.max_block);
}

}  // namespace es
