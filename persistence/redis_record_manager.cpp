// Why: see redis_record_manager.hpp. Appends are grouped by partition, the groups packed
// into EVALSHA calls (one partition per call on a Redis Cluster node, where a script may only
// touch keys of one hash slot), sent in one pipeline, and mapped back to one result per
// request in the caller's order.
#include "persistence/redis_record_manager.hpp"

#include "domain/errors.hpp"
#include "persistence/redis_cluster_map.hpp"
#include "persistence/redis_cluster_slot.hpp"
#include "persistence/redis_key_scan.hpp"
#include "persistence/redis_scripts.hpp"

#include <algorithm>
#include <limits>

namespace es {
namespace {

constexpr auto kMaxPosition = std::numeric_limits<std::int64_t>::max();

int open_store(RedisPool& pool, const RedisStoreOptions& options) {
  check_key_prefix(options.key_prefix);
  auto lease = pool.acquire();
  return open_partitions(*lease, options.key_prefix, options.partitions);
}

[[noreturn]] void throw_read_error(const RedisReplyView& reply, const std::string& what) {
  if (reply.str().substr(0, 9) == "WRONGTYPE") {
    throw RecordDecodingError(what + ": the key does not hold a stream");
  }
  throw_redis_error(reply, what);
}

// One entity-stream entry -> record; RecordDecodingError unless it has the stored form.
SequencedRecord decode_entry(const RedisReplyView& entry, const Uuid& id) {
  auto fail = [&](const std::string& why) -> SequencedRecord {
    throw RecordDecodingError("stored event of " + to_string(id) + " cannot be decoded: " + why);
  };
  if (!entry.is_array() || entry.size() != 2) return fail("malformed stream entry");
  auto version = parse_exact_id(entry[0].str());
  if (!version) return fail("entry id is not of the form <version>-1");
  auto fields = entry[1];
  SequencedRecord record;
  record.sequence_id = id;
  record.position = *version;
  bool topic = false, state = false;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    auto name = fields[i].str();
    if (name == "topic" && !topic) {
      record.topic = std::string(fields[i + 1].str());
      topic = true;
    } else if (name == "state" && !state) {
      record.state = std::string(fields[i + 1].str());
      state = true;
    } else {
      return fail("unexpected field in entry " + std::to_string(*version));
    }
  }
  if (fields.size() % 2 != 0) return fail("odd field list");
  if (!topic) return fail("entry " + std::to_string(*version) + " lacks 'topic'");
  if (!state) return fail("entry " + std::to_string(*version) + " lacks 'state'");
  return record;
}

// Whether the server runs in cluster mode, where a script may only touch one hash slot. A
// server that will not say (INFO renamed or refused) is taken for one.
bool is_cluster_node(RedisConnection& connection) {
  auto info = connection.command({"INFO", "cluster"});
  if (info.is_error()) {
    if (is_unavailable_error(info.str())) throw_redis_error(info.view(), "opening the store");
    return true;
  }
  return info.str().find("cluster_enabled:0") == std::string_view::npos;
}

}  // namespace

// One EVALSHA: groups of appends, each group of one partition (one group only on a Redis
// Cluster node, where a script may touch one hash slot).
struct RedisRecordManager::Call {
  struct Group {
    int partition = 0;
    std::vector<std::size_t> requests;  // indexes into the caller's requests
  };
  std::vector<Group> groups;
  std::size_t appends = 0;
  std::size_t bytes = 0;
  bool done = false;
};

RedisRecordManager::RedisRecordManager(std::shared_ptr<RedisPool> pool, RedisStoreOptions options)
    : pool_(std::move(pool)),
      options_(std::move(options)),
      keys_(options_.key_prefix, open_store(*pool_, options_)) {
  if (options_.max_appends_per_call == 0) options_.max_appends_per_call = 1;
  if (options_.read_page_size == 0) options_.read_page_size = 1000;
  auto lease = pool_->acquire();
  using Cross = RedisStoreOptions::CrossPartitionCalls;
  switch (options_.cross_partition_calls) {
    case Cross::detect:
      cross_partition_calls_ = !is_cluster_node(*lease);
      break;
    case Cross::never:
      cross_partition_calls_ = false;
      break;
    case Cross::always:
      cross_partition_calls_ = true;
      break;
  }
  load_script(*lease);
}

void RedisRecordManager::load_script(RedisConnection& connection) {
  auto reply = connection.command({"SCRIPT", "LOAD", kAppendScript});
  if (reply.is_error()) throw_redis_error(reply.view(), "loading the append script");
  // The SHA1 of the text never changes: set once here, only checked on a reload (another
  // thread may be reading it).
  if (script_sha_.empty()) {
    script_sha_ = std::string(reply.str());
  } else if (reply.str() != script_sha_) {
    throw Error("Redis gave the append script another SHA1");
  }
}

std::vector<AppendResult> RedisRecordManager::append_batch(
    const std::vector<AppendRequest>& requests) {
  std::vector<AppendResult> results(requests.size());
  std::vector<std::size_t> valid;
  valid.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (auto problem = validate_append(requests[i])) {
      results[i] = {AppendStatus::invalid, *problem};
    } else {
      valid.push_back(i);
    }
  }
  auto calls = pack_calls(requests, valid);
  if (calls.empty()) return results;

  auto lease = pool_->acquire();
  for (int attempt = 1;; ++attempt) {
    RefusedCalls refused;
    run_calls(*lease, requests, calls, results, refused);
    std::vector<std::size_t> unsent;
    for (const auto& call : calls) {
      if (call.done) continue;
      for (const auto& group : call.groups) {
        unsent.insert(unsent.end(), group.requests.begin(), group.requests.end());
      }
    }
    if (unsent.empty()) break;
    if (attempt == 3) throw StoreUnavailable("Redis keeps refusing the append script");
    if (refused.noscript) load_script(*lease);  // the server lost its scripts (a restart)
    if (refused.crossslot) {
      // A proxy that enforces one hash slot per script without being a cluster node: one
      // partition per call from now on. (An append of the same sequence that ran meanwhile
      // in another call met a conflict, which its caller handles as any conflict.)
      cross_partition_calls_.store(false, std::memory_order_relaxed);
      std::sort(unsent.begin(), unsent.end());
      calls = pack_calls(requests, unsent);
    }
  }
  if (options_.replica_acks > 0 &&
      std::any_of(results.begin(), results.end(),
                  [](const AppendResult& r) { return r.status == AppendStatus::stored; })) {
    const auto acks = lease->wait_for_replicas(options_.replica_acks, options_.replica_ack_timeout);
    if (acks < options_.replica_acks) {
      throw StoreUnavailable("appends stored on the master but confirmed by " +
                             std::to_string(acks) + " of " + std::to_string(options_.replica_acks) +
                             " replicas within " +
                             std::to_string(options_.replica_ack_timeout.count()) + " ms");
    }
  }
  return results;
}

// Groups the requests by partition (the caller's order inside each group) and packs the groups
// into calls of at most max_appends_per_call appends and max_bytes_per_call argument bytes (a
// larger single append goes alone); one partition per call unless cross-partition calls are on.
std::vector<RedisRecordManager::Call> RedisRecordManager::pack_calls(
    const std::vector<AppendRequest>& requests, const std::vector<std::size_t>& indexes) const {
  std::vector<std::vector<std::size_t>> by_partition(static_cast<std::size_t>(partitions()));
  for (auto i : indexes) {
    by_partition[static_cast<std::size_t>(keys_.partition_of(requests[i].sequence_id))].push_back(
        i);
  }
  const bool cross = cross_partition_calls_.load(std::memory_order_relaxed);
  std::vector<Call> calls;
  for (std::size_t p = 0; p < by_partition.size(); ++p) {
    for (auto i : by_partition[p]) {
      std::size_t bytes = 64;
      for (const auto& r : requests[i].records) bytes += r.topic.size() + r.state.size() + 16;
      if (calls.empty() || calls.back().appends >= options_.max_appends_per_call ||
          (calls.back().appends > 0 && calls.back().bytes + bytes > options_.max_bytes_per_call) ||
          (!cross && calls.back().groups.back().partition != static_cast<int>(p))) {
        calls.emplace_back();
      }
      auto& call = calls.back();
      if (call.groups.empty() || call.groups.back().partition != static_cast<int>(p)) {
        call.groups.push_back({static_cast<int>(p), {}});
      }
      call.groups.back().requests.push_back(i);
      ++call.appends;
      call.bytes += bytes;
    }
  }
  return calls;
}

void RedisRecordManager::run_calls(RedisConnection& connection,
                                   const std::vector<AppendRequest>& requests,
                                   std::vector<Call>& calls, std::vector<AppendResult>& results,
                                   RefusedCalls& refused) {
  std::vector<Call*> sent;
  std::string scratch;
  for (auto& call : calls) {
    if (call.done) continue;
    std::size_t argc = 3 + 2 * call.groups.size() + call.appends;
    for (const auto& group : call.groups) {
      for (auto i : group.requests) argc += 3 + 2 * requests[i].records.size();
    }
    RedisArgs args;
    args.reserve(argc);
    args.add("EVALSHA").add(std::string_view(script_sha_));
    args.add(static_cast<std::int64_t>(call.groups.size() + call.appends));
    for (const auto& group : call.groups) {
      args.add_copy(keys_.log(group.partition));
      for (auto i : group.requests) {
        scratch.clear();
        keys_.append_entity(scratch, requests[i].sequence_id);
        args.add_copy(scratch);
      }
    }
    for (const auto& group : call.groups) {
      args.add(static_cast<std::int64_t>(group.requests.size()));
      for (auto i : group.requests) {
        const auto& request = requests[i];
        scratch.clear();
        append_uuid(scratch, request.sequence_id);
        args.add_copy(scratch);
        args.add(request.expected_version);
        args.add(static_cast<std::int64_t>(request.records.size()));
        for (const auto& r : request.records) {
          args.add(std::string_view(r.topic)).add(std::string_view(r.state));
        }
      }
    }
    connection.append(args);  // hiredis copies the arguments into its output buffer
    sent.push_back(&call);
  }

  std::string unavailable;
  for (auto* call : sent) {
    auto reply = connection.read_reply();
    if (reply.is_error()) {
      auto text = reply.str();
      if (text.substr(0, 8) == "NOSCRIPT") {
        refused.noscript = true;  // resent by the caller
        continue;
      }
      if (text.substr(0, 9) == "CROSSSLOT" && call->groups.size() > 1) {
        refused.crossslot = true;  // resent by the caller, one partition per call
        continue;
      }
      call->done = true;
      if (is_unavailable_error(text)) {
        unavailable = std::string(text.substr(0, 200));
        continue;
      }
      for (const auto& group : call->groups) {
        for (auto i : group.requests) {
          results[i] = {AppendStatus::invalid,
                        "Redis refused the append: " + std::string(text.substr(0, 200))};
        }
      }
      continue;
    }
    call->done = true;
    if (reply.size() != 2 * call->appends) {
      throw Error("the append script returned an unexpected reply");
    }
    std::size_t k = 0;
    for (const auto& group : call->groups) {
      for (auto i : group.requests) {
        const auto status = reply[2 * k].integer();
        if (status == 1) {
          results[i] = {AppendStatus::stored, {}};
        } else if (status == 2) {
          results[i] = {AppendStatus::invalid, "the key of sequence " +
                                                   to_string(requests[i].sequence_id) +
                                                   " does not hold a stream"};
        } else {
          results[i] = {AppendStatus::conflict,
                        "sequence " + to_string(requests[i].sequence_id) + " is at version " +
                            std::to_string(reply[2 * k + 1].integer()) + ", not " +
                            std::to_string(requests[i].expected_version)};
        }
        ++k;
      }
    }
  }
  if (!unavailable.empty()) {
    throw StoreUnavailable("Redis at " + pool_->url().to_string() +
                           " did not take every append: " + unavailable);
  }
}

std::vector<SequencedRecord> RedisRecordManager::read(const Uuid& id,
                                                      const ReadQuery& query) const {
  std::vector<SequencedRecord> out;
  auto range = query.range();
  if (!range) return out;
  std::int64_t first = std::max<std::int64_t>(range->first, 0);
  std::int64_t last = range->second;
  if (last < first) return out;
  const std::string key = keys_.entity(id);
  auto lease = pool_->acquire();
  if (query.ascending && !query.limit) {
    read_pages_ahead(*lease, key, id, first, last, [&](std::vector<SequencedRecord>&& page) {
      if (out.empty()) {
        out = std::move(page);
      } else {
        out.insert(out.end(), std::make_move_iterator(page.begin()),
                   std::make_move_iterator(page.end()));
      }
    });
    return out;
  }
  const std::size_t limit = query.limit.value_or(std::numeric_limits<std::size_t>::max());
  while (out.size() < limit && first <= last) {
    const std::size_t count = std::min(options_.read_page_size, limit - out.size());
    RedisArgs args{query.ascending ? "XRANGE" : "XREVRANGE", key};
    const std::string lo = std::to_string(first);
    const std::string hi = last == kMaxPosition ? "+" : std::to_string(last);
    if (query.ascending) {
      args.add(std::string_view(lo)).add(std::string_view(hi));
    } else {
      args.add(std::string_view(hi)).add(std::string_view(lo));
    }
    args.add("COUNT").add(static_cast<std::int64_t>(count));
    auto reply = lease->command(args);
    if (reply.is_error()) throw_read_error(reply.view(), "reading the events of " + to_string(id));
    for (std::size_t i = 0; i < reply.size(); ++i) out.push_back(decode_entry(reply[i], id));
    if (reply.size() < count) break;
    const auto seen = out.back().position;
    if (query.ascending) {
      if (seen == kMaxPosition) break;
      first = seen + 1;
    } else {
      last = seen - 1;
    }
  }
  return out;
}

// One pipeline of XRANGEs (to every master concerned on a cluster) for the plain ascending
// reads, each for one page at most, so that Redis never serialises a batch's whole histories
// in one go; a stream that fills its page is read on from there, alone. The other reads
// (descending, limited) go one by one first, before the lease is taken.
std::vector<std::vector<SequencedRecord>> RedisRecordManager::read_many(
    const std::vector<SequenceRead>& reads) const {
  std::vector<std::vector<SequencedRecord>> out(reads.size());
  struct Piped {
    std::size_t index;
    std::int64_t first, last;
  };
  std::vector<Piped> piped;
  for (std::size_t i = 0; i < reads.size(); ++i) {
    const auto& query = reads[i].query;
    if (!query.ascending || query.limit) {
      out[i] = read(reads[i].id, query);
    } else if (auto range = query.range()) {
      // As read(): versions start at 0, so a range below it is empty.
      const std::int64_t first = std::max<std::int64_t>(range->first, 0);
      if (range->second >= first) piped.push_back({i, first, range->second});
    }
  }
  if (piped.empty()) return out;
  const auto page =
      static_cast<std::int64_t>(std::clamp<std::size_t>(options_.read_page_size, 1, 1 << 20));
  std::vector<std::size_t> full;  // indexes into `piped` whose page came back full
  {
    auto lease = pool_->acquire();
    for (const auto& p : piped) {
      RedisArgs args{"XRANGE"};
      args.add_copy(keys_.entity(reads[p.index].id)).add(p.first);
      if (p.last == kMaxPosition) {
        args.add("+");
      } else {
        args.add(p.last);
      }
      args.add("COUNT").add(page);
      lease->append(args);
    }
    for (std::size_t k = 0; k < piped.size(); ++k) {
      const auto& id = reads[piped[k].index].id;
      auto reply = lease->read_reply();
      if (reply.is_error())
        throw_read_error(reply.view(), "reading the events of " + to_string(id));
      auto& records = out[piped[k].index];
      records.reserve(reply.size());
      for (std::size_t j = 0; j < reply.size(); ++j) records.push_back(decode_entry(reply[j], id));
      if (static_cast<std::int64_t>(reply.size()) == page) full.push_back(k);
    }
  }
  for (auto k : full) {
    auto& records = out[piped[k].index];
    const auto seen = records.back().position;
    if (seen >= piped[k].last) continue;
    ReadQuery rest;
    rest.gt = seen;
    rest.lte = piped[k].last;
    auto more = read(reads[piped[k].index].id, rest);
    records.insert(records.end(), std::make_move_iterator(more.begin()),
                   std::make_move_iterator(more.end()));
  }
  return out;
}

void RedisRecordManager::read_pages(const Uuid& id, const ReadQuery& query,
                                    const PageHandler& on_page) const {
  auto range = query.range();
  if (!query.ascending || query.limit || !range || range->second < range->first) {
    RecordManager::read_pages(id, query, on_page);
    return;
  }
  auto lease = pool_->acquire();
  read_pages_ahead(*lease, keys_.entity(id), id, std::max<std::int64_t>(range->first, 0),
                   range->second, on_page);
}

// Reads versions [first, last]. The first round trip asks for the first page by COUNT (which
// skips a deleted prefix) and for the highest version in range; a longer stream is then read
// in fixed version ranges (entry IDs are versions), one page ahead of the one being handled:
// Redis serialises the next page while the caller works on the current one.
void RedisRecordManager::read_pages_ahead(RedisConnection& connection, const std::string& key,
                                          const Uuid& id, std::int64_t first, std::int64_t last,
                                          const PageHandler& on_page) const {
  if (last < first) return;
  const auto page =
      static_cast<std::int64_t>(std::clamp<std::size_t>(options_.read_page_size, 1, 1 << 20));
  const std::string lo = std::to_string(first);
  const std::string hi = last == kMaxPosition ? "+" : std::to_string(last);
  const std::string count = std::to_string(page);
  connection.append(RedisArgs{"XRANGE", key, lo, hi, "COUNT", count});
  connection.append(RedisArgs{"XREVRANGE", key, hi, lo, "COUNT", "1"});
  auto head = connection.read_reply();
  auto top = connection.read_reply();
  const std::string what = "reading the events of " + to_string(id);
  if (head.is_error()) throw_read_error(head.view(), what);
  if (top.is_error()) throw_read_error(top.view(), what);
  std::vector<SequencedRecord> records;
  records.reserve(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) records.push_back(decode_entry(head[i], id));
  if (records.empty()) return;
  const bool more = static_cast<std::int64_t>(head.size()) == page && top.size() > 0;
  if (more) {
    const auto highest = parse_exact_id(top[0][0].str());
    if (!highest) throw RecordDecodingError("a stream's top entry id is not of the form <n>-1");
    last = std::min(last, *highest);
  }
  // The pages still to request are [next, last]; none when the first page reached `last`
  // (compared before adding 1, so that a version of INT64_MAX cannot overflow).
  bool pages_left = more && records.back().position < last;
  std::int64_t next = pages_left ? records.back().position + 1 : last;
  auto send_next_page = [&] {
    const std::int64_t to = last - next < page ? last : next + page - 1;
    const std::string from_text = std::to_string(next), to_text = std::to_string(to);
    connection.append(RedisArgs{"XRANGE", key, from_text, to_text});
    connection.flush();
    pages_left = to < last;
    if (pages_left) next = to + 1;
  };
  if (pages_left) send_next_page();
  if (pages_left) send_next_page();
  on_page(std::move(records));
  while (connection.pending() > 0) {
    auto reply = connection.read_reply();
    if (pages_left) send_next_page();
    if (reply.is_error()) throw_read_error(reply.view(), what);
    records.clear();
    records.reserve(reply.size());
    for (std::size_t i = 0; i < reply.size(); ++i) records.push_back(decode_entry(reply[i], id));
    if (!records.empty()) on_page(std::move(records));
  }
}

std::int64_t RedisRecordManager::highest_of(RedisConnection& connection,
                                            const std::string& key) const {
  auto top = connection.command({"XREVRANGE", key, "+", "-", "COUNT", "1"});
  if (top.is_error()) throw_read_error(top.view(), "reading the top of a stream");
  if (top.size() > 0) {
    auto id = parse_exact_id(top[0][0].str());
    if (!id) throw RecordDecodingError("a stream's top entry id is not of the form <n>-1");
    return *id;
  }
  // Empty or missing: an emptied stream keeps its last generated id.
  auto info = connection.command({"XINFO", "STREAM", key});
  if (info.is_error()) {
    if (info.str().find("no such key") != std::string_view::npos) return -1;
    throw_read_error(info.view(), "reading a stream's last id");
  }
  for (std::size_t i = 0; i + 1 < info.size(); i += 2) {
    if (info[i].str() == "last-generated-id") {
      auto id = info[i + 1].str();
      if (id == "0-0") return -1;
      auto ms = parse_id_ms(id);
      if (!ms) throw RecordDecodingError("a stream's last generated id is malformed");
      return *ms;
    }
  }
  throw RecordDecodingError("XINFO STREAM gave no last-generated-id");
}

std::int64_t RedisRecordManager::highest_position(const Uuid& id) const {
  auto lease = pool_->acquire();
  return highest_of(*lease, keys_.entity(id));
}

SequenceIdPage RedisRecordManager::list_sequence_ids(const std::string& cursor,
                                                     std::size_t count) const {
  std::string next = cursor.empty() ? "0" : cursor;
  for (char c : next) {
    if (c < '0' || c > '9') throw InvalidInput("bad sequence-id cursor");
  }
  const std::string pattern = keys_.entity_pattern();
  SequenceIdPage page;
  auto lease = pool_->acquire();
  // SCAN may return empty pages; go on until something is found or the scan is complete.
  do {
    auto step = scan_step(*lease, next, pattern, std::max<std::size_t>(count, 1));
    next = std::move(step.next_cursor);
    for (const auto& key : step.keys) {
      auto id = keys_.entity_id_of(key);
      if (!id) {
        throw RecordDecodingError("a key named like an entity stream has no valid entity id");
      }
      page.ids.push_back(*id);
    }
  } while (page.ids.empty() && next != "0");
  if (next != "0") page.next_cursor = next;
  return page;
}

void RedisRecordManager::delete_records(const Uuid& id, std::int64_t to_position) {
  if (to_position < 0) return;
  const std::string key = keys_.entity(id);
  const std::string deleted_key = keys_.deleted(keys_.partition_of(id));
  const std::string uuid = to_string(id);
  const std::string to = std::to_string(to_position);
  const std::string page = std::to_string(options_.read_page_size);
  auto lease = pool_->acquire();
  for (;;) {
    auto reply = lease->command({"XRANGE", key, "-", to, "COUNT", page});
    if (reply.is_error()) throw_read_error(reply.view(), "deleting events of " + to_string(id));
    if (reply.size() == 0) return;
    // Mark the entity first: from its first XDEL on, the append script no longer reads its
    // version off the stream's length.
    std::vector<RedisArgs> commands;
    commands.push_back(RedisArgs{"SADD", deleted_key, uuid});
    RedisArgs del{"XDEL", key};
    for (std::size_t k = 0; k < reply.size(); ++k) del.add(reply[k][0].str());
    commands.push_back(std::move(del));
    for (const auto& r : lease->pipeline(commands)) {
      if (r.is_error()) throw_redis_error(r.view(), "deleting events of " + to_string(id));
    }
    if (reply.size() < options_.read_page_size) return;
  }
}

std::vector<Notification> RedisRecordManager::read_notifications(int partition, std::int64_t start,
                                                                 std::size_t limit) const {
  if (partition < 0 || partition >= partitions()) throw InvalidInput("no such partition");
  if (start < 1) throw InvalidInput("notification positions start at 1");
  std::vector<Notification> out;
  const std::string key = keys_.log(partition);
  auto lease = pool_->acquire();
  std::int64_t from = start;
  // Bounded by position, not by entry count: an entry lists a group of events, so the
  // entries whose last event lies in from..to, then the one entry reaching past `to` (it
  // may hold some of them too). Only the first and the last entry can reach outside the
  // page. A sound log fills the page in one round trip; one with gaps (entries deleted by
  // hand) takes another from past the gap.
  while (out.size() < limit) {
    const std::int64_t to = from + position_span(limit - out.size()) - 1;
    auto replies = lease->pipeline(
        {RedisArgs{"XRANGE", key}.add(from).add(to),
         RedisArgs{"XRANGE", key}.add(to + 1).add("+").add("COUNT").add(std::int64_t{1})});
    for (const auto& reply : replies) {
      if (reply.is_error()) throw_read_error(reply.view(), "reading the notification log");
      for (std::size_t i = 0; i < reply.size(); ++i) decode_log_entry(reply[i], partition, out);
    }
    drop_before(out, start);
    if (replies[1].size() == 0 || out.empty()) break;  // the end of the log
    from = out.back().position + 1;
  }
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::int64_t RedisRecordManager::last_notification_position(int partition) const {
  if (partition < 0 || partition >= partitions()) throw InvalidInput("no such partition");
  auto lease = pool_->acquire();
  return std::max<std::int64_t>(0, highest_of(*lease, keys_.log(partition)));
}

std::string RedisRecordManager::shard_of(const Uuid& id) const {
  const auto& map = pool_->cluster_map();
  if (!map || map->mode() != RedisClusterMap::Mode::cluster) return {};
  try {
    return map->master_of(redis_key_slot(keys_.entity(id)));
  } catch (const StoreUnavailable&) {
    return {};  // no master known for it: one part with the others the map cannot place
  }
}

}  // namespace es
