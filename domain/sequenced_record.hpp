// What a store keeps of one event: its position in one sequence (an entity's stream),
// and the two fields of the stored entry, topic and state.
#pragma once

#include "domain/uuid.hpp"

#include <cstdint>
#include <string>

namespace es {

struct SequencedRecord {
  Uuid sequence_id{};
  std::int64_t position = 0;  // the originator_version of the event
  std::string topic;
  std::string state;  // canonical JSON, or base64 of the cipher's output

  friend bool operator==(const SequencedRecord& a, const SequencedRecord& b) {
    return a.sequence_id == b.sequence_id && a.position == b.position && a.topic == b.topic &&
           a.state == b.state;
  }
  friend bool operator!=(const SequencedRecord& a, const SequencedRecord& b) { return !(a == b); }
};

}  // namespace es
