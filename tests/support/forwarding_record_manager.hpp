// A RecordManager that forwards every call to another one: tests derive from it and override
// only the calls they watch or disturb (a store that records its calls, one that races an
// outside writer), so each states what it changes and nothing else.
#pragma once

#include "persistence/record_manager.hpp"

#include <memory>
#include <utility>

namespace es::test {

class ForwardingRecordManager : public RecordManager {
 public:
  explicit ForwardingRecordManager(std::shared_ptr<RecordManager> inner)
      : inner_(std::move(inner)) {}

  std::vector<AppendResult> append_batch(const std::vector<AppendRequest>& requests) override {
    return inner_->append_batch(requests);
  }
  std::vector<SequencedRecord> read(const Uuid& id, const ReadQuery& query) const override {
    return inner_->read(id, query);
  }
  void read_pages(const Uuid& id, const ReadQuery& query,
                  const PageHandler& on_page) const override {
    inner_->read_pages(id, query, on_page);
  }
  std::vector<std::vector<SequencedRecord>> read_many(
      const std::vector<SequenceRead>& reads) const override {
    return inner_->read_many(reads);
  }
  std::int64_t highest_position(const Uuid& id) const override {
    return inner_->highest_position(id);
  }
  SequenceIdPage list_sequence_ids(const std::string& cursor, std::size_t count) const override {
    return inner_->list_sequence_ids(cursor, count);
  }
  void delete_records(const Uuid& id, std::int64_t to_position) override {
    inner_->delete_records(id, to_position);
  }
  int partitions() const override { return inner_->partitions(); }
  std::vector<Notification> read_notifications(int partition, std::int64_t start,
                                               std::size_t limit) const override {
    return inner_->read_notifications(partition, start, limit);
  }
  std::int64_t last_notification_position(int partition) const override {
    return inner_->last_notification_position(partition);
  }
  bool blocks() const override { return inner_->blocks(); }
  std::string shard_of(const Uuid& id) const override { return inner_->shard_of(id); }

  RecordManager& inner() const { return *inner_; }

 private:
  std::shared_ptr<RecordManager> inner_;
};

}  // namespace es::test
