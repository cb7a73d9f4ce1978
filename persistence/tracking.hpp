// Why: the tracking rule of exactly-once projections, stated once for every backend: a
// projection keeps, with its effects, the last position it applied per partition; an entry
// at or below it is skipped, the next one applied, a gap refused (nothing from it on). The
// Redis backend runs the same rule inside a Lua script (tracking_script.hpp); in-memory read
// models call apply_tracked() under their lock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace es {

// Positions first..last of one partition that all have the same effect (`args`); a single
// notification has first == last. Runs of notifications with an additive effect (a counter,
// nothing) can be one entry: the effect is applied with the count of positions it covers.
struct TrackedEntry {
  std::int64_t first = 0;
  std::int64_t last = 0;
  std::vector<std::string> args;
};

struct TrackedResult {
  std::int64_t stored = 0;   // the position stored afterwards
  std::int64_t applied = 0;  // notifications applied
  bool gap = false;          // an entry after stored + 1 was refused (nothing from it on)
  bool beyond_log = false;   // refused because it lies past the log's last position
};

// Applies `entries` (ascending) over `stored` with apply(args, count); updates `stored`.
template <class Apply>
TrackedResult apply_tracked(std::int64_t& stored, const std::vector<TrackedEntry>& entries,
                            Apply&& apply) {
  TrackedResult result;
  for (const auto& e : entries) {
    if (e.last <= stored) continue;  // applied before: skipped
    if (e.first > stored + 1) {
      result.gap = true;  // refused
      break;
    }
    const std::int64_t count = e.last - stored;
    apply(e.args, count);
    result.applied += count;
    stored = e.last;
  }
  result.stored = stored;
  return result;
}

}  // namespace es
