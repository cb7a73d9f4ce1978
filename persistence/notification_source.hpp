// Why: subscriptions follow the partitions' notification logs: history first, then live
// appends, without busy polling and without ever blocking for long (the actor reading must
// notice an exit message within about a second). This interface hides how a backend waits:
// XREAD BLOCK with a timeout for Redis (stream_sources.hpp), a condition variable for the
// in-memory store; actors never speak the Redis protocol.
#pragma once

#include "persistence/record_manager.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace es {

// Where a reader of one partition's log stands: the last position it has seen (0: none).
struct PartitionCursor {
  int partition = 0;
  std::int64_t after = 0;
};

// Notifications of one partition, in position order.
struct NotificationBatch {
  int partition = 0;
  std::vector<Notification> items;
};

class NotificationSource {
 public:
  virtual ~NotificationSource() = default;

  virtual int partitions() const = 0;

  // For each cursor, up to `max_per_partition` notifications after its position, in order;
  // only partitions with notifications appear. When none of the partitions has any, waits up
  // to `timeout` for an append, then returns what there is (possibly nothing). Throws
  // StoreUnavailable when the store cannot be reached (the caller retries later).
  virtual std::vector<NotificationBatch> wait_and_read(const std::vector<PartitionCursor>& cursors,
                                                       std::size_t max_per_partition,
                                                       std::chrono::milliseconds timeout) = 0;

  // One partition.
  std::vector<Notification> wait_and_read(int partition, std::int64_t after, std::size_t max,
                                          std::chrono::milliseconds timeout);
};

// Over any RecordManager through read_notifications: waits on the in-memory store's
// condition variable, polls other stores every `poll_interval`. Thread-safe.
class RecordManagerNotificationSource final : public NotificationSource {
 public:
  explicit RecordManagerNotificationSource(
      std::shared_ptr<const RecordManager> records,
      std::chrono::milliseconds poll_interval = std::chrono::milliseconds(20));

  int partitions() const override { return records_->partitions(); }
  std::vector<NotificationBatch> wait_and_read(const std::vector<PartitionCursor>& cursors,
                                               std::size_t max_per_partition,
                                               std::chrono::milliseconds timeout) override;
  using NotificationSource::wait_and_read;

 private:
  std::vector<NotificationBatch> read(const std::vector<PartitionCursor>& cursors,
                                      std::size_t max_per_partition) const;

  std::shared_ptr<const RecordManager> records_;
  std::chrono::milliseconds poll_interval_;
};

}  // namespace es
