#include "persistence/memory_record_manager.hpp"

#include "domain/errors.hpp"
#include "persistence/ordered_range.hpp"

#include <mutex>

namespace es {

MemoryRecordManager::MemoryRecordManager(int partitions) {
  if (partitions < 1) throw ConfigurationError("partitions must be >= 1");
  logs_.resize(static_cast<std::size_t>(partitions));
}

std::vector<AppendResult> MemoryRecordManager::append_batch(
    const std::vector<AppendRequest>& requests) {
  std::vector<AppendResult> results;
  results.reserve(requests.size());
  bool stored = false;
  std::unique_lock lock(mutex_);
  for (const auto& request : requests) {
    if (auto problem = validate_append(request)) {
      results.push_back({AppendStatus::invalid, *problem});
      continue;
    }
    auto it = sequences_.find(request.sequence_id);
    std::int64_t highest = it == sequences_.end() ? -1 : it->second.highest;
    if (highest != request.expected_version) {
      results.push_back({AppendStatus::conflict, "sequence " + to_string(request.sequence_id) +
                                                     " is at version " + std::to_string(highest) +
                                                     ", not " +
                                                     std::to_string(request.expected_version)});
      continue;
    }
    if (it == sequences_.end()) {
      it = sequences_.emplace(request.sequence_id, Sequence{}).first;
      order_.push_back(request.sequence_id);
    }
    auto& log = logs_[static_cast<std::size_t>(partition_of(request.sequence_id, partitions()))];
    for (const auto& r : request.records) {
      it->second.records.emplace(r.position, r);
      log.push_back(
          {static_cast<std::int64_t>(log.size()) + 1, r.sequence_id, r.position, r.topic});
    }
    it->second.highest = request.records.back().position;
    results.push_back({AppendStatus::stored, {}});
    stored = true;
  }
  lock.unlock();
  if (stored) appended_.notify_all();
  return results;
}

std::vector<SequencedRecord> MemoryRecordManager::read(const Uuid& id,
                                                       const ReadQuery& query) const {
  std::shared_lock lock(mutex_);
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return {};
  return read_range(it->second.records, query);
}

std::int64_t MemoryRecordManager::highest_position(const Uuid& id) const {
  std::shared_lock lock(mutex_);
  auto it = sequences_.find(id);
  return it == sequences_.end() ? -1 : it->second.highest;
}

SequenceIdPage MemoryRecordManager::list_sequence_ids(const std::string& cursor,
                                                      std::size_t count) const {
  std::size_t start = 0;
  if (!cursor.empty()) {
    try {
      start = std::stoull(cursor);
    } catch (const std::exception&) {
      throw InvalidInput("bad sequence-id cursor");
    }
  }
  std::shared_lock lock(mutex_);
  SequenceIdPage page;
  std::size_t end = std::min(order_.size(), start + std::max<std::size_t>(count, 1));
  for (std::size_t i = start; i < end; ++i) page.ids.push_back(order_[i]);
  if (end < order_.size()) page.next_cursor = std::to_string(end);
  return page;
}

void MemoryRecordManager::delete_records(const Uuid& id, std::int64_t to_position) {
  std::unique_lock lock(mutex_);
  auto it = sequences_.find(id);
  if (it == sequences_.end()) return;
  auto& records = it->second.records;
  records.erase(records.begin(), records.upper_bound(to_position));
}

std::vector<Notification> MemoryRecordManager::read_notifications(int partition, std::int64_t start,
                                                                  std::size_t limit) const {
  if (partition < 0 || partition >= partitions()) throw InvalidInput("no such partition");
  if (start < 1) throw InvalidInput("notification positions start at 1");
  std::shared_lock lock(mutex_);
  const auto& log = logs_[static_cast<std::size_t>(partition)];
  std::vector<Notification> out;
  for (auto i = static_cast<std::size_t>(start - 1); i < log.size() && out.size() < limit; ++i) {
    out.push_back(log[i]);
  }
  return out;
}

std::int64_t MemoryRecordManager::last_notification_position(int partition) const {
  if (partition < 0 || partition >= partitions()) throw InvalidInput("no such partition");
  std::shared_lock lock(mutex_);
  return static_cast<std::int64_t>(logs_[static_cast<std::size_t>(partition)].size());
}

bool MemoryRecordManager::wait_for_notifications(
    const std::vector<std::pair<int, std::int64_t>>& after,
    std::chrono::milliseconds timeout) const {
  for (const auto& [partition, position] : after) {
    if (partition < 0 || partition >= partitions()) throw InvalidInput("no such partition");
  }
  std::shared_lock lock(mutex_);
  return appended_.wait_for(lock, timeout, [&] {
    for (const auto& [partition, position] : after) {
      if (static_cast<std::int64_t>(logs_[static_cast<std::size_t>(partition)].size()) > position) {
        return true;
      }
    }
    return false;
  });
}

}  // namespace es
