// A snapshot: an entity's whole state at one version, kept in the snapshot store so that
// loading an entity replays only the events after it.
#pragma once

#include "domain/uuid.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>

namespace es {

struct Snapshot {
  Uuid originator_id{};
  std::int64_t originator_version = -1;
  std::string topic;         // the entity type's topic, e.g. "bank.Account"
  boost::json::value state;  // the entity's state; null when it was discarded
  std::int64_t timestamp = 0;

  friend bool operator==(const Snapshot& a, const Snapshot& b) {
    return a.originator_id == b.originator_id && a.originator_version == b.originator_version &&
           a.topic == b.topic && a.state == b.state && a.timestamp == b.timestamp;
  }
  friend bool operator!=(const Snapshot& a, const Snapshot& b) { return !(a == b); }
};

}  // namespace es
