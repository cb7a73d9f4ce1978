// Turns events and snapshots into stored records and back, optionally through the cipher.
// Decoding never yields a half-built event: every failure is a typed error.
#pragma once

#include "domain/cipher.hpp"
#include "domain/event.hpp"
#include "domain/event_registry.hpp"
#include "domain/sequenced_record.hpp"
#include "domain/snapshot.hpp"
#include "domain/timebucketed_log.hpp"

#include <memory>
#include <optional>

namespace es {

class EventMapper {
 public:
  explicit EventMapper(std::shared_ptr<const AesGcmCipher> cipher = nullptr,
                       const EventRegistry& registry = EventRegistry::global());

  SequencedRecord to_record(const Event& event) const;
  // Throws TopicResolutionError for an unknown topic, RecordDecodingError for anything
  // that does not decode (cipher failure, bad JSON, missing or mistyped field).
  Event from_record(const SequencedRecord& record) const;

  SequencedRecord snapshot_to_record(const Snapshot& snapshot) const;
  Snapshot snapshot_from_record(const SequencedRecord& record) const;

  // Log messages (timebucketed logs): position = timestamp, sequence = bucket id.
  SequencedRecord message_to_record(const LoggedMessage& message) const;
  LoggedMessage message_from_record(const SequencedRecord& record) const;

  bool encrypts() const { return cipher_ != nullptr; }

 private:
  std::string seal(std::string text) const;
  std::string open(const std::string& state) const;
  // The fast decoder for the canonical form this library writes; nothing when `text` is in
  // another form or fails a check (the general decoder then gives the precise error).
  std::optional<Event> from_canonical_text(std::string_view text,
                                           const SequencedRecord& record) const;

  std::shared_ptr<const AesGcmCipher> cipher_;
  const EventRegistry& registry_;
};

// Parses stored JSON text into an object; RecordDecodingError for anything else.
boost::json::object parse_stored_object(std::string_view text,
                                        boost::json::storage_ptr storage = {});

}  // namespace es
