#include "domain/event.hpp"

#include "domain/canonical_json.hpp"
#include "domain/errors.hpp"
#include "domain/sha256.hpp"

namespace es {

bool is_envelope_field(std::string_view name) {
  return name == field::originator_id || name == field::originator_version ||
         name == field::timestamp || name == field::topic || name == field::previous_hash ||
         name == field::event_hash || name == field::schema_version;
}

std::string compute_event_hash(const boost::json::object& state_without_hash) {
  return sha256_hex(canonical_json(state_without_hash));
}

Event Event::create(const Uuid& originator_id, std::int64_t originator_version,
                    std::int64_t timestamp, std::string topic, std::string previous_hash,
                    boost::json::object data, int schema_version) {
  for (const auto& kv : data) {
    if (is_envelope_field(kv.key())) {
      throw InvalidInput("event data may not use the envelope field '" +
                         std::string(kv.key()) + "'");
    }
  }
  Event e;
  e.originator_id_ = originator_id;
  e.originator_version_ = originator_version;
  e.timestamp_ = timestamp;
  e.topic_ = std::move(topic);
  e.previous_hash_ = std::move(previous_hash);
  e.data_ = std::move(data);
  e.schema_version_ = schema_version;
  e.event_hash_ = compute_event_hash(e.hashed_state());
  e.hash_matches_ = true;
  return e;
}

Event Event::restore(const Uuid& originator_id, std::int64_t originator_version,
                     std::int64_t timestamp, std::string topic, std::string previous_hash,
                     std::string event_hash, boost::json::object data, int schema_version,
                     bool hash_matches) {
  Event e;
  e.originator_id_ = originator_id;
  e.originator_version_ = originator_version;
  e.timestamp_ = timestamp;
  e.topic_ = std::move(topic);
  e.previous_hash_ = std::move(previous_hash);
  e.event_hash_ = std::move(event_hash);
  e.data_ = std::move(data);
  e.schema_version_ = schema_version;
  e.hash_matches_ = hash_matches;
  return e;
}

boost::json::object Event::hashed_state() const {
  boost::json::object state(data_.size() + 7);
  for (const auto& kv : data_) state.emplace(kv.key(), kv.value());
  state.emplace(field::originator_id, to_string(originator_id_));
  state.emplace(field::originator_version, originator_version_);
  state.emplace(field::timestamp, timestamp_);
  state.emplace(field::topic, topic_);
  state.emplace(field::previous_hash, previous_hash_);
  if (schema_version_ != 1) state.emplace(field::schema_version, schema_version_);
  return state;
}

boost::json::object Event::state() const {
  auto s = hashed_state();
  s.emplace(field::event_hash, event_hash_);
  return s;
}

std::string Event::canonical_text() const { return canonical_json(state()); }

bool operator==(const Event& a, const Event& b) {
  return a.originator_id_ == b.originator_id_ &&
         a.originator_version_ == b.originator_version_ && a.timestamp_ == b.timestamp_ &&
         a.topic_ == b.topic_ && a.previous_hash_ == b.previous_hash_ &&
         a.event_hash_ == b.event_hash_ && a.schema_version_ == b.schema_version_ &&
         a.data_ == b.data_;
}

}  // namespace es
