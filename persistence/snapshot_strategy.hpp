// The reference's EventSourcedSnapshotStrategy: snapshots as domain objects over a
// snapshot store and the mapper (so snapshots are encrypted too when a cipher is set).
#pragma once

#include "domain/mapper.hpp"
#include "domain/snapshot.hpp"
#include "persistence/snapshot_store.hpp"

#include <memory>
#include <optional>

namespace es {

class SnapshotStrategy {
 public:
  SnapshotStrategy(std::shared_ptr<SnapshotStore> store, std::shared_ptr<const EventMapper> mapper);

  // The latest snapshot at or below `max_version`.
  std::optional<Snapshot> get_snapshot(
      const Uuid& id, std::optional<std::int64_t> max_version = std::nullopt) const;
  void store(const Snapshot& snapshot);

  SnapshotStore& snapshots() const { return *store_; }

 private:
  std::shared_ptr<SnapshotStore> store_;
  std::shared_ptr<const EventMapper> mapper_;
};

}  // namespace es
