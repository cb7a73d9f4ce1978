// Why: decoding stored events is the hot path of every recovery. The events this library
// writes are canonical JSON (compact, keys sorted) whose envelope values are plain ASCII
// strings and integers, so for that exact form the envelope can be read straight from the
// bytes, and only the event's own values go through the JSON parser. Anything else (another
// writer's layout, escapes, duplicates, malformed text) is left to the general decoder in
// EventMapper, which also gives the precise error.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace es {

// What scan_canonical_event read. The views point into the scanned text.
struct ScannedEvent {
  std::optional<std::string_view> event_hash, originator_id, topic, previous_hash;
  std::optional<std::int64_t> originator_version, timestamp, schema_version;
  boost::json::object data;  // the event's own members
  // The text without its "event_hash" member (and the comma that joined it): the bytes the
  // hash was computed over, in two pieces.
  std::string_view before_hash, after_hash;
};

// Reads `text` when it has the canonical form described above; nothing when it has not
// (never throws for bad input). `max_depth` bounds the nesting of the whole object.
std::optional<ScannedEvent> scan_canonical_event(std::string_view text, std::size_t max_depth);

}  // namespace es
