// Why: see notification_source.hpp.
#include "persistence/notification_source.hpp"

#include "domain/errors.hpp"
#include "persistence/memory_record_manager.hpp"

#include <algorithm>
#include <thread>

namespace es {

std::vector<Notification> NotificationSource::wait_and_read(int partition, std::int64_t after,
                                                            std::size_t max,
                                                            std::chrono::milliseconds timeout) {
  auto batches = wait_and_read(std::vector<PartitionCursor>{{partition, after}}, max, timeout);
  if (batches.empty()) return {};
  return std::move(batches.front().items);
}

RecordManagerNotificationSource::RecordManagerNotificationSource(
    std::shared_ptr<const RecordManager> records, std::chrono::milliseconds poll_interval)
    : records_(std::move(records)), poll_interval_(poll_interval) {
  if (!records_) throw ConfigurationError("a notification source needs a record manager");
  if (poll_interval_.count() < 1) poll_interval_ = std::chrono::milliseconds(1);
}

std::vector<NotificationBatch> RecordManagerNotificationSource::read(
    const std::vector<PartitionCursor>& cursors, std::size_t max_per_partition) const {
  std::vector<NotificationBatch> out;
  for (const auto& c : cursors) {
    auto items = records_->read_notifications(c.partition, std::max<std::int64_t>(c.after, 0) + 1,
                                              max_per_partition);
    if (!items.empty()) out.push_back({c.partition, std::move(items)});
  }
  return out;
}

std::vector<NotificationBatch> RecordManagerNotificationSource::wait_and_read(
    const std::vector<PartitionCursor>& cursors, std::size_t max_per_partition,
    std::chrono::milliseconds timeout) {
  if (max_per_partition == 0 || cursors.empty()) return {};
  auto out = read(cursors, max_per_partition);
  if (!out.empty() || timeout.count() <= 0) return out;
  if (const auto* memory = dynamic_cast<const MemoryRecordManager*>(records_.get())) {
    std::vector<std::pair<int, std::int64_t>> after;
    after.reserve(cursors.size());
    for (const auto& c : cursors) after.emplace_back(c.partition, c.after);
    if (!memory->wait_for_notifications(after, timeout)) return {};
    return read(cursors, max_per_partition);
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return {};
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(poll_interval_, deadline - now));
    out = read(cursors, max_per_partition);
    if (!out.empty()) return out;
  }
}

}  // namespace es
