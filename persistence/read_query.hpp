// Bounds for reading one sequence: positions gt/gte/lt/lte, a limit, and the direction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace es {

struct ReadQuery {
  std::optional<std::int64_t> gt, gte, lt, lte;
  std::optional<std::size_t> limit;
  bool ascending = true;

  // The inclusive range [first, last] of positions the bounds admit; nothing when empty.
  std::optional<std::pair<std::int64_t, std::int64_t>> range() const;
};

}  // namespace es
