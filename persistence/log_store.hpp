// The log store of the reference's time-bucketed logs: messages positioned by their
// timestamp (µs) within a bucket's sequence, read forwards or backwards. No version check:
// several messages may share a timestamp, and then keep their order of arrival. Thread-safe.
#pragma once

#include "domain/sequenced_record.hpp"
#include "persistence/read_query.hpp"

#include <vector>

namespace es {

class LogStore {
 public:
  virtual ~LogStore() = default;
  // record.position is the message's timestamp.
  virtual void append(const SequencedRecord& record) = 0;
  // Messages of one bucket within the query's bounds (on timestamps), in its direction.
  virtual std::vector<SequencedRecord> read(const Uuid& bucket_id,
                                            const ReadQuery& query) const = 0;
};

}  // namespace es
