// The reference's TimebucketedlogReader: reads a log's messages across its buckets,
// newest first or oldest first, within optional timestamp bounds, bucket by bucket.
#pragma once

#include "domain/mapper.hpp"
#include "domain/timebucketed_log.hpp"
#include "persistence/log_store.hpp"

#include <memory>
#include <vector>

namespace es {

class TimebucketedLogReader {
 public:
  TimebucketedLogReader(const TimebucketedLog& log, std::shared_ptr<LogStore> store,
                        std::shared_ptr<const EventMapper> mapper);

  // Messages within the bounds (on timestamps, µs), at most `limit`, in the query's order.
  std::vector<LoggedMessage> get_messages(const ReadQuery& query) const;

 private:
  std::int64_t started_on_;
  Uuid log_id_;
  BucketSize bucket_size_;
  std::shared_ptr<LogStore> store_;
  std::shared_ptr<const EventMapper> mapper_;
};

}  // namespace es
