// Why: competing consumers share the work of following the notification logs through a
// Redis consumer group per partition log (XREADGROUP, XACK, XAUTOCLAIM). This interface
// keeps the Redis protocol out of the actors; the implementation is
// StreamConsumerGroupSource (stream_sources.hpp). Entries are delivered at least once: an
// entry stays pending on its consumer until acknowledged, and entries pending too long on a
// consumer (one that died) are claimed by another.
#pragma once

#include "persistence/notification_source.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace es {

// Positions to acknowledge in one partition.
struct PartitionAcks {
  int partition = 0;
  std::vector<std::int64_t> positions;
};

class ConsumerGroupSource {
 public:
  virtual ~ConsumerGroupSource() = default;

  virtual int partitions() const = 0;
  virtual const std::string& group() const = 0;

  // Creates the group on each partition's log if missing, delivering from position 1.
  virtual void ensure_groups(const std::vector<int>& partitions) = 0;
  // Drops and recreates the groups (pending entries are forgotten): for a rebuild, with
  // every consumer stopped.
  virtual void reset_groups(const std::vector<int>& partitions) = 0;

  // Entries never delivered to any consumer of the group, now delivered to `consumer`: up to
  // `max_per_partition` per partition; waits up to `timeout` when there are none. A missing
  // group (e.g. Redis lost its data) is created again from position 1.
  virtual std::vector<NotificationBatch> read_new(const std::string& consumer,
                                                  const std::vector<int>& partitions,
                                                  std::size_t max_per_partition,
                                                  std::chrono::milliseconds timeout) = 0;
  // Entries delivered to `consumer` and not acknowledged (after a restart under the same name).
  virtual std::vector<NotificationBatch> read_pending(const std::string& consumer,
                                                      const std::vector<int>& partitions,
                                                      std::size_t max_per_partition) = 0;
  // Entries pending on any consumer for longer than `min_idle`, claimed for `consumer`: up
  // to `max_per_partition` per partition, oldest first.
  virtual std::vector<NotificationBatch> claim_stale(const std::string& consumer,
                                                     const std::vector<int>& partitions,
                                                     std::chrono::milliseconds min_idle,
                                                     std::size_t max_per_partition) = 0;
  // Acknowledges entries (whoever they are pending on): call only once their effect is stored.
  virtual void ack(const std::vector<PartitionAcks>& acks) = 0;
  // Entries pending in the group of one partition (for tests and monitoring).
  virtual std::int64_t pending_count(int partition) = 0;
  // Identifies the server process (Redis' run_id): it changes when the server restarts, which
  // may have lost the tail of the logs, so entries read before are not to be trusted.
  virtual std::string server_id() = 0;
};

}  // namespace es
