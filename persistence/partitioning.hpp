// Which partition an entity belongs to. Each partition has its own notification log, and
// in Redis all of a partition's keys share one hash slot (DESIGN.md "Keys").
#pragma once

#include "domain/uuid.hpp"

namespace es {

inline constexpr int kDefaultPartitions = 16;

// The UUID's first four bytes as a big-endian unsigned integer, modulo `partitions`.
inline int partition_of(const Uuid& id, int partitions) {
  std::uint32_t head = (std::uint32_t{id.data[0]} << 24) | (std::uint32_t{id.data[1]} << 16) |
                       (std::uint32_t{id.data[2]} << 8) | std::uint32_t{id.data[3]};
  return static_cast<int>(head % static_cast<std::uint32_t>(partitions));
}

}  // namespace es
