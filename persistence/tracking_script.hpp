// Why: exactly-once effects from at-least-once delivery. A projection's writes and the
// position it has applied up to (its tracking record) change together in ONE Lua script per
// partition, so a crash between reading and writing can neither skip nor double-apply: a
// notification at or below the stored position is skipped, the next one applied, a gap
// refused. The tracking part is generic; a projection supplies the Lua body that applies
// one entry. All keys of a call live in one partition's hash slot ({pNN}), so the script
// stays valid on Redis Cluster.
#pragma once

#include "persistence/redis_connection.hpp"
#include "persistence/tracking.hpp"

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace es {

struct TrackedCall {
  // keys[0]: the tracking hash (field `position`); keys[1]: the partition's notification log
  // (nothing is applied past its last entry); the body's keys follow. All in one slot.
  std::vector<std::string> keys;
  std::vector<TrackedEntry> entries;  // ascending positions
};

// The script:  EVALSHA <sha> <k> <tracking hash> <log> <body keys...>  <n> { <first> <last>
// <argc> <arg...> } x n. Every entry is checked (shape and the body's check()) before anything
// is written, because Redis does not roll a script back. An entry past the log's last
// position is refused like a gap (a server that lost the log's tail in a crash). The reply is
// {stored, applied, gap} with gap 0 (none), 1 (a gap) or 2 (beyond the log).
//
// The body is Lua that may use `tracking` (KEYS[1]), `log` (KEYS[2]) and KEYS[3..], and must
// define:
//   local function check(args)           -- nil, or a text saying what is wrong
//   local function apply(args, count)    -- the effect of `count` positions with these args
//   local function finish()              -- after the last apply (flush aggregated writes)
class TrackedScript {
 public:
  explicit TrackedScript(const std::string& body);

  const std::string& source() const { return source_; }

  // Runs the calls in one pipelined round trip (loading the script first when the server
  // does not know it, e.g. after a restart). One result per call, in order. Throws
  // StoreUnavailable / es::Error when a call fails (the calls that ran are then only
  // visible in the store; running them again is harmless).
  std::vector<TrackedResult> run(RedisConnection& connection,
                                 const std::vector<TrackedCall>& calls);

 private:
  std::string load(RedisConnection& connection);

  std::string source_;
  std::mutex mutex_;
  std::string sha_;
};

// Reads the stored positions of tracking hashes (0 where none), pipelined.
std::vector<std::int64_t> read_tracked_positions(RedisConnection& connection,
                                                 const std::vector<std::string>& tracking_keys);

}  // namespace es
