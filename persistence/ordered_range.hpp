// Reading an ordered map (position -> record) within a ReadQuery, in either direction: what
// every in-memory store does for its range reads.
#pragma once

#include "persistence/read_query.hpp"

#include <cstdint>
#include <iterator>
#include <vector>

namespace es {

template <class Map>
std::vector<typename Map::mapped_type> read_range(const Map& map, const ReadQuery& query) {
  std::vector<typename Map::mapped_type> out;
  auto range = query.range();
  if (!range) return out;
  auto first = map.lower_bound(range->first);
  auto last = map.upper_bound(range->second);
  const std::size_t limit = query.limit.value_or(SIZE_MAX);
  if (query.ascending) {
    for (auto r = first; r != last && out.size() < limit; ++r) out.push_back(r->second);
  } else {
    for (auto r = std::make_reverse_iterator(last);
         r != std::make_reverse_iterator(first) && out.size() < limit; ++r) {
      out.push_back(r->second);
    }
  }
  return out;
}

}  // namespace es
