// The fast decoder of stored events: it must read exactly what the writer stores, agree with
// the general decoder on every value, and decline every other form (which the general
// decoder then handles).
#include "domain/canonical_event_scanner.hpp"
#include "domain/canonical_json.hpp"
#include "domain/json_parse.hpp"
#include "domain/mapper.hpp"
#include "samples/example/example.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

using namespace es;
namespace json = boost::json;

namespace {

// Events with every kind of attribute value, as the writer stores them.
std::vector<Event> sample_events() {
  Example::register_types();
  Example e = create_new_example("Hello There!", 10, 20);
  e.set_a(1.5);
  e.set_b(json::parse(R"({"nested":{"list":[1,2.25,"x",null,true,false]},"k":"v"})"));
  e.set_foo("quote \" backslash \\ tab \t control \x01 unicode \xc3\xa9 \xf0\x9f\x98\x80");
  e.set_a(-9007199254740991);
  e.set_b(1e21);
  e.set_a(json::array{});
  e.set_b(json::object{});
  e.set_a(nullptr);
  e.set_b(false);
  e.set_foo("");
  e.beat_heart(2);
  e.discard();
  return e.collect_pending_events();
}

// The event's own members, read by the general parser.
json::object own_members(std::string_view text) {
  json::object out;
  const json::value parsed = parse_json(text);
  for (const auto& kv : parsed.as_object()) {
    if (!is_envelope_field(kv.key())) out.emplace(kv.key(), kv.value());
  }
  return out;
}

// DESIGN.md's definition of the hashed bytes: the canonical JSON without event_hash.
std::string without_hash_member(const std::string& stored) {
  json::value parsed = parse_json(stored);
  auto& state = parsed.as_object();
  state.erase(field::event_hash);
  return canonical_json(state);
}

}  // namespace

TEST_CASE("the canonical scanner reads every event the writer stores", "[mapper][scanner]") {
  EventMapper mapper;
  for (const auto& event : sample_events()) {
    const auto record = mapper.to_record(event);
    INFO(record.state);
    auto scanned = scan_canonical_event(record.state, 128);
    REQUIRE(scanned);
    CHECK(scanned->event_hash == std::optional<std::string_view>(event.event_hash()));
    CHECK(scanned->previous_hash == std::optional<std::string_view>(event.previous_hash()));
    CHECK(scanned->topic == std::optional<std::string_view>(event.topic()));
    CHECK(scanned->originator_id ==
          std::optional<std::string_view>(to_string(event.originator_id())));
    CHECK(scanned->originator_version == event.originator_version());
    CHECK(scanned->timestamp == event.timestamp());
    CHECK_FALSE(scanned->schema_version);
    // The two pieces are exactly the bytes the hash was computed over.
    CHECK(std::string(scanned->before_hash) + std::string(scanned->after_hash) ==
          without_hash_member(record.state));
    // Every own value equals what the general parser reads.
    CHECK(scanned->data == own_members(record.state));
    CHECK(scanned->data == event.data());

    // And the mapper's result is the same event.
    Event decoded = mapper.from_record(record);
    CHECK(decoded.hash_matches());
    CHECK(decoded.data() == event.data());
    CHECK(decoded.event_hash() == event.event_hash());
    CHECK(decoded.previous_hash() == event.previous_hash());
    CHECK(decoded.timestamp() == event.timestamp());
    CHECK(decoded.originator_version() == event.originator_version());
  }
}

TEST_CASE("the canonical scanner declines every other form", "[mapper][scanner]") {
  EventMapper mapper;
  const auto events = sample_events();
  const std::string text = mapper.to_record(events.at(1)).state;  // AttributeChanged a=1.5
  REQUIRE(scan_canonical_event(text, 128));
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string out = text;
    auto at = out.find(from);
    REQUIRE(at != std::string::npos);
    return out.replace(at, from.size(), to);
  };
  const std::string id = to_string(events.at(1).originator_id());
  const std::vector<std::string> others = {
      "",
      "{}",
      "[]",
      " " + text,
      text + " ",
      text + "x",
      text.substr(0, text.size() - 1),
      replace(",", ", "),
      replace(":", " : "),
      replace("\"name\":\"a\",", ""),  // fine JSON, but keys are no longer...
      replace("\"name\":\"a\"", "\"name\":\"a\",\"name\":\"a\""),           // duplicate key
      replace("\"name\":\"a\"", "\"value\":1.5,\"name\":\"a\""),            // unsorted keys
      replace("\"originator_version\":1", "\"originator_version\":01"),     // leading zero
      replace("\"originator_version\":1", "\"originator_version\":1.0"),    // a fraction
      replace("\"originator_version\":1", "\"originator_version\":1e0"),    // an exponent
      replace("\"originator_version\":1", "\"originator_version\":\"1\""),  // a string
      replace("\"originator_version\":1", "\"originator_version\":99999999999999999999"),
      replace("\"topic\":\"example", "\"topic\":\"\\u0065xample"),  // an escape
      replace(id, id.substr(0, 35) + "\xc3\xa9"),                   // not ASCII
      replace("\"name\"", "\"n\\u0061me\""),                        // an escaped key
      replace("\"value\":1.5", "\"value\":1.5,\"z\xc3\xa9\":1"),    // a key not ASCII
      replace("\"value\":1.5", "\"value\":tru"),                    // invalid value
      replace("\"value\":1.5", "\"value\":[1,2"),                   // unbalanced
      replace("\"value\":1.5", "\"value\":\"\xff\""),               // invalid UTF-8
  };
  for (const auto& other : others) {
    INFO(other);
    // The removed member makes the event invalid, not the form: it must still scan.
    if (other == replace("\"name\":\"a\",", "")) {
      CHECK(scan_canonical_event(other, 128));
      continue;
    }
    CHECK_FALSE(scan_canonical_event(other, 128));
  }

  // Nesting beyond the bound is left to the general decoder's error.
  std::string deep =
      replace("\"value\":1.5", "\"value\":" + std::string(10, '[') + std::string(10, ']'));
  CHECK(scan_canonical_event(deep, 128));
  CHECK_FALSE(scan_canonical_event(deep, 10));
  CHECK(scan_canonical_event(deep, 12));
}

TEST_CASE("stored bytes that fail the hash take the general path and fail there",
          "[mapper][scanner]") {
  EventMapper mapper;
  auto record = mapper.to_record(sample_events().at(1));
  auto at = record.state.find("\"value\":1.5");
  REQUIRE(at != std::string::npos);
  record.state.replace(at, 11, "\"value\":2.5");
  REQUIRE(scan_canonical_event(record.state, 128));  // the form is fine, the hash is not
  CHECK_FALSE(mapper.from_record(record).hash_matches());
}
