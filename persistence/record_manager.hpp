// The record-manager interface: what every event store backend (in memory, Redis streams)
// offers. One sequence per entity, positions = versions, appends version-checked and
// all-or-nothing; a per-partition notification log of every stored event. Thread-safe.
#pragma once

#include "domain/sequenced_record.hpp"
#include "persistence/read_query.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace es {

// One all-or-nothing append to one sequence. `expected_version` is the highest position the
// writer believes the sequence has (-1 for a new sequence); the records must hold positions
// expected_version + 1, + 2, ... in order.
struct AppendRequest {
  Uuid sequence_id{};
  std::int64_t expected_version = -1;
  std::vector<SequencedRecord> records;
};

enum class AppendStatus {
  stored,    // every record stored
  conflict,  // the sequence was not at expected_version: nothing stored
  invalid,   // the request itself is malformed (non-contiguous positions, wrong id): nothing stored
};

struct AppendResult {
  AppendStatus status = AppendStatus::stored;
  std::string message;  // why, when not stored
};

// One entry of a partition's notification log.
struct Notification {
  std::int64_t position = 0;  // 1, 2, 3, ... contiguous within its partition
  Uuid sequence_id{};
  std::int64_t version = 0;
  std::string topic;

  friend bool operator==(const Notification& a, const Notification& b) {
    return a.position == b.position && a.sequence_id == b.sequence_id && a.version == b.version &&
           a.topic == b.topic;
  }
};

// One sequence's part of a read_many() call.
struct SequenceRead {
  Uuid id;
  ReadQuery query;
};

struct SequenceIdPage {
  std::vector<Uuid> ids;
  std::string next_cursor;  // empty when the listing is complete
};

class RecordManager {
 public:
  virtual ~RecordManager() = default;

  // Many appends (for many sequences) in as few round trips as the backend allows; one
  // result per request, in order. A conflict in one never affects another. Throws
  // StoreUnavailable when the backend cannot be reached (then nothing is known stored).
  virtual std::vector<AppendResult> append_batch(const std::vector<AppendRequest>& requests) = 0;

  // One append; ConcurrencyError on a conflict, InvalidInput on a malformed request.
  void append(const AppendRequest& request);

  // Records of one sequence within the query's bounds, in the query's direction.
  virtual std::vector<SequencedRecord> read(const Uuid& id, const ReadQuery& query) const = 0;

  // The same records, handed over page by page as they arrive, so that the caller works on
  // one page while the backend fetches the next (a recovery decodes while Redis reads).
  // This default hands over everything read() returns as one page.
  using PageHandler = std::function<void(std::vector<SequencedRecord>&&)>;
  virtual void read_pages(const Uuid& id, const ReadQuery& query, const PageHandler& on_page) const;

  // The records of many sequences, one result per request, in order: a mass recovery loads
  // many entities in one round trip instead of one each. This default reads them one by one.
  virtual std::vector<std::vector<SequencedRecord>> read_many(
      const std::vector<SequenceRead>& reads) const;

  std::optional<SequencedRecord> most_recent(const Uuid& id) const;

  // The highest position ever stored in the sequence, kept after deletes; -1 when none.
  virtual std::int64_t highest_position(const Uuid& id) const = 0;

  // A page of the ids of all sequences that hold (or held) records; pass the returned
  // cursor back for the next page, starting from "". Ids may repeat across pages.
  virtual SequenceIdPage list_sequence_ids(const std::string& cursor, std::size_t count) const = 0;
  // Every id once, in no particular order.
  std::vector<Uuid> all_sequence_ids() const;

  // Deletes the records at positions <= to_position. The highest position is kept, so a
  // later append still continues after it (Akka's deleteMessagesTo).
  virtual void delete_records(const Uuid& id, std::int64_t to_position) = 0;

  // The notification log.
  virtual int partitions() const = 0;
  // Up to `limit` notifications of `partition` from position `start` (>= 1) on.
  virtual std::vector<Notification> read_notifications(int partition, std::int64_t start,
                                                       std::size_t limit) const = 0;
  // The position of the last notification of `partition` (0 when empty).
  virtual std::int64_t last_notification_position(int partition) const = 0;

  // Whether a call may wait on the network or a disk. The actors give a blocking store its
  // own threads; a store that never waits is called from the scheduler's workers (a thread
  // hop and a futex wake less per group commit).
  virtual bool blocks() const { return true; }

  // Which part of the store serves `id`'s records, when parts fail apart (a Redis Cluster:
  // the master serving the entity's slot); empty for a store of one part. The loaders split
  // a failed batch by it, so that a master that is down fails only the loads it serves.
  virtual std::string shard_of(const Uuid&) const { return {}; }
};

// Checks the shape of an append request (non-empty, right ids, contiguous positions after
// expected_version, topics of one line). Returns an error message, or nothing when it is
// well-formed.
std::optional<std::string> validate_append(const AppendRequest& request);

}  // namespace es
