// The in-memory record manager: the embedded backend for unit tests and `--store memory`.
#pragma once

#include "persistence/partitioning.hpp"
#include "persistence/record_manager.hpp"

#include <boost/functional/hash.hpp>
#include <boost/uuid/uuid_hash.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <shared_mutex>
#include <unordered_map>

namespace es {

class MemoryRecordManager final : public RecordManager {
 public:
  explicit MemoryRecordManager(int partitions = kDefaultPartitions);

  std::vector<AppendResult> append_batch(const std::vector<AppendRequest>& requests) override;
  std::vector<SequencedRecord> read(const Uuid& id, const ReadQuery& query) const override;
  std::int64_t highest_position(const Uuid& id) const override;
  SequenceIdPage list_sequence_ids(const std::string& cursor, std::size_t count) const override;
  void delete_records(const Uuid& id, std::int64_t to_position) override;

  int partitions() const override { return static_cast<int>(logs_.size()); }
  std::vector<Notification> read_notifications(int partition, std::int64_t start,
                                               std::size_t limit) const override;
  std::int64_t last_notification_position(int partition) const override;
  bool blocks() const override { return false; }  // a mutex held for microseconds

  // Waits until the log of one of the partitions holds a position above the one paired with
  // it, at most `timeout`. True when one does (for followers of the log: subscriptions).
  bool wait_for_notifications(const std::vector<std::pair<int, std::int64_t>>& after,
                              std::chrono::milliseconds timeout) const;

 private:
  struct Sequence {
    std::map<std::int64_t, SequencedRecord> records;
    std::int64_t highest = -1;
  };

  mutable std::shared_mutex mutex_;
  std::unordered_map<Uuid, Sequence, boost::hash<Uuid>> sequences_;
  std::vector<Uuid> order_;  // sequence ids in order of creation, for cursor listing
  std::vector<std::vector<Notification>> logs_;
  mutable std::condition_variable_any appended_;  // notified after every append that stored
};

}  // namespace es
