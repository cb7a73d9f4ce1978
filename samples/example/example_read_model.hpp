// Why: the read model of the sample projection of Example events, behind one interface with
// two backends (in memory for `--store memory` and unit tests; Redis in
// example_read_model_redis.hpp): per partition the applied position (its tracking record),
// the heartbeats counted, the live (not discarded) examples with the index token of their
// foo, and the index of live examples by that token. Changes are applied with the tracking
// rule of tracking.hpp, so redelivered notifications never count twice.
#pragma once

#include "domain/uuid.hpp"
#include "persistence/tracking.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace es {

// What one notification does to the read model.
enum class ExampleChangeKind : char {
  none = 'o',         // another topic, or an event whose data is gone: only the position moves
  created = 'c',      // a live example with `token`
  foo_changed = 'f',  // a live example's foo is now `token`
  heartbeat = 'h',
  discarded = 'd',
};

struct ExampleChange {
  std::int64_t position = 0;
  ExampleChangeKind kind = ExampleChangeKind::none;
  Uuid id{};
  // created / foo_changed: the index token of a string foo; "" when foo is not a string
  // (such examples are live but not indexed).
  std::string token;
};

// The changes of one partition, in ascending position order (holes are refused as gaps).
struct ExampleChanges {
  int partition = 0;
  std::vector<ExampleChange> changes;
};

// GET /stats: live examples, heartbeats (over live and discarded), applied position per
// partition.
struct ExampleStats {
  std::int64_t examples = 0;
  std::int64_t heartbeats = 0;
  std::vector<std::int64_t> positions;  // index = partition
};

// {"examples": N, "heartbeats": N, "position": {"0": N, "1": N, ...}} (HTTP_API.md).
boost::json::object to_json(const ExampleStats& stats);

// Everything one partition of the read model holds (for tests and tools).
struct ExamplePartitionDump {
  std::int64_t position = 0;
  std::int64_t heartbeats = 0;
  std::map<std::string, std::string> live;  // uuid text -> token ("" when not indexed)
  std::set<std::string> index;              // "<token>:<uuid>"
  friend bool operator==(const ExamplePartitionDump& a, const ExamplePartitionDump& b) {
    return a.position == b.position && a.heartbeats == b.heartbeats && a.live == b.live &&
           a.index == b.index;
  }
};

// The tracked entries of a partition's changes: runs of consecutive heartbeats (or of
// changes without effect) become one entry each; args are {kind} or {kind, uuid, token}.
std::vector<TrackedEntry> to_tracked_entries(const std::vector<ExampleChange>& changes);

class ExampleReadModel {
 public:
  virtual ~ExampleReadModel() = default;

  virtual int partitions() const = 0;
  // Applied positions (0: none), in the order asked.
  virtual std::vector<std::int64_t> positions(const std::vector<int>& partitions) const = 0;
  // Applies each partition's changes atomically with its position (tracking rule); one
  // result per batch, in order. Throws StoreUnavailable when the store cannot be reached.
  virtual std::vector<TrackedResult> apply(const std::vector<ExampleChanges>& batches) = 0;
  virtual ExampleStats stats() const = 0;
  // The ids (uuid text, sorted) of live examples whose foo has this token.
  virtual std::vector<std::string> ids_with_token(const std::string& token) const = 0;
  // Forgets everything (positions back to 0), partition by partition atomically.
  virtual void clear() = 0;
  virtual std::vector<ExamplePartitionDump> dump() const = 0;
};

class MemoryExampleReadModel final : public ExampleReadModel {
 public:
  explicit MemoryExampleReadModel(int partitions);

  int partitions() const override { return static_cast<int>(parts_.size()); }
  std::vector<std::int64_t> positions(const std::vector<int>& partitions) const override;
  std::vector<TrackedResult> apply(const std::vector<ExampleChanges>& batches) override;
  ExampleStats stats() const override;
  std::vector<std::string> ids_with_token(const std::string& token) const override;
  void clear() override;
  std::vector<ExamplePartitionDump> dump() const override;

 private:
  mutable std::mutex mutex_;
  std::vector<ExamplePartitionDump> parts_;
};

}  // namespace es
