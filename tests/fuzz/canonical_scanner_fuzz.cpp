// Differential fuzzing of the canonical event scanner (the fast decoder of stored events)
// against the general decoder.
// - Scanner against parser: when scan_canonical_event accepts a text, parse_json (the
//   stored-state rules, depth 128) accepts it too, and reads the same envelope values and
//   the same own members; the two hashed pieces are exactly the text without the
//   event_hash member.
// - Mapper: the accepted text gets its event_hash recomputed over those pieces (so the fast
//   path's hash check passes, which random mutations almost never do), then
//   EventMapper::from_record decodes it (fast path) and the same text with a trailing space
//   (which the scanner declines: general path). Both accept with the same event, or both
//   reject with the same error.
#include "domain/canonical_event_scanner.hpp"
#include "domain/errors.hpp"
#include "domain/event.hpp"
#include "domain/json_parse.hpp"
#include "domain/mapper.hpp"
#include "domain/sha256.hpp"
#include "samples/example/example.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace {

constexpr std::size_t kMaxStoredDepth = 128;  // as EventMapper

const char* const kStringFields[] = {es::field::event_hash, es::field::originator_id,
                                     es::field::topic, es::field::previous_hash};
const char* const kIntegerFields[] = {es::field::originator_version, es::field::timestamp,
                                      es::field::schema_version};

std::optional<std::string_view> scanned_string(const es::ScannedEvent& s, std::string_view name) {
  if (name == es::field::event_hash) return s.event_hash;
  if (name == es::field::originator_id) return s.originator_id;
  if (name == es::field::topic) return s.topic;
  return s.previous_hash;
}

std::optional<std::int64_t> scanned_integer(const es::ScannedEvent& s, std::string_view name) {
  if (name == es::field::originator_version) return s.originator_version;
  if (name == es::field::timestamp) return s.timestamp;
  return s.schema_version;
}

using Outcome = std::variant<es::Event, std::string>;  // the event, or the error's type: text

Outcome decode(const es::EventMapper& mapper, const es::SequencedRecord& record) {
  try {
    return mapper.from_record(record);
  } catch (const es::RecordDecodingError& e) {
    return std::string("RecordDecodingError: ") + e.what();
  } catch (const es::TopicResolutionError& e) {
    return std::string("TopicResolutionError: ") + e.what();
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("EventMapper::from_record", e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool registered = (es::Example::register_types(), true);
  (void)registered;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto scanned = es::scan_canonical_event(text, kMaxStoredDepth);
  if (!scanned) return 0;  // another form: the general decoder's business alone

  // The general parser accepts what the scanner accepted, with the same values.
  es::JsonParseOptions options;
  options.max_depth = kMaxStoredDepth;
  // As the general decoder (parse_stored_object): a nested object may repeat a key (the last
  // one counts); the top level never does in a scanned text (its keys strictly increase).
  boost::json::value parsed;
  try {
    parsed = es::parse_json(text, options);
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("parse_json of a text the scanner accepted", e.what());
  }
  FUZZ_CHECK(parsed.is_object(), "the scanner accepted a non-object");
  const auto& object = parsed.get_object();
  for (const char* name : kStringFields) {
    const auto* v = object.if_contains(name);
    const auto s = scanned_string(*scanned, name);
    FUZZ_CHECK(s.has_value() == (v != nullptr), "envelope string presence differs");
    if (v) {
      FUZZ_CHECK(v->is_string() && v->get_string() == *s, "envelope string differs");
    }
  }
  for (const char* name : kIntegerFields) {
    const auto* v = object.if_contains(name);
    const auto s = scanned_integer(*scanned, name);
    FUZZ_CHECK(s.has_value() == (v != nullptr), "envelope integer presence differs");
    if (v) FUZZ_CHECK(v->is_int64() && v->get_int64() == *s, "envelope integer differs");
  }
  boost::json::object own;
  for (const auto& kv : object) {
    if (!es::is_envelope_field(kv.key())) own.emplace(kv.key(), kv.value());
  }
  FUZZ_CHECK(own == scanned->data, "own members differ");

  const std::string pieces = std::string(scanned->before_hash) + std::string(scanned->after_hash);
  if (!scanned->event_hash) {
    FUZZ_CHECK(pieces.empty(), "hashed pieces without an event_hash");
    return 0;
  }
  // The pieces are the text around the member (and one comma that joined it)...
  const std::string member = "\"event_hash\":\"" + std::string(*scanned->event_hash) + "\"";
  const std::string before(scanned->before_hash), after(scanned->after_hash);
  FUZZ_CHECK(text == before + member + "," + after || text == before + "," + member + after ||
                 text == before + member + after,
             "the hashed pieces are not the text around the event_hash member");
  // ... and they are the state without event_hash.
  boost::json::value hashed;
  try {
    hashed = es::parse_json(pieces, options);
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("parse_json of the hashed pieces", e.what());
  }
  boost::json::object without_hash = object;
  without_hash.erase(es::field::event_hash);
  FUZZ_CHECK(hashed == without_hash, "the hashed pieces are not the state without event_hash");

  // The mapper: the fast path against the general path, on a text whose hash is right.
  if (!scanned->topic) return 0;
  std::string fixed(text);
  const std::size_t at = before.size() + (text[before.size()] == ',' ? 1 : 0);
  FUZZ_CHECK(text.substr(at, member.size()) == member, "event_hash member not found");
  fixed.replace(at, member.size(), "\"event_hash\":\"" + es::sha256_hex(pieces) + "\"");

  es::SequencedRecord record;
  record.topic = std::string(*scanned->topic);
  record.state = fixed;
  const es::EventMapper mapper;
  const Outcome fast = decode(mapper, record);
  record.state.push_back(' ');
  FUZZ_CHECK(!es::scan_canonical_event(record.state, kMaxStoredDepth), "trailing space scanned");
  const Outcome general = decode(mapper, record);

  FUZZ_CHECK(fast.index() == general.index(), "one path accepts, the other rejects");
  if (const auto* error = std::get_if<std::string>(&fast)) {
    FUZZ_CHECK(*error == std::get<std::string>(general), "the paths fail differently");
    return 0;
  }
  const auto& a = std::get<es::Event>(fast);
  const auto& b = std::get<es::Event>(general);
  FUZZ_CHECK(a.originator_id() == b.originator_id(), "originator_id differs");
  FUZZ_CHECK(a.originator_version() == b.originator_version(), "originator_version differs");
  FUZZ_CHECK(a.timestamp() == b.timestamp(), "timestamp differs");
  FUZZ_CHECK(a.topic() == b.topic(), "topic differs");
  FUZZ_CHECK(a.previous_hash() == b.previous_hash(), "previous_hash differs");
  FUZZ_CHECK(a.event_hash() == b.event_hash(), "event_hash differs");
  FUZZ_CHECK(a.schema_version() == b.schema_version(), "schema_version differs");
  FUZZ_CHECK(a.data() == b.data(), "data differs");
  FUZZ_CHECK(a.hash_matches(), "the recomputed hash does not match on the fast path");
  return 0;
}
