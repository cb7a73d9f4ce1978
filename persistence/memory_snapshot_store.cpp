#include "persistence/memory_snapshot_store.hpp"

#include <limits>
#include <mutex>

namespace es {

void MemorySnapshotStore::save(const SequencedRecord& snapshot) {
  std::unique_lock lock(mutex_);
  snapshots_[snapshot.sequence_id][snapshot.position] = snapshot;
}

std::optional<SequencedRecord> MemorySnapshotStore::latest(
    const Uuid& id, std::optional<std::int64_t> max_version) const {
  std::shared_lock lock(mutex_);
  auto it = snapshots_.find(id);
  if (it == snapshots_.end()) return std::nullopt;
  auto bound =
      it->second.upper_bound(max_version.value_or(std::numeric_limits<std::int64_t>::max()));
  if (bound == it->second.begin()) return std::nullopt;
  return std::prev(bound)->second;
}

void MemorySnapshotStore::delete_range(const Uuid& id, std::int64_t min_version,
                                       std::int64_t max_version) {
  std::unique_lock lock(mutex_);
  auto it = snapshots_.find(id);
  if (it == snapshots_.end() || min_version > max_version) return;
  it->second.erase(it->second.lower_bound(min_version), it->second.upper_bound(max_version));
}

}  // namespace es
