// The three stores of an application, as in the reference's ApplicationWithEventStores:
// entity events, snapshots, and log messages.
#pragma once

#include "persistence/log_store.hpp"
#include "persistence/record_manager.hpp"
#include "persistence/snapshot_store.hpp"

#include <memory>

namespace es {

struct Stores {
  std::shared_ptr<RecordManager> events;
  std::shared_ptr<SnapshotStore> snapshots;
  std::shared_ptr<LogStore> logs;
};

// All three in memory.
Stores memory_stores(int partitions = 16);

}  // namespace es
