// Keeps snapshots: at most one per (entity, version); lookups find the latest at or below
// a version. Records are the mapper's snapshot records (position = version). Thread-safe.
#pragma once

#include "domain/sequenced_record.hpp"

#include <optional>
#include <vector>

namespace es {

class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;
  // Stores a snapshot, replacing one at the same version.
  virtual void save(const SequencedRecord& snapshot) = 0;
  // The snapshot with the highest version <= max_version (any version when not given).
  virtual std::optional<SequencedRecord> latest(
      const Uuid& id, std::optional<std::int64_t> max_version = std::nullopt) const = 0;
  // latest() of many entities, one result per lookup, in order: a mass recovery looks them
  // all up in one round trip. This default looks them up one by one.
  struct Lookup {
    Uuid id;
    std::optional<std::int64_t> max_version;
  };
  virtual std::vector<std::optional<SequencedRecord>> latest_many(
      const std::vector<Lookup>& lookups) const {
    std::vector<std::optional<SequencedRecord>> out;
    out.reserve(lookups.size());
    for (const auto& l : lookups) out.push_back(latest(l.id, l.max_version));
    return out;
  }
  // Deletes the snapshots with min_version <= version <= max_version.
  virtual void delete_range(const Uuid& id, std::int64_t min_version, std::int64_t max_version) = 0;
  void delete_one(const Uuid& id, std::int64_t version) { delete_range(id, version, version); }
};

}  // namespace es
