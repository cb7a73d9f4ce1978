// A domain event: the immutable, hash-chained record of one change to one entity.
#pragma once

#include "domain/uuid.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

namespace es {

// Names of the envelope fields every stored event has (DESIGN.md "Stored event format").
namespace field {
inline constexpr const char* originator_id = "originator_id";
inline constexpr const char* originator_version = "originator_version";
inline constexpr const char* timestamp = "timestamp";
inline constexpr const char* topic = "topic";
inline constexpr const char* previous_hash = "previous_hash";
inline constexpr const char* event_hash = "event_hash";
// Present only on events whose type's schema version is above 1.
inline constexpr const char* schema_version = "schema_version";
}  // namespace field

// True when `name` is an envelope field, which an event's own data may not use.
bool is_envelope_field(std::string_view name);

class Event {
 public:
  // A new event; its hash is computed from all its other fields. Throws InvalidInput when
  // `data` uses an envelope field name or holds a value canonical JSON cannot encode.
  static Event create(const Uuid& originator_id, std::int64_t originator_version,
                      std::int64_t timestamp, std::string topic, std::string previous_hash,
                      boost::json::object data, int schema_version = 1);

  // An event as decoded from storage. `hash_matches` says whether the stored event_hash
  // recomputed from the stored state (checked before any upcasting changed `data`).
  static Event restore(const Uuid& originator_id, std::int64_t originator_version,
                       std::int64_t timestamp, std::string topic, std::string previous_hash,
                       std::string event_hash, boost::json::object data, int schema_version,
                       bool hash_matches);

  const Uuid& originator_id() const { return originator_id_; }
  std::int64_t originator_version() const { return originator_version_; }
  std::int64_t timestamp() const { return timestamp_; }
  const std::string& topic() const { return topic_; }
  const std::string& previous_hash() const { return previous_hash_; }
  const std::string& event_hash() const { return event_hash_; }
  // The event's own fields (for a bank account's Deposited: amount).
  const boost::json::object& data() const { return data_; }
  int schema_version() const { return schema_version_; }
  bool hash_matches() const { return hash_matches_; }

  // The whole stored state: envelope fields, own fields, and event_hash.
  boost::json::object state() const;
  // Canonical JSON (RFC 8785) of state(): the exact stored text when no cipher is used.
  // Kept from create(), so encoding a new event serialises it once.
  std::string canonical_text() const;

  // Events are equal when their states are equal.
  friend bool operator==(const Event& a, const Event& b);
  friend bool operator!=(const Event& a, const Event& b) { return !(a == b); }

 private:
  Event() = default;
  // The state without event_hash, whose canonical JSON the hash is taken over.
  boost::json::object hashed_state() const;

  Uuid originator_id_{};
  std::int64_t originator_version_ = 0;
  std::int64_t timestamp_ = 0;
  std::string topic_;
  std::string previous_hash_;
  std::string event_hash_;
  std::string canonical_text_;  // set by create(); empty for restored events
  boost::json::object data_;
  int schema_version_ = 1;
  bool hash_matches_ = true;
};

// Lowercase hex SHA-256 of the canonical JSON of `state_without_hash`.
std::string compute_event_hash(const boost::json::object& state_without_hash);

}  // namespace es
