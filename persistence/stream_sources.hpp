// Why: the Redis side of subscriptions (docs/PROJECTIONS.md): following the partitions'
// notification logs with XREAD BLOCK (always with a timeout, never an unbounded block),
// competing consumers on a consumer group per log (XREADGROUP, XACK, XAUTOCLAIM), and
// pipelined reads of the events a page of notifications points at (XRANGE by version ID).
// The blocking readers own one connection each (a blocked connection is useless to others,
// so they stay out of the shared pool); the key scheme is the store's (docs/STORAGE.md).
#pragma once

#include "persistence/consumer_group_source.hpp"
#include "persistence/event_fetcher.hpp"
#include "persistence/notification_source.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_keys.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace es {

// The connection options for a blocking reader: the command timeout is raised to
// max_block + 1 s, so a block never looks like a dead server.
RedisConnectionOptions blocking_reader_options(RedisConnectionOptions base,
                                               std::chrono::milliseconds max_block);

// Follows the logs of the cursors' partitions: what is there is read by position (pipelined
// XRANGE, exactly the page asked for whatever the entries hold), and when nothing is, one
// XREAD BLOCK waits for the next entry. Thread-safe (one caller at a time). Timeouts above
// max_block are cut to max_block.
class StreamNotificationSource final : public NotificationSource {
 public:
  StreamNotificationSource(RedisUrl url, RedisConnectionOptions options, RedisKeys keys,
                           std::chrono::milliseconds max_block = std::chrono::milliseconds(1000));

  int partitions() const override { return keys_.partitions(); }
  std::vector<NotificationBatch> wait_and_read(const std::vector<PartitionCursor>& cursors,
                                               std::size_t max_per_partition,
                                               std::chrono::milliseconds timeout) override;
  using NotificationSource::wait_and_read;

 private:
  std::mutex mutex_;
  RedisConnection connection_;
  RedisKeys keys_;
  std::chrono::milliseconds max_block_;
  std::unordered_map<std::string, int> partition_of_key_;
};

// A consumer group named `group` on every partition log. Thread-safe (one caller at a time).
class StreamConsumerGroupSource final : public ConsumerGroupSource {
 public:
  StreamConsumerGroupSource(RedisUrl url, RedisConnectionOptions options, RedisKeys keys,
                            std::string group,
                            std::chrono::milliseconds max_block = std::chrono::milliseconds(1000));

  int partitions() const override { return keys_.partitions(); }
  const std::string& group() const override { return group_; }
  void ensure_groups(const std::vector<int>& partitions) override;
  void reset_groups(const std::vector<int>& partitions) override;
  std::vector<NotificationBatch> read_new(const std::string& consumer,
                                          const std::vector<int>& partitions,
                                          std::size_t max_per_partition,
                                          std::chrono::milliseconds timeout) override;
  std::vector<NotificationBatch> read_pending(const std::string& consumer,
                                              const std::vector<int>& partitions,
                                              std::size_t max_per_partition) override;
  std::vector<NotificationBatch> claim_stale(const std::string& consumer,
                                             const std::vector<int>& partitions,
                                             std::chrono::milliseconds min_idle,
                                             std::size_t max_per_partition) override;
  void ack(const std::vector<PartitionAcks>& acks) override;
  std::int64_t pending_count(int partition) override;
  std::string server_id() override;

 private:
  std::vector<NotificationBatch> read_group(const std::string& consumer,
                                            const std::vector<int>& partitions,
                                            std::size_t max_per_partition,
                                            std::chrono::milliseconds timeout, bool pending);
  void ensure_groups_locked(const std::vector<int>& partitions);
  // A log entry lists a group of events while COUNT counts entries: the entries to ask for
  // to get about `events` events, from the entries read last (so that a consumer holds
  // about what it asked for, not up to 1,000 times as much).
  std::size_t entries_for(std::size_t events) const;
  void learn_entry_size(std::size_t entries, std::size_t events);

  std::mutex mutex_;
  double events_per_entry_ = 1.0;
  RedisConnection connection_;
  RedisKeys keys_;
  std::string group_;
  std::chrono::milliseconds max_block_;
  std::unordered_map<std::string, int> partition_of_key_;
};

// Pipelined `XRANGE <entity key> <v>-1 <v>-1` for every ref, over the shared pool.
class StreamEventFetcher final : public EventFetcher {
 public:
  StreamEventFetcher(std::shared_ptr<RedisPool> pool, RedisKeys keys);
  std::vector<std::optional<SequencedRecord>> fetch(const std::vector<EventRef>& refs) override;

 private:
  std::shared_ptr<RedisPool> pool_;
  RedisKeys keys_;
};

}  // namespace es
