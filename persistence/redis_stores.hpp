// Why: applications want the three Redis stores of one store prefix together, over one
// connection pool, as es::Stores (the shape memory_stores() gives for the in-memory ones).
#pragma once

#include "persistence/redis_connection.hpp"
#include "persistence/redis_keys.hpp"
#include "persistence/stores.hpp"

#include <memory>

namespace es {

// Events, snapshots and log messages in Redis under options.key_prefix, sharing `pool`.
// StoreUnavailable / ConfigurationError as RedisRecordManager's constructor.
Stores redis_stores(std::shared_ptr<RedisPool> pool, const RedisStoreOptions& options = {});

}  // namespace es
