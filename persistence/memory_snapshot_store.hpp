// Snapshots in memory.
#pragma once

#include "persistence/snapshot_store.hpp"

#include <boost/functional/hash.hpp>
#include <boost/uuid/uuid_hash.hpp>

#include <map>
#include <shared_mutex>
#include <unordered_map>

namespace es {

class MemorySnapshotStore final : public SnapshotStore {
 public:
  void save(const SequencedRecord& snapshot) override;
  std::optional<SequencedRecord> latest(const Uuid& id,
                                        std::optional<std::int64_t> max_version) const override;
  void delete_range(const Uuid& id, std::int64_t min_version, std::int64_t max_version) override;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<Uuid, std::map<std::int64_t, SequencedRecord>, boost::hash<Uuid>> snapshots_;
};

}  // namespace es
