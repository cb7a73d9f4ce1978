// Event timestamps: integer microseconds since the UNIX epoch, UTC.
#pragma once

#include <cstdint>

namespace es {

// The current wall-clock time in microseconds since the epoch.
std::int64_t now_micros();

// The timestamp for an entity's next event: now, but strictly after the entity's latest
// event, so that last_modified always grows even when two events fall in one microsecond.
std::int64_t next_timestamp(std::int64_t last_timestamp);

}  // namespace es
