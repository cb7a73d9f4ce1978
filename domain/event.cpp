#include "domain/event.hpp"

#include "domain/canonical_json.hpp"
#include "domain/errors.hpp"
#include "domain/sha256.hpp"

#include <algorithm>
#include <vector>

namespace es {

bool is_envelope_field(std::string_view name) {
  return name == field::originator_id || name == field::originator_version ||
         name == field::timestamp || name == field::topic || name == field::previous_hash ||
         name == field::event_hash || name == field::schema_version;
}

std::string compute_event_hash(const boost::json::object& state_without_hash) {
  return sha256_hex(canonical_json(state_without_hash));
}

namespace {

// One top-level member of an event's state, written without building a json::object.
struct Member {
  std::string_view key;
  const boost::json::value* value = nullptr;  // the event's own fields
  std::string_view text;                      // envelope strings
  std::int64_t number = 0;                    // envelope integers
  enum Kind { json, string, integer } kind = json;
};

void append_member_value(std::string& out, const Member& m) {
  switch (m.kind) {
    case Member::json:
      canonical_json_append(out, *m.value);
      break;
    case Member::string:
      canonical_string_append(out, m.text);
      break;
    case Member::integer:
      canonical_json_append(out, boost::json::value(m.number));
      break;
  }
}

}  // namespace

Event Event::create(const Uuid& originator_id, std::int64_t originator_version,
                    std::int64_t timestamp, std::string topic, std::string previous_hash,
                    boost::json::object data, int schema_version) {
  for (const auto& kv : data) {
    if (is_envelope_field(kv.key())) {
      throw InvalidInput("event data may not use the envelope field '" + std::string(kv.key()) +
                         "'");
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

  // The canonical text without event_hash, written member by member in key order; the
  // stored text is the same with the event_hash member spliced in at its sorted place.
  const std::string id_text = to_string(originator_id);
  std::vector<Member> members;
  members.reserve(e.data_.size() + 6);
  for (const auto& kv : e.data_) {
    members.push_back({kv.key(), &kv.value(), {}, 0, Member::json});
  }
  members.push_back({field::originator_id, nullptr, id_text, 0, Member::string});
  members.push_back({field::originator_version, nullptr, {}, originator_version, Member::integer});
  members.push_back({field::timestamp, nullptr, {}, timestamp, Member::integer});
  members.push_back({field::topic, nullptr, e.topic_, 0, Member::string});
  members.push_back({field::previous_hash, nullptr, e.previous_hash_, 0, Member::string});
  if (schema_version != 1) {
    members.push_back({field::schema_version, nullptr, {}, schema_version, Member::integer});
  }
  std::sort(members.begin(), members.end(),
            [](const Member& a, const Member& b) { return canonical_key_less(a.key, b.key); });
  std::string text;
  text.reserve(512);
  text += '{';
  std::size_t splice_at = std::string::npos;  // where "event_hash":"...", goes
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i) text += ',';
    if (splice_at == std::string::npos && canonical_key_less(field::event_hash, members[i].key)) {
      splice_at = text.size();
    }
    canonical_string_append(text, members[i].key);
    text += ':';
    append_member_value(text, members[i]);
  }
  text += '}';
  e.event_hash_ = sha256_hex(text);
  e.hash_matches_ = true;

  const std::string hash_member = std::string("\"event_hash\":\"") + e.event_hash_ + "\"";
  if (splice_at != std::string::npos) {
    e.canonical_text_.reserve(text.size() + hash_member.size() + 1);
    e.canonical_text_.append(text, 0, splice_at)
        .append(hash_member)
        .append(",")
        .append(text, splice_at, std::string::npos);
  } else {
    e.canonical_text_.reserve(text.size() + hash_member.size() + 1);
    e.canonical_text_.append(text, 0, text.size() - 1);
    if (!members.empty()) e.canonical_text_ += ',';
    e.canonical_text_.append(hash_member).append("}");
  }
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

std::string Event::canonical_text() const {
  return canonical_text_.empty() ? canonical_json(state()) : canonical_text_;
}

bool operator==(const Event& a, const Event& b) {
  return a.originator_id_ == b.originator_id_ && a.originator_version_ == b.originator_version_ &&
         a.timestamp_ == b.timestamp_ && a.topic_ == b.topic_ &&
         a.previous_hash_ == b.previous_hash_ && a.event_hash_ == b.event_hash_ &&
         a.schema_version_ == b.schema_version_ && a.data_ == b.data_;
}

}  // namespace es
