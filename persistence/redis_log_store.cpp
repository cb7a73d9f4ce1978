// Why: see redis_log_store.hpp. Pages continue from the last entry ID seen with an
// exclusive bound "(<id>", since several messages may share a timestamp.
#include "persistence/redis_log_store.hpp"

#include "domain/errors.hpp"

#include <algorithm>
#include <limits>

namespace es {
namespace {

SequencedRecord decode_message(const RedisReplyView& entry, const Uuid& bucket) {
  auto fail = [&](const char* why) -> SequencedRecord {
    throw RecordDecodingError("stored log message of bucket " + to_string(bucket) +
                              " cannot be decoded: " + why);
  };
  if (!entry.is_array() || entry.size() != 2) return fail("malformed stream entry");
  auto ts = parse_id_ms(entry[0].str());
  if (!ts) return fail("bad entry id");
  SequencedRecord record;
  record.sequence_id = bucket;
  record.position = *ts;
  auto fields = entry[1];
  bool topic = false, state = false;
  if (fields.size() % 2 != 0) return fail("odd field list");
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    auto name = fields[i].str();
    if (name == "topic" && !topic) {
      record.topic = std::string(fields[i + 1].str());
      topic = true;
    } else if (name == "state" && !state) {
      record.state = std::string(fields[i + 1].str());
      state = true;
    } else {
      return fail("unexpected field");
    }
  }
  if (!topic || !state) return fail("missing 'topic' or 'state'");
  return record;
}

}  // namespace

RedisLogStore::RedisLogStore(std::shared_ptr<RedisPool> pool, RedisStoreOptions options)
    : pool_(std::move(pool)),
      options_(std::move(options)),
      keys_(options_.key_prefix, std::max(1, options_.partitions)) {
  if (options_.read_page_size == 0) options_.read_page_size = 1000;
}

void RedisLogStore::append(const SequencedRecord& record) {
  if (record.position < 0) throw InvalidInput("log message timestamps must be >= 0");
  const std::string key = keys_.bucket(record.sequence_id);
  const std::string id = std::to_string(record.position) + "-*";
  auto lease = pool_->acquire();
  auto reply = lease->command({"XADD", key, id, "topic", record.topic, "state", record.state});
  if (reply.is_error()) {
    if (reply.str().find("equal or smaller") != std::string_view::npos) {
      throw InvalidInput("log message of bucket " + to_string(record.sequence_id) +
                         " is older than the bucket's last message");
    }
    if (reply.str().substr(0, 9) == "WRONGTYPE") {
      throw RecordDecodingError("the key of log bucket " + to_string(record.sequence_id) +
                                " is not a stream");
    }
    throw_redis_error(reply.view(), "appending to log bucket " + to_string(record.sequence_id));
  }
}

std::vector<SequencedRecord> RedisLogStore::read(const Uuid& bucket_id,
                                                 const ReadQuery& query) const {
  std::vector<SequencedRecord> out;
  auto range = query.range();
  if (!range) return out;
  const std::int64_t first = std::max<std::int64_t>(range->first, 0);
  const std::int64_t last = range->second;
  if (last < first) return out;
  const std::size_t limit = query.limit.value_or(std::numeric_limits<std::size_t>::max());
  const std::string key = keys_.bucket(bucket_id);
  std::string lo = std::to_string(first);
  std::string hi = last == std::numeric_limits<std::int64_t>::max() ? "+" : std::to_string(last);
  auto lease = pool_->acquire();
  while (out.size() < limit) {
    const std::size_t count = std::min(options_.read_page_size, limit - out.size());
    RedisArgs args{query.ascending ? "XRANGE" : "XREVRANGE", key};
    if (query.ascending) {
      args.add(std::string_view(lo)).add(std::string_view(hi));
    } else {
      args.add(std::string_view(hi)).add(std::string_view(lo));
    }
    args.add("COUNT").add(static_cast<std::int64_t>(count));
    auto reply = lease->command(args);
    if (reply.is_error()) {
      if (reply.str().substr(0, 9) == "WRONGTYPE") {
        throw RecordDecodingError("the key of log bucket " + to_string(bucket_id) +
                                  " is not a stream");
      }
      throw_redis_error(reply.view(), "reading log bucket " + to_string(bucket_id));
    }
    for (std::size_t i = 0; i < reply.size(); ++i)
      out.push_back(decode_message(reply[i], bucket_id));
    if (reply.size() < count) break;
    // Continue after the last entry seen (exclusive), whatever its timestamp.
    const std::string next = "(" + std::string(reply[reply.size() - 1][0].str());
    (query.ascending ? lo : hi) = next;
  }
  return out;
}

}  // namespace es
