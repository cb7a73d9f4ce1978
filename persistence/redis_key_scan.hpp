// Why: listing keys (the entity streams, or every key for an offline verifier) means SCAN,
// and on a Redis Cluster each master holds only its own slots' keys: the scan must walk every
// master in turn. One cursor covers the whole walk, so callers page through a cluster as
// through a single Redis.
#pragma once

#include "persistence/redis_connection.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace es {

struct RedisScanPage {
  std::vector<std::string> keys;
  std::string next_cursor;  // "0" when the walk is complete
};

// One SCAN step (MATCH `pattern`, COUNT `count`) from `cursor` ("0" starts). On a single
// Redis the cursor is the server's; on a cluster it is digits too: the master's index + 1,
// then the master's own cursor in 20 digits. A walk over a cluster whose masters change
// meanwhile (failover, resharding) may miss or repeat keys, as SCAN may on one server.
// InvalidInput for a cursor that is not one of these.
RedisScanPage scan_step(RedisConnection& connection, const std::string& cursor,
                        const std::string& pattern, std::size_t count);

// Every key matching `pattern` on every master, in pages of about `count`; `visit` is called
// once per page.
void scan_every_master(RedisConnection& connection, const std::string& pattern,
                       const std::function<void(const std::vector<std::string>&)>& visit,
                       std::size_t count = 1000);

}  // namespace es
