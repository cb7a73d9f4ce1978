// Why: Redis Cluster places every key in one of 16384 hash slots by CRC16 of the key (or of
// its hash tag, the part between the first '{' and the next '}' when not empty). The store
// computes the slot itself to send each command straight to the master that serves it.
#pragma once

#include <string_view>

namespace es {

inline constexpr int kRedisClusterSlots = 16384;

// The hash slot of `key`, exactly as Redis Cluster computes it (CLUSTER KEYSLOT).
int redis_key_slot(std::string_view key);

}  // namespace es
