#include "domain/mapper.hpp"

#include "domain/canonical_event_scanner.hpp"
#include "domain/canonical_json.hpp"
#include "domain/errors.hpp"
#include "domain/event_type.hpp"
#include "domain/json_parse.hpp"
#include "domain/sha256.hpp"

#include <boost/json/monotonic_resource.hpp>

namespace es {

namespace {

// Attribute values may nest up to 64 levels (HTTP_API.md); the envelope adds a few more.
constexpr std::size_t kMaxStoredDepth = 128;

// Canonical JSON writes every number as a double, so an integer field beyond +-(2^53-1)
// would not encode back to the value read (found by tests/fuzz/stored_record_fuzz.cpp): such
// a record is refused rather than decoded into values that change when stored again.
constexpr std::int64_t kMaxExactInteger = (std::int64_t{1} << 53) - 1;

bool exact_in_canonical_json(std::int64_t v) {
  return v >= -kMaxExactInteger && v <= kMaxExactInteger;
}

[[noreturn]] void throw_not_exact(std::string_view name) {
  throw RecordDecodingError("stored field '" + std::string(name) +
                            "' is beyond +-(2^53-1), which canonical JSON cannot hold exactly");
}

std::string take_string(boost::json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end())
    throw RecordDecodingError("stored field '" + std::string(name) + "' is missing");
  if (!it->value().is_string()) {
    throw RecordDecodingError("stored field '" + std::string(name) + "' is not a string");
  }
  return std::string(it->value().get_string());
}

std::int64_t take_int(boost::json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end())
    throw RecordDecodingError("stored field '" + std::string(name) + "' is missing");
  const auto& v = it->value();
  if (v.is_int64()) {
    if (!exact_in_canonical_json(v.get_int64())) throw_not_exact(name);
    return v.get_int64();
  }
  if (v.is_uint64()) throw_not_exact(name);
  throw RecordDecodingError("stored field '" + std::string(name) + "' is not an integer");
}

Uuid take_uuid(boost::json::object& o, std::string_view name) {
  auto id = parse_uuid(take_string(o, name));
  if (!id) throw RecordDecodingError("stored field '" + std::string(name) + "' is not a UUID");
  return *id;
}

}  // namespace

boost::json::object parse_stored_object(std::string_view text, boost::json::storage_ptr storage) {
  // Our own parser: Boost.JSON 1.81 misreads some doubles, which would break hash checks.
  JsonParseOptions options;
  options.max_depth = kMaxStoredDepth;
  boost::json::value v;
  try {
    v = parse_json(text, options, std::move(storage));
  } catch (const InvalidInput& e) {
    throw RecordDecodingError(std::string("stored state is not valid JSON: ") + e.what());
  }
  if (!v.is_object()) throw RecordDecodingError("stored state is not a JSON object");
  return std::move(v.get_object());
}

EventMapper::EventMapper(std::shared_ptr<const AesGcmCipher> cipher, const EventRegistry& registry)
    : cipher_(std::move(cipher)), registry_(registry) {}

std::string EventMapper::seal(std::string text) const {
  return cipher_ ? cipher_->encrypt(text) : text;
}

std::string EventMapper::open(const std::string& state) const {
  return cipher_ ? cipher_->decrypt(state) : state;
}

SequencedRecord EventMapper::to_record(const Event& event) const {
  return {event.originator_id(), event.originator_version(), event.topic(),
          seal(event.canonical_text())};
}

namespace {

// True when SHA-256 of `text` without its `"event_hash":"<hash>"` member is `hash`: the
// stored bytes are exactly the bytes that were hashed. That holds for every event this
// library writes (its stored text is canonical), and spares re-serialising the state.
bool stored_text_matches(std::string_view text, std::string_view hash) {
  std::string member = "\"event_hash\":\"";
  member.append(hash).append("\"");
  const auto at = text.find(member);
  if (at == std::string_view::npos) return false;
  std::string without;
  without.reserve(text.size());
  const auto end = at + member.size();
  if (end < text.size() && text[end] == ',') {
    without.append(text.substr(0, at)).append(text.substr(end + 1));
  } else if (at > 0 && text[at - 1] == ',') {
    without.append(text.substr(0, at - 1)).append(text.substr(end));
  } else {
    without.append(text.substr(0, at)).append(text.substr(end));
  }
  return sha256_hex(without) == hash;
}

}  // namespace

namespace {

const boost::json::value& require_envelope(const boost::json::value* v, const char* name) {
  if (!v) throw RecordDecodingError(std::string("stored field '") + name + "' is missing");
  return *v;
}

std::string envelope_string(const boost::json::value* v, const char* name) {
  const auto& value = require_envelope(v, name);
  if (!value.is_string()) {
    throw RecordDecodingError(std::string("stored field '") + name + "' is not a string");
  }
  return std::string(value.get_string());
}

std::int64_t envelope_int(const boost::json::value* v, const char* name) {
  const auto& value = require_envelope(v, name);
  if (value.is_int64()) {
    if (!exact_in_canonical_json(value.get_int64())) throw_not_exact(name);
    return value.get_int64();
  }
  if (value.is_uint64()) throw_not_exact(name);
  throw RecordDecodingError(std::string("stored field '") + name + "' is not an integer");
}

}  // namespace

Event EventMapper::from_record(const SequencedRecord& record) const {
  if (!registry_.contains(record.topic)) {
    throw TopicResolutionError("unknown event topic: " + record.topic);
  }
  const std::string plain = cipher_ ? cipher_->decrypt(record.state) : std::string();
  const std::string_view text = cipher_ ? std::string_view(plain) : std::string_view(record.state);
  if (auto event = from_canonical_text(text, record)) return std::move(*event);
  // The parsed state is only read from: allocate it from a stack buffer, and copy out the
  // event's own fields.
  unsigned char buffer[4096];
  boost::json::monotonic_resource scratch(buffer, sizeof buffer);
  boost::json::object state = parse_stored_object(text, &scratch);

  // The envelope in one pass over the members; everything else is the event's own data.
  const boost::json::value *hash_v = nullptr, *id_v = nullptr, *version_v = nullptr,
                           *timestamp_v = nullptr, *topic_v = nullptr, *previous_v = nullptr,
                           *schema_v = nullptr;
  std::size_t own = 0;
  for (const auto& kv : state) {
    const auto key = kv.key();
    if (key == field::event_hash)
      hash_v = &kv.value();
    else if (key == field::originator_id)
      id_v = &kv.value();
    else if (key == field::originator_version)
      version_v = &kv.value();
    else if (key == field::timestamp)
      timestamp_v = &kv.value();
    else if (key == field::topic)
      topic_v = &kv.value();
    else if (key == field::previous_hash)
      previous_v = &kv.value();
    else if (key == field::schema_version)
      schema_v = &kv.value();
    else
      ++own;
  }
  std::string event_hash = envelope_string(hash_v, field::event_hash);
  // The hash covers the state as stored, before any upcasting rewrites it. When the stored
  // text is not byte-identical to what was hashed (another writer's layout), the canonical
  // JSON of the parsed state decides, as DESIGN.md defines the hash.
  bool hash_matches = stored_text_matches(text, event_hash);
  if (!hash_matches) {
    boost::json::object without(state);
    without.erase(field::event_hash);
    hash_matches = compute_event_hash(without) == event_hash;
  }
  auto id = parse_uuid(envelope_string(id_v, field::originator_id));
  if (!id) throw RecordDecodingError("stored field 'originator_id' is not a UUID");
  const std::int64_t version = envelope_int(version_v, field::originator_version);
  if (version < 0) throw RecordDecodingError("stored originator_version is negative");
  const std::int64_t timestamp = envelope_int(timestamp_v, field::timestamp);
  std::string topic = envelope_string(topic_v, field::topic);
  if (topic != record.topic) {
    throw RecordDecodingError("stored topic field disagrees with the entry's topic");
  }
  std::string previous_hash = envelope_string(previous_v, field::previous_hash);
  int schema_version = 1;
  if (schema_v) {
    auto v = envelope_int(schema_v, field::schema_version);
    if (v < 1 || v > 1'000'000) throw RecordDecodingError("stored schema_version is out of range");
    schema_version = static_cast<int>(v);
  }
  boost::json::object data;
  if (own) {
    data.reserve(own);
    for (const auto& kv : state) {
      if (!is_envelope_field(kv.key())) data.emplace(kv.key(), kv.value());
    }
  }
  registry_.upcast_and_validate(topic, schema_version, data);
  const int current_version = registry_.schema_version(topic);
  return Event::restore(*id, version, timestamp, std::move(topic), std::move(previous_hash),
                        std::move(event_hash), std::move(data), current_version, hash_matches);
}

std::optional<Event> EventMapper::from_canonical_text(std::string_view text,
                                                      const SequencedRecord& record) const {
  auto scanned = scan_canonical_event(text, kMaxStoredDepth);
  if (!scanned || !scanned->event_hash || !scanned->originator_id || !scanned->topic ||
      !scanned->previous_hash || !scanned->originator_version || !scanned->timestamp) {
    return std::nullopt;
  }
  auto& s = *scanned;
  if (*s.topic != record.topic || *s.originator_version < 0) return std::nullopt;
  if (!exact_in_canonical_json(*s.originator_version) || !exact_in_canonical_json(*s.timestamp)) {
    return std::nullopt;  // the general decoder refuses it
  }
  int schema_version = 1;
  if (s.schema_version) {
    if (*s.schema_version < 1 || *s.schema_version > 1'000'000) return std::nullopt;
    schema_version = static_cast<int>(*s.schema_version);
  }
  auto id = parse_uuid(*s.originator_id);
  if (!id) return std::nullopt;
  // Only bytes that hash to the stored event_hash take this path: a mismatch goes through
  // the general decoder, which also tries the canonical re-encoding.
  if (sha256_hex({s.before_hash, s.after_hash}) != *s.event_hash) return std::nullopt;
  std::string topic(*s.topic);
  registry_.upcast_and_validate(topic, schema_version, s.data);
  const int current_version = registry_.schema_version(topic);
  return Event::restore(*id, *s.originator_version, *s.timestamp, std::move(topic),
                        std::string(*s.previous_hash), std::string(*s.event_hash),
                        std::move(s.data), current_version, true);
}

SequencedRecord EventMapper::snapshot_to_record(const Snapshot& s) const {
  boost::json::object o;
  o[field::originator_id] = to_string(s.originator_id);
  o[field::originator_version] = s.originator_version;
  o[field::timestamp] = s.timestamp;
  o[field::topic] = s.topic;
  o["state"] = s.state;
  return {s.originator_id, s.originator_version, s.topic, seal(canonical_json(o))};
}

Snapshot EventMapper::snapshot_from_record(const SequencedRecord& record) const {
  boost::json::object o = parse_stored_object(open(record.state));
  Snapshot s;
  s.originator_id = take_uuid(o, field::originator_id);
  s.originator_version = take_int(o, field::originator_version);
  s.timestamp = take_int(o, field::timestamp);
  s.topic = take_string(o, field::topic);
  if (s.topic != record.topic) {
    throw RecordDecodingError("stored snapshot topic disagrees with the entry's topic");
  }
  auto it = o.find("state");
  if (it == o.end()) throw RecordDecodingError("stored snapshot has no state");
  s.state = std::move(it->value());
  return s;
}

}  // namespace es

namespace es {

SequencedRecord EventMapper::message_to_record(const LoggedMessage& m) const {
  boost::json::object o;
  o[field::originator_id] = to_string(m.bucket_id);
  o[field::timestamp] = m.timestamp;
  o[field::topic] = LoggedMessage::topic;
  o["message"] = m.message;
  return {m.bucket_id, m.timestamp, std::string(LoggedMessage::topic), seal(canonical_json(o))};
}

LoggedMessage EventMapper::message_from_record(const SequencedRecord& record) const {
  if (record.topic != LoggedMessage::topic) {
    throw TopicResolutionError("not a log message topic: " + record.topic);
  }
  boost::json::object o = parse_stored_object(open(record.state));
  LoggedMessage m;
  m.bucket_id = take_uuid(o, field::originator_id);
  m.timestamp = take_int(o, field::timestamp);
  m.message = take_string(o, "message");
  return m;
}

}  // namespace es
