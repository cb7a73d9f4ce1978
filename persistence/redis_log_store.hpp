// Why: the reference's time-bucketed logs in Redis: one stream per bucket whose entry IDs
// are "<timestamp µs>-<n>", so Redis orders the messages by timestamp and keeps the order
// of arrival among equal timestamps, and reads by time are plain XRANGE/XREVRANGE. Layout:
// docs/STORAGE.md. Thread-safe (one pooled connection per call).
#pragma once

#include "persistence/log_store.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_keys.hpp"

#include <memory>

namespace es {

class RedisLogStore final : public LogStore {
 public:
  // Uses options.key_prefix and options.read_page_size.
  explicit RedisLogStore(std::shared_ptr<RedisPool> pool, RedisStoreOptions options = {});

  // InvalidInput when the timestamp is negative or older than the bucket's last message
  // (a stream only grows at its end; equal timestamps are fine).
  void append(const SequencedRecord& record) override;
  std::vector<SequencedRecord> read(const Uuid& bucket_id, const ReadQuery& query) const override;

 private:
  std::shared_ptr<RedisPool> pool_;
  RedisStoreOptions options_;
  RedisKeys keys_;
};

}  // namespace es
