// Why: snapshots next to the events in Redis, in the entity's partition slot: one sorted set
// per entity, score = version, so "latest at or below v" is one ZREVRANGEBYSCORE. Layout:
// docs/STORAGE.md. Thread-safe (one pooled connection per call).
#pragma once

#include "persistence/redis_connection.hpp"
#include "persistence/redis_keys.hpp"
#include "persistence/snapshot_store.hpp"

#include <memory>

namespace es {

class RedisSnapshotStore final : public SnapshotStore {
 public:
  // Uses options.key_prefix and options.partitions (checked against the store's recorded
  // count like RedisRecordManager does).
  explicit RedisSnapshotStore(std::shared_ptr<RedisPool> pool, RedisStoreOptions options = {});

  void save(const SequencedRecord& snapshot) override;
  std::optional<SequencedRecord> latest(
      const Uuid& id, std::optional<std::int64_t> max_version = std::nullopt) const override;
  std::vector<std::optional<SequencedRecord>> latest_many(
      const std::vector<Lookup>& lookups) const override;
  void delete_range(const Uuid& id, std::int64_t min_version, std::int64_t max_version) override;

  const RedisKeys& keys() const { return keys_; }

 private:
  std::shared_ptr<RedisPool> pool_;
  RedisKeys keys_;
};

// The sorted-set member of a snapshot: "<version>:<topic byte length>:<topic>:<state>".
std::string encode_snapshot_member(const SequencedRecord& snapshot);
// The inverse; RecordDecodingError when the member is not of that form.
SequencedRecord decode_snapshot_member(const Uuid& id, std::string_view member);

}  // namespace es
