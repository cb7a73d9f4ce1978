// Why: see stream_sources.hpp. Error texts name partitions and commands, never data.
#include "persistence/stream_sources.hpp"

#include "domain/errors.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>

namespace es {
namespace {

constexpr std::chrono::milliseconds kMinBlock{1};

std::string after_id(std::int64_t position) {
  return std::to_string(std::max<std::int64_t>(position, 0)) + "-1";
}

std::unordered_map<std::string, int> keys_by_partition(const RedisKeys& keys) {
  std::unordered_map<std::string, int> out;
  for (int p = 0; p < keys.partitions(); ++p) out.emplace(keys.log(p), p);
  return out;
}

void check_partitions(const RedisKeys& keys, const std::vector<int>& partitions) {
  for (int p : partitions) {
    if (p < 0 || p >= keys.partitions()) throw InvalidInput("no such partition");
  }
}

// XREAD / XREADGROUP reply: nil (timeout) or [[key, [entry...]]...].
std::vector<NotificationBatch> decode_streams_reply(
    const RedisReply& reply, const std::unordered_map<std::string, int>& partition_of_key,
    std::size_t* entries_read = nullptr) {
  std::vector<NotificationBatch> out;
  if (reply.is_nil()) return out;
  if (reply.kind() != RedisReplyView::Kind::array) throw Error("unexpected XREAD reply");
  for (std::size_t i = 0; i < reply.size(); ++i) {
    auto stream = reply[i];
    if (!stream.is_array() || stream.size() != 2) throw Error("unexpected XREAD reply");
    auto it = partition_of_key.find(std::string(stream[0].str()));
    if (it == partition_of_key.end()) throw Error("XREAD answered for an unknown key");
    NotificationBatch batch;
    batch.partition = it->second;
    auto entries = stream[1];
    batch.items.reserve(entries.size());
    for (std::size_t k = 0; k < entries.size(); ++k) {
      auto entry = entries[k];
      // An entry pending in a group but deleted from the stream comes back without fields.
      if (entry.is_array() && entry.size() == 2 && entry[1].is_nil()) continue;
      decode_log_entry(entry, batch.partition, batch.items);
      if (entries_read) ++*entries_read;
    }
    if (!batch.items.empty()) out.push_back(std::move(batch));
  }
  return out;
}

bool is_nogroup(const RedisReply& reply) {
  return reply.is_error() && reply.str().substr(0, 7) == "NOGROUP";
}

// How often a reader polls the logs on a Redis Cluster instead of blocking.
constexpr std::chrono::milliseconds kClusterPoll{20};

// XREAD / XREADGROUP over several logs: `head` is the command up to (not including) BLOCK
// and STREAMS. A Redis Cluster refuses the keys of several slots in one command, so there
// each log is read by a command of its own (pipelined: every master at once) and a block
// becomes polling every kClusterPoll until something arrives or `block` has passed. The
// replies come back as they are (nil: nothing), one per command.
std::vector<RedisReply> read_streams(RedisConnection& connection, const RedisArgs& head,
                                     const std::vector<std::string>& keys,
                                     const std::vector<std::string>& ids,
                                     std::chrono::milliseconds block) {
  auto with = [&](std::size_t from, std::size_t to, std::chrono::milliseconds wait) {
    RedisArgs args = owned_copy(head);
    if (wait.count() > 0) args.add("BLOCK").add(static_cast<std::int64_t>(wait.count()));
    args.add("STREAMS");
    for (auto i = from; i < to; ++i) args.add(std::string_view(keys[i]));
    for (auto i = from; i < to; ++i) args.add(std::string_view(ids[i]));
    return args;
  };
  std::vector<RedisReply> replies;
  if (!connection.is_cluster() || keys.size() == 1) {
    replies.push_back(connection.command(with(0, keys.size(), block)));
    return replies;
  }
  const auto deadline = std::chrono::steady_clock::now() + block;
  for (;;) {
    std::vector<RedisArgs> commands;
    commands.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      commands.push_back(with(i, i + 1, std::chrono::milliseconds(0)));
    }
    replies = connection.pipeline(commands);
    bool any = false;
    for (const auto& r : replies) any = any || !r.is_nil();
    if (any || std::chrono::steady_clock::now() + kClusterPoll > deadline) return replies;
    std::this_thread::sleep_for(kClusterPoll);
  }
}

}  // namespace

RedisConnectionOptions blocking_reader_options(RedisConnectionOptions base,
                                               std::chrono::milliseconds max_block) {
  base.command_timeout = std::max(base.command_timeout, max_block + std::chrono::seconds(1));
  return base;
}

// --- StreamNotificationSource ---

StreamNotificationSource::StreamNotificationSource(RedisUrl url, RedisConnectionOptions options,
                                                   RedisKeys keys,
                                                   std::chrono::milliseconds max_block)
    : connection_(std::move(url), blocking_reader_options(options, max_block)),
      keys_(std::move(keys)),
      max_block_(std::max(max_block, kMinBlock)),
      partition_of_key_(keys_by_partition(keys_)) {}

std::vector<NotificationBatch> StreamNotificationSource::wait_and_read(
    const std::vector<PartitionCursor>& cursors, std::size_t max_per_partition,
    std::chrono::milliseconds timeout) {
  if (cursors.empty() || max_per_partition == 0) return {};
  std::vector<std::string> keys;
  keys.reserve(cursors.size());
  for (const auto& c : cursors) {
    if (c.partition < 0 || c.partition >= keys_.partitions()) {
      throw InvalidInput("no such partition");
    }
    keys.push_back(keys_.log(c.partition));
  }
  std::lock_guard lock(mutex_);
  // A log entry lists a group of events, so XREAD's COUNT (entries) says little about how
  // many events come back. First, per log, the entries whose last event is within the page
  // (by position: at most the page, whole entries, nothing read twice). Then, for the logs
  // where that found nothing, the next entry, however large (XREAD COUNT 1: it also waits
  // when no log has anything); from it only the page is kept.
  std::vector<RedisArgs> commands;
  commands.reserve(cursors.size());
  for (std::size_t i = 0; i < cursors.size(); ++i) {
    const auto from = std::max<std::int64_t>(cursors[i].after, 0) + 1;
    const auto to = from + position_span(max_per_partition) - 1;
    commands.push_back(RedisArgs{"XRANGE", keys[i]}.add(from).add(to));
  }
  const auto pages = connection_.pipeline(commands);
  std::vector<NotificationBatch> out;
  auto keep = [&](const PartitionCursor& cursor, NotificationBatch batch) {
    // Events at or before the cursor were read before; past the page, they come next time.
    auto& items = batch.items;
    drop_before(items, cursor.after + 1);
    if (items.size() > max_per_partition) items.resize(max_per_partition);
    if (items.empty()) return false;
    out.push_back(std::move(batch));
    return true;
  };
  std::vector<std::size_t> empty;  // cursors whose page held no whole entry
  for (std::size_t i = 0; i < cursors.size(); ++i) {
    const auto& reply = pages[i];
    if (reply.is_error()) throw_redis_error(reply.view(), "following the notification logs");
    NotificationBatch batch;
    batch.partition = cursors[i].partition;
    for (std::size_t k = 0; k < reply.size(); ++k) {
      decode_log_entry(reply[k], batch.partition, batch.items);
    }
    if (!keep(cursors[i], std::move(batch))) empty.push_back(i);
  }
  if (empty.empty()) return out;
  std::vector<std::string> next_keys, next_ids;
  for (auto i : empty) {
    next_keys.push_back(keys[i]);
    next_ids.push_back(after_id(cursors[i].after));
  }
  // Waits only when no log had anything.
  const auto block = out.empty() && timeout.count() > 0 ? std::min(timeout, max_block_)
                                                        : std::chrono::milliseconds(0);
  const RedisArgs head{"XREAD", "COUNT", "1"};
  for (const auto& reply : read_streams(connection_, head, next_keys, next_ids, block)) {
    if (reply.is_error()) throw_redis_error(reply.view(), "following the notification logs");
    for (auto& batch : decode_streams_reply(reply, partition_of_key_)) {
      for (auto i : empty) {
        if (cursors[i].partition == batch.partition) {
          keep(cursors[i], std::move(batch));
          break;
        }
      }
    }
  }
  return out;
}

// --- StreamConsumerGroupSource ---

StreamConsumerGroupSource::StreamConsumerGroupSource(RedisUrl url, RedisConnectionOptions options,
                                                     RedisKeys keys, std::string group,
                                                     std::chrono::milliseconds max_block)
    : connection_(std::move(url), blocking_reader_options(options, max_block)),
      keys_(std::move(keys)),
      group_(std::move(group)),
      max_block_(std::max(max_block, kMinBlock)),
      partition_of_key_(keys_by_partition(keys_)) {
  if (group_.empty()) throw ConfigurationError("a consumer group needs a name");
}

void StreamConsumerGroupSource::ensure_groups_locked(const std::vector<int>& partitions) {
  check_partitions(keys_, partitions);
  std::vector<RedisArgs> commands;
  std::vector<std::string> keys;
  keys.reserve(partitions.size());
  for (int p : partitions) keys.push_back(keys_.log(p));
  for (const auto& k : keys) {
    commands.push_back(RedisArgs{"XGROUP", "CREATE", k, group_, "0", "MKSTREAM"});
  }
  for (const auto& r : connection_.pipeline(commands)) {
    if (r.is_error() && r.str().substr(0, 9) != "BUSYGROUP") {
      throw_redis_error(r.view(), "creating the consumer groups");
    }
  }
}

void StreamConsumerGroupSource::ensure_groups(const std::vector<int>& partitions) {
  std::lock_guard lock(mutex_);
  ensure_groups_locked(partitions);
}

void StreamConsumerGroupSource::reset_groups(const std::vector<int>& partitions) {
  check_partitions(keys_, partitions);
  std::lock_guard lock(mutex_);
  std::vector<std::string> keys;
  for (int p : partitions) keys.push_back(keys_.log(p));
  std::vector<RedisArgs> commands;
  for (const auto& k : keys) commands.push_back(RedisArgs{"XGROUP", "DESTROY", k, group_});
  for (const auto& r : connection_.pipeline(commands)) {
    // A missing log key is fine: the group is created with MKSTREAM below.
    if (r.is_error() && r.str().find("requires the key to exist") == std::string_view::npos) {
      throw_redis_error(r.view(), "dropping the consumer groups");
    }
  }
  ensure_groups_locked(partitions);
}

std::vector<NotificationBatch> StreamConsumerGroupSource::read_group(
    const std::string& consumer, const std::vector<int>& partitions, std::size_t max_per_partition,
    std::chrono::milliseconds timeout, bool pending) {
  if (partitions.empty() || max_per_partition == 0) return {};
  if (consumer.empty()) throw InvalidInput("a consumer needs a name");
  check_partitions(keys_, partitions);
  std::vector<std::string> keys;
  keys.reserve(partitions.size());
  for (int p : partitions) keys.push_back(keys_.log(p));
  std::lock_guard lock(mutex_);
  RedisArgs head{"XREADGROUP", "GROUP", group_, consumer, "COUNT"};
  head.add(static_cast<std::int64_t>(entries_for(max_per_partition)));
  const auto block =
      !pending && timeout.count() > 0 ? std::min(timeout, max_block_) : timeout.zero();
  const std::vector<std::string> ids(keys.size(), pending ? "0" : ">");
  std::vector<NotificationBatch> out;
  bool missing_group = false;
  std::size_t entries = 0, events = 0;
  for (const auto& reply : read_streams(connection_, head, keys, ids, block)) {
    if (is_nogroup(reply)) {
      missing_group = true;
      continue;
    }
    if (reply.is_error()) throw_redis_error(reply.view(), "reading from the consumer groups");
    for (auto& batch : decode_streams_reply(reply, partition_of_key_, &entries)) {
      events += batch.items.size();
      out.push_back(std::move(batch));
    }
  }
  learn_entry_size(entries, events);
  if (missing_group) {
    ensure_groups_locked(partitions);  // the server lost them (e.g. restarted without data)
    return {};
  }
  return out;
}

std::size_t StreamConsumerGroupSource::entries_for(std::size_t events) const {
  const auto n = std::ceil(static_cast<double>(events) / events_per_entry_);
  return std::max<std::size_t>(1, static_cast<std::size_t>(n));
}

void StreamConsumerGroupSource::learn_entry_size(std::size_t entries, std::size_t events) {
  if (entries > 0) events_per_entry_ = std::max(1.0, static_cast<double>(events) / entries);
}

std::vector<NotificationBatch> StreamConsumerGroupSource::read_new(
    const std::string& consumer, const std::vector<int>& partitions, std::size_t max_per_partition,
    std::chrono::milliseconds timeout) {
  return read_group(consumer, partitions, max_per_partition, timeout, false);
}

std::vector<NotificationBatch> StreamConsumerGroupSource::read_pending(
    const std::string& consumer, const std::vector<int>& partitions,
    std::size_t max_per_partition) {
  return read_group(consumer, partitions, max_per_partition, std::chrono::milliseconds(0), true);
}

std::vector<NotificationBatch> StreamConsumerGroupSource::claim_stale(
    const std::string& consumer, const std::vector<int>& partitions,
    std::chrono::milliseconds min_idle, std::size_t max_per_partition) {
  if (partitions.empty() || max_per_partition == 0) return {};
  if (consumer.empty()) throw InvalidInput("a consumer needs a name");
  check_partitions(keys_, partitions);
  constexpr std::size_t kClaimPage = 1000;
  struct Scan {
    int partition = 0;
    std::string key;
    std::string cursor = "0-0";
    NotificationBatch batch;
    bool done = false;
  };
  std::vector<Scan> scans;
  for (int p : partitions) {
    Scan scan;
    scan.partition = p;
    scan.key = keys_.log(p);
    scan.batch.partition = p;
    scans.push_back(std::move(scan));
  }
  const auto idle = static_cast<std::int64_t>(std::max<std::int64_t>(min_idle.count(), 0));
  bool missing_group = false;
  std::lock_guard lock(mutex_);
  // Rounds of one pipelined XAUTOCLAIM per partition still scanning, following each cursor
  // until the pending list is through or max_per_partition entries were claimed.
  for (;;) {
    std::vector<Scan*> active;
    std::vector<RedisArgs> commands;
    for (auto& scan : scans) {
      if (scan.done) continue;
      RedisArgs args{"XAUTOCLAIM", scan.key, group_, consumer};
      args.add(idle).add(std::string_view(scan.cursor)).add("COUNT");
      args.add(static_cast<std::int64_t>(
          std::min(kClaimPage, entries_for(max_per_partition - scan.batch.items.size()))));
      commands.push_back(std::move(args));
      active.push_back(&scan);
    }
    if (active.empty()) break;
    auto replies = connection_.pipeline(commands);
    for (std::size_t i = 0; i < replies.size(); ++i) {
      auto& scan = *active[i];
      const auto& r = replies[i];
      if (is_nogroup(r)) {
        missing_group = true;
        scan.done = true;
        continue;
      }
      if (r.is_error()) throw_redis_error(r.view(), "claiming stale entries");
      if (r.size() < 2) throw Error("unexpected XAUTOCLAIM reply");
      scan.cursor = std::string(r[0].str());
      auto entries = r[1];
      const auto before = scan.batch.items.size();
      std::size_t decoded = 0;
      for (std::size_t k = 0; k < entries.size(); ++k) {
        auto entry = entries[k];
        if (!entry.is_array() || entry.size() != 2 || entry[1].is_nil()) continue;
        decode_log_entry(entry, scan.partition, scan.batch.items);
        ++decoded;
      }
      learn_entry_size(decoded, scan.batch.items.size() - before);
      scan.done = scan.cursor == "0-0" || scan.batch.items.size() >= max_per_partition;
    }
  }
  if (missing_group) ensure_groups_locked(partitions);
  std::vector<NotificationBatch> out;
  for (auto& scan : scans) {
    if (!scan.batch.items.empty()) out.push_back(std::move(scan.batch));
  }
  return out;
}

void StreamConsumerGroupSource::ack(const std::vector<PartitionAcks>& acks) {
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> ids;
  for (const auto& a : acks) {
    if (a.positions.empty()) continue;
    if (a.partition < 0 || a.partition >= keys_.partitions()) {
      throw InvalidInput("no such partition");
    }
    keys.push_back(keys_.log(a.partition));
    std::vector<std::string> text;
    text.reserve(a.positions.size());
    for (auto p : a.positions) text.push_back(after_id(p));
    ids.push_back(std::move(text));
  }
  if (keys.empty()) return;
  std::vector<RedisArgs> commands;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    RedisArgs args{"XACK", keys[i], group_};
    for (const auto& id : ids[i]) args.add(std::string_view(id));
    commands.push_back(std::move(args));
  }
  std::lock_guard lock(mutex_);
  for (const auto& r : connection_.pipeline(commands)) {
    if (r.is_error() && r.str().substr(0, 7) != "NOGROUP") {
      throw_redis_error(r.view(), "acknowledging entries");
    }
  }
}

std::int64_t StreamConsumerGroupSource::pending_count(int partition) {
  check_partitions(keys_, {partition});
  const std::string key = keys_.log(partition);
  std::lock_guard lock(mutex_);
  auto reply = connection_.command({"XPENDING", key, group_});
  if (is_nogroup(reply)) return 0;
  if (reply.is_error()) throw_redis_error(reply.view(), "counting pending entries");
  if (reply.size() < 1) throw Error("unexpected XPENDING reply");
  return reply[0].integer();
}

std::string StreamConsumerGroupSource::server_id() {
  std::lock_guard lock(mutex_);
  auto reply = connection_.command({"INFO", "server"});
  if (reply.is_error()) throw_redis_error(reply.view(), "identifying the server");
  const auto text = reply.str();
  const auto at = text.find("run_id:");
  if (at == std::string_view::npos) throw Error("INFO server gave no run_id");
  const auto end = text.find_first_of("\r\n", at);
  return std::string(text.substr(at + 7, end == std::string_view::npos ? end : end - at - 7));
}

// --- StreamEventFetcher ---

StreamEventFetcher::StreamEventFetcher(std::shared_ptr<RedisPool> pool, RedisKeys keys)
    : pool_(std::move(pool)), keys_(std::move(keys)) {
  if (!pool_) throw ConfigurationError("an event fetcher needs a Redis pool");
}

std::vector<std::optional<SequencedRecord>> StreamEventFetcher::fetch(
    const std::vector<EventRef>& refs) {
  std::vector<std::optional<SequencedRecord>> out(refs.size());
  if (refs.empty()) return out;
  std::vector<std::string> keys(refs.size()), ids(refs.size());
  std::vector<RedisArgs> commands;
  commands.reserve(refs.size());
  for (std::size_t i = 0; i < refs.size(); ++i) {
    keys[i] = keys_.entity(refs[i].id);
    ids[i] = after_id(refs[i].version);
    commands.push_back(RedisArgs{"XRANGE", keys[i], ids[i], ids[i]});
  }
  auto lease = pool_->acquire();
  auto replies = lease->pipeline(commands);
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto& r = replies[i];
    if (r.is_error()) {
      if (r.str().substr(0, 9) == "WRONGTYPE") {
        throw RecordDecodingError("the events of " + to_string(refs[i].id) +
                                  " are not in a stream");
      }
      throw_redis_error(r.view(), "reading the events of a page of notifications");
    }
    if (r.size() == 0) continue;  // deleted
    auto entry = r[0];
    auto fail = [&](const char* why) {
      throw RecordDecodingError("stored event of " + to_string(refs[i].id) +
                                " cannot be decoded: " + why);
    };
    if (!entry.is_array() || entry.size() != 2) fail("malformed stream entry");
    auto version = parse_exact_id(entry[0].str());
    if (!version || *version != refs[i].version) fail("unexpected entry id");
    SequencedRecord record;
    record.sequence_id = refs[i].id;
    record.position = *version;
    auto fields = entry[1];
    bool topic = false, state = false;
    if (fields.size() % 2 != 0) fail("odd field list");
    for (std::size_t k = 0; k + 1 < fields.size(); k += 2) {
      auto name = fields[k].str();
      if (name == "topic" && !topic) {
        record.topic = std::string(fields[k + 1].str());
        topic = true;
      } else if (name == "state" && !state) {
        record.state = std::string(fields[k + 1].str());
        state = true;
      } else {
        fail("unexpected field");
      }
    }
    if (!topic || !state) fail("missing field");
    out[i] = std::move(record);
  }
  return out;
}

}  // namespace es
