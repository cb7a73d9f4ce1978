#include "persistence/timebucketed_log_reader.hpp"

#include "domain/clock.hpp"

#include <algorithm>

namespace es {

TimebucketedLogReader::TimebucketedLogReader(const TimebucketedLog& log,
                                             std::shared_ptr<LogStore> store,
                                             std::shared_ptr<const EventMapper> mapper)
    : started_on_(log.started_on()),
      log_id_(log.id()),
      bucket_size_(log.bucket_size()),
      store_(std::move(store)),
      mapper_(std::move(mapper)) {}

std::vector<LoggedMessage> TimebucketedLogReader::get_messages(const ReadQuery& query) const {
  std::vector<LoggedMessage> out;
  auto range = query.range();
  if (!range) return out;
  const std::size_t limit = query.limit.value_or(SIZE_MAX);
  // Buckets from the log's start (or the lower bound) to now (or the upper bound).
  const std::int64_t earliest = std::max(started_on_, range->first);
  const std::int64_t latest = std::min(now_micros(), range->second);
  if (earliest > latest) return out;
  std::int64_t position = query.ascending ? earliest : latest;
  while (out.size() < limit) {
    const Uuid bucket = make_timebucket_id(log_id_, position, bucket_size_);
    // One read per bucket: the store pages internally, and paging here by timestamp could
    // split a run of messages that share one.
    ReadQuery page = query;
    page.limit = limit - out.size();
    for (const auto& r : store_->read(bucket, page)) out.push_back(mapper_->message_from_record(r));
    if (query.ascending) {
      position = next_bucket_starts(position, bucket_size_);
      if (position > latest) break;
    } else {
      if (bucket_starts(position, bucket_size_) <= earliest) break;
      position = previous_bucket_starts(position, bucket_size_);
    }
  }
  return out;
}

}  // namespace es
