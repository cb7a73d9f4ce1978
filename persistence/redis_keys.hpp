// Why: the key scheme and entry-ID forms of docs/STORAGE.md in one place, shared by the
// record manager, the snapshot store and the log store, plus the options they share and the
// "partition count recorded in Redis" rule (a store opened with another count is refused).
#pragma once

#include "domain/uuid.hpp"
#include "persistence/partitioning.hpp"
#include "persistence/record_manager.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace es {

class RedisReplyView;

class RedisConnection;

struct RedisStoreOptions {
  // First part of every key; no braces, spaces or ":entity:" in it.
  std::string key_prefix = "es";
  // Partitions of a new store; an existing store must have been created with the same count.
  // 0: use the count the store was created with (kDefaultPartitions for a new store).
  int partitions = kDefaultPartitions;
  // Appends per EVALSHA call and their argument bytes (a larger single append goes alone).
  std::size_t max_appends_per_call = 64;
  std::size_t max_bytes_per_call = std::size_t{1} << 20;
  // Appends of several partitions in one script call (fewer calls per append). `detect`: when
  // the server says it is not a Redis Cluster node, where a script may only touch one hash
  // slot. `always`: for a plain Redis whose INFO is not available. Either way a CROSSSLOT
  // refusal (a proxy enforcing slots) turns it off for the store's lifetime.
  enum class CrossPartitionCalls { detect, never, always };
  CrossPartitionCalls cross_partition_calls = CrossPartitionCalls::detect;
  // COUNT of each XRANGE page when reading.
  std::size_t read_page_size = 1000;
  // Durability (Redis WAIT): an append is confirmed only once this many replicas of every
  // master it wrote to have it, within replica_ack_timeout (else StoreUnavailable: stored on
  // the master, not confirmed). 0: confirmed when the master has it (replication is
  // asynchronous: a failover may lose the last writes, see docs/CLUSTER.md).
  int replica_acks = 0;
  std::chrono::milliseconds replica_ack_timeout{1000};
};

// The names of the keys of one store (see docs/STORAGE.md).
class RedisKeys {
 public:
  RedisKeys(std::string prefix, int partitions);

  const std::string& prefix() const { return prefix_; }
  int partitions() const { return partitions_; }

  // {p07}: the hash tag of a partition; two digits, more when partitions > 100.
  std::string tag(int partition) const;
  int partition_of(const Uuid& id) const { return es::partition_of(id, partitions_); }

  std::string meta() const;                                    // es:meta (hash: partitions)
  std::string entity(const Uuid& id) const;                    // es:{p07}:entity:<uuid>
  void append_entity(std::string& out, const Uuid& id) const;  // the same, appended to out
  std::string log(int partition) const;                        // es:{p07}:log
  std::string deleted(int partition) const;                    // es:{p07}:deleted (set of uuids)
  std::string snapshot(const Uuid& id) const;                  // es:{p07}:snapshot:<uuid>
  std::string bucket(const Uuid& id) const;                    // es:log:<uuid>
  // SCAN MATCH pattern of every entity stream (the prefix glob-escaped).
  std::string entity_pattern() const;
  // The uuid of an entity key of this store; nothing when the key is not one.
  std::optional<Uuid> entity_id_of(std::string_view key) const;

 private:
  std::string prefix_;
  int partitions_;
  int digits_;
  std::vector<std::string> entity_prefixes_;  // "es:{p07}:entity:" per partition
};

// Lowercase hyphenated text of a uuid (as es::to_string), without allocations on the way.
void append_uuid(std::string& out, const Uuid& id);

// Checks a key prefix (ConfigurationError when unusable).
void check_key_prefix(const std::string& prefix);

// Records the partition count in `<prefix>:meta` on first use (HSETNX), or checks it against
// the recorded one: ConfigurationError on a mismatch. Returns the count in force.
int open_partitions(RedisConnection& connection, const std::string& prefix, int requested);

// Entry IDs. "<n>-1" -> n (the form the stores write); nothing for any other form.
std::optional<std::int64_t> parse_exact_id(std::string_view id);

// One entry of a partition's notification log (XRANGE/XREAD reply item): its events, in
// position order, appended to `out`, the last at the entry ID's position. Reads the packed
// form (one field `events`) and the two earlier ones ((id, version, topic) per event, one
// event or a group). RecordDecodingError when it is none of the documented forms
// (docs/STORAGE.md); `out` is then left as it was.
void decode_log_entry(const RedisReplyView& entry, int partition, std::vector<Notification>& out);

// One event a log entry lists, as stored: "<id> <version> <topic>\n" in the packed form.
struct LoggedEvent {
  std::string_view id, version, topic;
};
// The next event of a packed `events` value, taken off the front of `rest`; nothing at its
// end, or when the next line is not of that form (then `rest` stays as it was, non-empty).
std::optional<LoggedEvent> next_logged_event(std::string_view& rest);

// The events one notification-log entry lists, read from its fields (names and values as
// Redis returned them, `field(i)` for i < `count`) in position order: the packed form (one
// field `events`, a line per event) or an earlier one ((id, version, topic) fields per
// event). The one reading of the layout for the store's readers and es-verify.
class LoggedEvents {
 public:
  template <class Field>
  LoggedEvents(std::size_t count, const Field& field) {
    if (count == 2 && field(0) == "events") {
      packed_ = true;
      rest_ = field(1);
      const auto lines = std::count(rest_.begin(), rest_.end(), '\n');
      events_ = !rest_.empty() && rest_.back() == '\n' ? static_cast<std::int64_t>(lines) : 0;
      return;
    }
    if (count == 0 || count % 6 != 0) return;
    events_ = static_cast<std::int64_t>(count / 6);
    triples_.reserve(count / 6);
    for (std::size_t i = 0; i < count; i += 6) {
      if (field(i) == "id" && field(i + 2) == "version" && field(i + 4) == "topic") {
        triples_.push_back(LoggedEvent{field(i + 1), field(i + 3), field(i + 5)});
      } else {
        triples_.push_back(std::nullopt);
      }
    }
  }
  // Events listed; 0 when the fields are of none of the documented forms.
  std::int64_t events() const { return events_; }
  bool packed() const { return packed_; }
  // The next event; nothing when it is not of its form (the next call reads the one after).
  std::optional<LoggedEvent> next();

 private:
  bool packed_ = false;
  std::int64_t events_ = 0;
  std::string_view rest_;                            // packed: the lines not read yet
  std::vector<std::optional<LoggedEvent>> triples_;  // earlier forms
  std::size_t read_ = 0;
};
// Decimal digits -> their value; nothing for anything else (a sign, a blank, overflow).
std::optional<std::int64_t> parse_number(std::string_view digits);
// Drops the events before position `first` (an entry read whole may begin before the page).
void drop_before(std::vector<Notification>& events, std::int64_t first);
// A count of log events as a span of positions (readers page the log by position), bounded
// so that adding it to a position cannot overflow (a caller may ask for "everything").
std::int64_t position_span(std::size_t events);
// "<ms>-<seq>" -> ms; nothing for any other form.
std::optional<std::int64_t> parse_id_ms(std::string_view id);

}  // namespace es
