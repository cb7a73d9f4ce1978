// Why: the production event store: one Redis stream per entity (entry ID = version), a
// notification log per partition, version-checked appends in one Lua script, many appends
// per call and many calls per round trip. Layout: docs/STORAGE.md. Thread-safe: every
// operation borrows one connection from the shared pool.
#pragma once

#include "persistence/record_manager.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_keys.hpp"

#include <atomic>
#include <memory>
#include <string>

namespace es {

class RedisRecordManager final : public RecordManager {
 public:
  // Opens (or creates) the store under options.key_prefix: records or checks the partition
  // count (ConfigurationError on a mismatch) and loads the append script. StoreUnavailable
  // when Redis cannot be reached, ConfigurationError on a wrong password.
  explicit RedisRecordManager(std::shared_ptr<RedisPool> pool, RedisStoreOptions options = {});

  std::vector<AppendResult> append_batch(const std::vector<AppendRequest>& requests) override;
  std::vector<SequencedRecord> read(const Uuid& id, const ReadQuery& query) const override;
  void read_pages(const Uuid& id, const ReadQuery& query,
                  const PageHandler& on_page) const override;
  std::vector<std::vector<SequencedRecord>> read_many(
      const std::vector<SequenceRead>& reads) const override;
  std::int64_t highest_position(const Uuid& id) const override;
  SequenceIdPage list_sequence_ids(const std::string& cursor, std::size_t count) const override;
  void delete_records(const Uuid& id, std::int64_t to_position) override;

  int partitions() const override { return keys_.partitions(); }
  std::vector<Notification> read_notifications(int partition, std::int64_t start,
                                               std::size_t limit) const override;
  std::int64_t last_notification_position(int partition) const override;
  // On a Redis Cluster the master serving the entity's slot ("host:port"); else empty.
  std::string shard_of(const Uuid& id) const override;

  const RedisKeys& keys() const { return keys_; }
  const std::shared_ptr<RedisPool>& pool() const { return pool_; }
  const RedisStoreOptions& options() const { return options_; }

 private:
  struct Call;
  // Why calls of a round trip were refused without running: they are sent again.
  struct RefusedCalls {
    bool noscript = false;   // the server lost the script
    bool crossslot = false;  // a proxy enforces one hash slot per script
  };
  void load_script(RedisConnection& connection);
  std::vector<Call> pack_calls(const std::vector<AppendRequest>& requests,
                               const std::vector<std::size_t>& indexes) const;
  void run_calls(RedisConnection& connection, const std::vector<AppendRequest>& requests,
                 std::vector<Call>& calls, std::vector<AppendResult>& results,
                 RefusedCalls& refused);
  std::int64_t highest_of(RedisConnection& connection, const std::string& key) const;
  void read_pages_ahead(RedisConnection& connection, const std::string& key, const Uuid& id,
                        std::int64_t first, std::int64_t last, const PageHandler& on_page) const;

  std::shared_ptr<RedisPool> pool_;
  RedisStoreOptions options_;
  RedisKeys keys_;
  std::string script_sha_;
  // Several partitions per EVALSHA: not a cluster node, and no CROSSSLOT refusal seen.
  std::atomic<bool> cross_partition_calls_{false};
};

}  // namespace es
