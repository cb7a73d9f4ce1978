// Why: the sample projection's read model in Redis, next to the events it is built from.
// Per partition NN three keys in the partition's hash slot (docs/PROJECTIONS.md):
//   <prefix>:{pNN}:projection:<name>       hash   position, heartbeats (the tracking record)
//   <prefix>:{pNN}:projection:<name>:live  hash   uuid -> foo token ("" when not indexed)
//   <prefix>:{pNN}:projection:<name>:foo   zset   "<token>:<uuid>", all scores 0
// A page of changes is applied with its position in ONE script call per partition
// (tracking_script.hpp; it also reads the partition's log head, <prefix>:{pNN}:log, and
// never applies past it), many partitions per pipelined round trip. Thread-safe.
#pragma once

#include "persistence/redis_connection.hpp"
#include "persistence/redis_keys.hpp"
#include "persistence/tracking_script.hpp"
#include "samples/example/example_read_model.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace es {

class RedisExampleReadModel final : public ExampleReadModel {
 public:
  // `name` tells projections apart (letters, digits, '-', '_').
  // With `replica_acks` > 0 a page counts as applied only once that many replicas of each
  // master written to have it (Redis WAIT, bounded by `replica_ack_timeout`; else
  // StoreUnavailable and the page is applied again later, which the tracking makes harmless).
  RedisExampleReadModel(std::shared_ptr<RedisPool> pool, RedisKeys keys,
                        std::string name = "example", int replica_acks = 0,
                        std::chrono::milliseconds replica_ack_timeout = std::chrono::seconds(1));

  int partitions() const override { return keys_.partitions(); }
  std::vector<std::int64_t> positions(const std::vector<int>& partitions) const override;
  std::vector<TrackedResult> apply(const std::vector<ExampleChanges>& batches) override;
  ExampleStats stats() const override;
  std::vector<std::string> ids_with_token(const std::string& token) const override;
  void clear() override;
  std::vector<ExamplePartitionDump> dump() const override;

  std::string state_key(int partition) const;  // the tracking hash
  std::string live_key(int partition) const;
  std::string index_key(int partition) const;

  // The Lua body of the Example projection (for review and tests).
  static const char* script_body();

 private:
  std::shared_ptr<RedisPool> pool_;
  RedisKeys keys_;
  std::string name_;
  int replica_acks_ = 0;
  std::chrono::milliseconds replica_ack_timeout_;
  std::unique_ptr<TrackedScript> script_;
};

}  // namespace es
