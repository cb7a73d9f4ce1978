// Why: see redis_stores.hpp.
#include "persistence/redis_stores.hpp"

#include "persistence/redis_log_store.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/redis_snapshot_store.hpp"

namespace es {

Stores redis_stores(std::shared_ptr<RedisPool> pool, const RedisStoreOptions& options) {
  auto events = std::make_shared<RedisRecordManager>(pool, options);
  // The snapshot store must use the count the record manager settled on (options may say 0).
  RedisStoreOptions settled = options;
  settled.partitions = events->partitions();
  return {events, std::make_shared<RedisSnapshotStore>(pool, settled),
          std::make_shared<RedisLogStore>(std::move(pool), settled)};
}

}  // namespace es
