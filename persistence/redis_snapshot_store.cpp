// Why: see redis_snapshot_store.hpp. The version is in the member too, so two snapshots with
// equal content at different versions stay two members; save() replaces a snapshot at the
// same version atomically (MULTI/EXEC).
#include "persistence/redis_snapshot_store.hpp"

#include "domain/errors.hpp"

#include <charconv>

namespace es {
namespace {

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t value = 0;
  if (s.empty() || s.size() > 19) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < 0) return std::nullopt;
  return value;
}

int open_snapshot_store(RedisPool& pool, const RedisStoreOptions& options) {
  check_key_prefix(options.key_prefix);
  auto lease = pool.acquire();
  return open_partitions(*lease, options.key_prefix, options.partitions);
}

}  // namespace

std::string encode_snapshot_member(const SequencedRecord& snapshot) {
  std::string member =
      std::to_string(snapshot.position) + ":" + std::to_string(snapshot.topic.size()) + ":";
  member.reserve(member.size() + snapshot.topic.size() + 1 + snapshot.state.size());
  member += snapshot.topic;
  member += ':';
  member += snapshot.state;
  return member;
}

SequencedRecord decode_snapshot_member(const Uuid& id, std::string_view member) {
  auto fail = [&]() -> SequencedRecord {
    throw RecordDecodingError("stored snapshot of " + to_string(id) + " cannot be decoded");
  };
  auto colon = member.find(':');
  if (colon == std::string_view::npos) return fail();
  auto version = parse_int(member.substr(0, colon));
  member.remove_prefix(colon + 1);
  colon = member.find(':');
  if (!version || colon == std::string_view::npos) return fail();
  auto length = parse_int(member.substr(0, colon));
  member.remove_prefix(colon + 1);
  if (!length || static_cast<std::size_t>(*length) >= member.size() ||
      member[static_cast<std::size_t>(*length)] != ':') {
    return fail();
  }
  SequencedRecord record;
  record.sequence_id = id;
  record.position = *version;
  record.topic = std::string(member.substr(0, static_cast<std::size_t>(*length)));
  record.state = std::string(member.substr(static_cast<std::size_t>(*length) + 1));
  return record;
}

RedisSnapshotStore::RedisSnapshotStore(std::shared_ptr<RedisPool> pool, RedisStoreOptions options)
    : pool_(std::move(pool)), keys_(options.key_prefix, open_snapshot_store(*pool_, options)) {}

void RedisSnapshotStore::save(const SequencedRecord& snapshot) {
  if (snapshot.position < 0) throw InvalidInput("snapshot versions must be >= 0");
  const std::string key = keys_.snapshot(snapshot.sequence_id);
  const std::string version = std::to_string(snapshot.position);
  const std::string member = encode_snapshot_member(snapshot);
  auto lease = pool_->acquire();
  std::vector<RedisArgs> commands;
  commands.push_back(RedisArgs{"MULTI"});
  commands.push_back(RedisArgs{"ZREMRANGEBYSCORE", key, version, version});
  commands.push_back(RedisArgs{"ZADD", key, version, member});
  commands.push_back(RedisArgs{"EXEC"});
  auto replies = lease->pipeline(commands);
  for (const auto& r : replies) {
    if (r.is_error())
      throw_redis_error(r.view(), "saving a snapshot of " + to_string(snapshot.sequence_id));
  }
  if (!replies.back().view().is_array()) {
    throw StoreUnavailable("saving a snapshot of " + to_string(snapshot.sequence_id) +
                           ": the transaction was aborted");
  }
}

std::optional<SequencedRecord> RedisSnapshotStore::latest(
    const Uuid& id, std::optional<std::int64_t> max_version) const {
  return std::move(latest_many({{id, max_version}}).front());
}

// The lookups pipelined: one round trip (per master on a cluster) for all of them; latest()
// is one of them.
std::vector<std::optional<SequencedRecord>> RedisSnapshotStore::latest_many(
    const std::vector<Lookup>& lookups) const {
  std::vector<std::optional<SequencedRecord>> out(lookups.size());
  std::vector<std::size_t> asked;  // a bound below 0 admits no snapshot: nothing to ask
  for (std::size_t i = 0; i < lookups.size(); ++i) {
    if (!lookups[i].max_version || *lookups[i].max_version >= 0) asked.push_back(i);
  }
  if (asked.empty()) return out;
  auto lease = pool_->acquire();
  for (auto i : asked) {
    RedisArgs args{"ZREVRANGEBYSCORE"};
    args.add_copy(keys_.snapshot(lookups[i].id));
    if (const auto& bound = lookups[i].max_version) {
      args.add(*bound);
    } else {
      args.add("+inf");
    }
    args.add("-inf").add("LIMIT").add("0").add("1");
    lease->append(args);
  }
  for (auto i : asked) {
    const auto& id = lookups[i].id;
    auto reply = lease->read_reply();
    if (reply.is_error()) {
      if (reply.str().substr(0, 9) == "WRONGTYPE") {
        throw RecordDecodingError("the snapshot key of " + to_string(id) + " is not a sorted set");
      }
      throw_redis_error(reply.view(), "reading a snapshot of " + to_string(id));
    }
    if (reply.size() > 0) out[i] = decode_snapshot_member(id, reply[0].str());
  }
  return out;
}

void RedisSnapshotStore::delete_range(const Uuid& id, std::int64_t min_version,
                                      std::int64_t max_version) {
  if (min_version > max_version) return;
  const std::string key = keys_.snapshot(id);
  auto lease = pool_->acquire();
  auto reply = lease->command(
      {"ZREMRANGEBYSCORE", key, std::to_string(min_version), std::to_string(max_version)});
  if (reply.is_error()) throw_redis_error(reply.view(), "deleting snapshots of " + to_string(id));
}

}  // namespace es
