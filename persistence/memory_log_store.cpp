#include "persistence/memory_log_store.hpp"

#include "persistence/ordered_range.hpp"

#include <mutex>

namespace es {

void MemoryLogStore::append(const SequencedRecord& record) {
  std::unique_lock lock(mutex_);
  logs_[record.sequence_id].emplace(record.position, record);  // after equal keys: arrival order
}

std::vector<SequencedRecord> MemoryLogStore::read(const Uuid& bucket_id,
                                                  const ReadQuery& query) const {
  std::shared_lock lock(mutex_);
  auto it = logs_.find(bucket_id);
  if (it == logs_.end()) return {};
  return read_range(it->second, query);
}

}  // namespace es
