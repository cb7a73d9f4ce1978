#include "persistence/snapshot_strategy.hpp"

namespace es {

SnapshotStrategy::SnapshotStrategy(std::shared_ptr<SnapshotStore> store,
                                   std::shared_ptr<const EventMapper> mapper)
    : store_(std::move(store)), mapper_(std::move(mapper)) {}

std::optional<Snapshot> SnapshotStrategy::get_snapshot(
    const Uuid& id, std::optional<std::int64_t> max_version) const {
  auto record = store_->latest(id, max_version);
  if (!record) return std::nullopt;
  return mapper_->snapshot_from_record(*record);
}

void SnapshotStrategy::store(const Snapshot& snapshot) {
  store_->save(mapper_->snapshot_to_record(snapshot));
}

}  // namespace es
