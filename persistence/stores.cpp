#include "persistence/stores.hpp"

#include "persistence/memory_log_store.hpp"
#include "persistence/memory_record_manager.hpp"
#include "persistence/memory_snapshot_store.hpp"

namespace es {

Stores memory_stores(int partitions) {
  return {std::make_shared<MemoryRecordManager>(partitions),
          std::make_shared<MemorySnapshotStore>(), std::make_shared<MemoryLogStore>()};
}

}  // namespace es
