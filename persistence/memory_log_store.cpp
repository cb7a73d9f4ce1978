#include "persistence/memory_log_store.hpp"

#include <mutex>

namespace es {

void MemoryLogStore::append(const SequencedRecord& record) {
  std::unique_lock lock(mutex_);
  logs_[record.sequence_id].emplace(record.position, record);  // after equal keys: arrival order
}

std::vector<SequencedRecord> MemoryLogStore::read(const Uuid& bucket_id,
                                                  const ReadQuery& query) const {
  std::vector<SequencedRecord> out;
  auto range = query.range();
  if (!range) return out;
  std::shared_lock lock(mutex_);
  auto it = logs_.find(bucket_id);
  if (it == logs_.end()) return out;
  auto first = it->second.lower_bound(range->first);
  auto last = it->second.upper_bound(range->second);
  const std::size_t limit = query.limit.value_or(SIZE_MAX);
  if (query.ascending) {
    for (auto r = first; r != last && out.size() < limit; ++r) out.push_back(r->second);
  } else {
    for (auto r = std::make_reverse_iterator(last);
         r != std::make_reverse_iterator(first) && out.size() < limit; ++r) {
      out.push_back(r->second);
    }
  }
  return out;
}

}  // namespace es
