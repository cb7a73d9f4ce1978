#include "persistence/read_query.hpp"

#include <algorithm>
#include <limits>

namespace es {

std::optional<std::pair<std::int64_t, std::int64_t>> ReadQuery::range() const {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if ((gt && *gt == kMax) || (lt && *lt == kMin)) return std::nullopt;
  std::int64_t first = kMin, last = kMax;
  if (gt) first = std::max(first, *gt + 1);
  if (gte) first = std::max(first, *gte);
  if (lt) last = std::min(last, *lt - 1);
  if (lte) last = std::min(last, *lte);
  if (first > last || (limit && *limit == 0)) return std::nullopt;
  return std::make_pair(first, last);
}

}  // namespace es
