// Message types shared by every entity type's protocol. Each has an inspect() so CAF can
// serialize it between nodes; local-only payloads are marked as such at the bottom.
#pragma once

#include "domain/event.hpp"
#include "domain/sequenced_record.hpp"
#include "persistence/record_manager.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace es {

// One stored event, decoded, as GET /examples/<id>/events shows it.
struct EventView {
  std::int64_t version = 0;
  std::string topic;
  std::int64_t timestamp = 0;
  std::string previous_hash;
  std::string hash;
  std::string data_json;  // the event's own fields as canonical JSON ("{}" when none)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, EventView& x) {
  return f(caf::meta::type_name("es.EventView"), x.version, x.topic, x.timestamp, x.previous_hash,
           x.hash, x.data_json);
}

// One page of an entity's stored events, in version order: those after a version, at most a
// limit; `more` when events remain after the last one.
struct EventPage {
  std::vector<EventView> events;
  bool more = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, EventPage& x) {
  return f(caf::meta::type_name("es.EventPage"), x.events, x.more);
}

// The largest page of events one request reads (HTTP_API.md: /events ?limit maximum).
inline constexpr std::int64_t kMaxEventPage = 10000;

// The answer to a take-snapshot command.
struct SnapshotTaken {
  std::int64_t version = -1;
  bool created = false;  // false when the latest snapshot was already current
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SnapshotTaken& x) {
  return f(caf::meta::type_name("es.SnapshotTaken"), x.version, x.created);
}

struct RepositoryStats {
  std::int64_t hosted = 0;      // live entity actors
  std::int64_t in_flight = 0;   // commands accepted and not yet answered
  std::int64_t recovered = 0;   // entity actors rebuilt from the store since start
  std::int64_t passivated = 0;  // idle, evicted or released
  std::int64_t crashed = 0;
  std::int64_t evicted = 0;  // passivated to stay under max_live_entities
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RepositoryStats& x) {
  return f(caf::meta::type_name("es.RepositoryStats"), x.hosted, x.in_flight, x.recovered,
           x.passivated, x.crashed, x.evicted);
}

// What a loader read of one entity: its latest snapshot at or below a version (if asked
// and present) and the events after it. Local only.
struct StoredHistory {
  bool has_snapshot = false;
  SequencedRecord snapshot;
  std::vector<Event> events;  // decoded by the loader, page by page as they were read
  // Why decoding stopped (a corrupt or unknown stored event): the entity reports it.
  caf::error failure;
};

}  // namespace es

// Payloads that only ever travel between actors of one process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::StoredHistory)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::AppendRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::SequencedRecord)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::Uuid)
