// Why: what a subscription delivers to. A handler applies notifications of a partition in
// position order and keeps, with its own effects, the position it has applied up to (its
// tracking record), so redelivery after a crash is harmless: at-least-once delivery plus
// tracking gives exactly-once effects.
#pragma once

#include "persistence/notification_source.hpp"

#include <cstdint>
#include <vector>

namespace es {

class NotificationHandler {
 public:
  virtual ~NotificationHandler() = default;

  // The last applied position of each partition (0: none), in the order asked.
  virtual std::vector<std::int64_t> positions(const std::vector<int>& partitions) = 0;

  // Applies batches (one per partition, items in ascending position order, possibly with
  // holes): items at or below the partition's applied position are skipped, then items are
  // applied while each is the next position; a gap stops the batch (refused). Returns the
  // applied position of each batch's partition afterwards, in order. Throws when the effects
  // cannot be stored (nothing of that partition's batch is then applied).
  virtual std::vector<std::int64_t> handle(const std::vector<NotificationBatch>& batches) = 0;
};

}  // namespace es
