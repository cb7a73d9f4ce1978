#include "domain/clock.hpp"

#include <algorithm>
#include <chrono>

namespace es {

std::int64_t now_micros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t next_timestamp(std::int64_t last_timestamp) {
  return std::max(now_micros(), last_timestamp + 1);
}

}  // namespace es
