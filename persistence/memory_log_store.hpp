// The log store in memory.
#pragma once

#include "persistence/log_store.hpp"

#include <boost/functional/hash.hpp>
#include <boost/uuid/uuid_hash.hpp>

#include <map>
#include <shared_mutex>
#include <unordered_map>

namespace es {

class MemoryLogStore final : public LogStore {
 public:
  void append(const SequencedRecord& record) override;
  std::vector<SequencedRecord> read(const Uuid& bucket_id, const ReadQuery& query) const override;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<Uuid, std::multimap<std::int64_t, SequencedRecord>, boost::hash<Uuid>> logs_;
};

}  // namespace es
