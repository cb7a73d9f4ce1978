// The mapper: events to stored records and back, with and without the cipher, and every
// decoding failure as a typed error.
#include "domain/mapper.hpp"
#include "domain/base64.hpp"
#include "domain/canonical_json.hpp"
#include "domain/sha256.hpp"
#include "samples/example/example.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fstream>

using namespace es;
namespace json = boost::json;

namespace {

std::vector<SequencedRecord> vector_chain() {
  std::ifstream in(std::string(ES_TEST_DATA_DIR) + "/example-chain.jsonl");
  std::vector<SequencedRecord> out;
  std::string line;
  while (std::getline(in, line)) {
    auto entry = json::parse(line).as_object();
    auto state = json::parse(entry.at("state").as_string()).as_object();
    out.push_back({*parse_uuid(state.at("originator_id").as_string()),
                   state.at("originator_version").as_int64(),
                   std::string(entry.at("topic").as_string()),
                   std::string(entry.at("state").as_string())});
  }
  return out;
}

std::shared_ptr<const AesGcmCipher> test_cipher() {
  return std::make_shared<AesGcmCipher>(std::string("0123456789abcdef"));
}

SequencedRecord first_record() {
  return vector_chain().at(0);
}

}  // namespace

TEST_CASE("the shared vector chain decodes, verifies and re-encodes byte for byte", "[mapper]") {
  Example::register_types();
  EventMapper mapper;
  auto records = vector_chain();
  REQUIRE(records.size() == 5);
  Example e;
  for (const auto& r : records) {
    Event event = mapper.from_record(r);
    CHECK(event.hash_matches());
    e.apply(event);
    CHECK(mapper.to_record(event) == r);  // byte-exact re-encoding
  }
  CHECK(e.is_discarded());
  CHECK(e.version() == 4);
  CHECK(e.a() == 50);
  // \u0001, \u001f, then a raw DEL: JCS escapes only characters below U+0020.
  const std::string expected_foo{char(1), char(31), char(127)};
  CHECK(std::string(e.foo().as_string()) == expected_foo);
  CHECK(e.count_heartbeats() == 1);
}

TEST_CASE("a stored state in another key order or layout still verifies by its canonical hash",
          "[mapper]") {
  Example::register_types();
  EventMapper mapper;
  for (auto record : vector_chain()) {
    auto state = parse_stored_object(record.state);
    json::object reversed;
    std::vector<std::string> keys;
    for (const auto& kv : state) keys.emplace_back(kv.key());
    for (auto it = keys.rbegin(); it != keys.rend(); ++it) reversed[*it] = state.at(*it);
    record.state = " " + json::serialize(reversed) + " ";
    Event e = mapper.from_record(record);
    CHECK(e.hash_matches());
  }
}

TEST_CASE("events round-trip through the cipher and the stored state is not plaintext",
          "[mapper][cipher]") {
  Example::register_types();
  EventMapper plain;
  EventMapper sealed(test_cipher());
  Example e = create_new_example("secret value", 10, 20);
  e.set_a(50);
  for (const auto& event : e.collect_pending_events()) {
    auto record = sealed.to_record(event);
    CHECK(record.state.find("secret") == std::string::npos);
    CHECK(record.state.find("originator_id") == std::string::npos);
    CHECK(base64_decode(record.state).has_value());
    CHECK(sealed.from_record(record) == event);
    // Without the key the record does not decode.
    CHECK_THROWS_AS(plain.from_record(record), RecordDecodingError);
  }
  EventMapper wrong_key(std::make_shared<AesGcmCipher>(std::string("fedcba9876543210")));
  auto record = sealed.to_record(create_new_example().collect_pending_events().at(0));
  CHECK_THROWS_AS(wrong_key.from_record(record), RecordDecodingError);
  CHECK_THROWS_AS(wrong_key.from_record(record), DataIntegrityError);
}

TEST_CASE("snapshots round-trip through the mapper", "[mapper][snapshot]") {
  Example e = create_new_example("a", 1, json::array{true});
  Snapshot s = e.take_snapshot();
  for (EventMapper mapper : {EventMapper(), EventMapper(test_cipher())}) {
    auto record = mapper.snapshot_to_record(s);
    CHECK(record.topic == "example.Example");
    CHECK(record.position == 0);
    CHECK(mapper.snapshot_from_record(record) == s);
  }
}

TEST_CASE("every decoding failure is a typed error", "[mapper][errors]") {
  Example::register_types();
  EventMapper mapper;
  EventMapper sealed(test_cipher());
  SequencedRecord good = first_record();
  auto with_state = [&](std::string state) {
    SequencedRecord r = good;
    r.state = std::move(state);
    return r;
  };
  auto state_object = parse_stored_object(good.state);
  auto edited = [&](auto&& edit) {
    json::object o = state_object;
    edit(o);
    return with_state(canonical_json(o));
  };

  SECTION("unknown topic") {
    SequencedRecord r = good;
    r.topic = "example.Example.Exploded";
    CHECK_THROWS_AS(mapper.from_record(r), TopicResolutionError);
  }
  SECTION("truncated JSON") {
    CHECK_THROWS_AS(mapper.from_record(with_state(good.state.substr(0, 40))), RecordDecodingError);
  }
  SECTION("not JSON at all") {
    CHECK_THROWS_AS(mapper.from_record(with_state("hello")), RecordDecodingError);
    CHECK_THROWS_AS(mapper.from_record(with_state("")), RecordDecodingError);
  }
  SECTION("JSON that is not an object") {
    CHECK_THROWS_AS(mapper.from_record(with_state("[1,2]")), RecordDecodingError);
    CHECK_THROWS_AS(mapper.from_record(with_state("\"x\"")), RecordDecodingError);
  }
  SECTION("missing envelope fields") {
    for (const char* name : {"originator_id", "originator_version", "timestamp", "topic",
                             "previous_hash", "event_hash"}) {
      INFO(name);
      CHECK_THROWS_AS(mapper.from_record(edited([&](json::object& o) { o.erase(name); })),
                      RecordDecodingError);
    }
  }
  SECTION("mistyped envelope fields") {
    CHECK_THROWS_AS(mapper.from_record(edited([](json::object& o) { o["originator_id"] = 5; })),
                    RecordDecodingError);
    CHECK_THROWS_AS(
        mapper.from_record(edited([](json::object& o) { o["originator_id"] = "not-a-uuid"; })),
        RecordDecodingError);
    CHECK_THROWS_AS(
        mapper.from_record(edited([](json::object& o) { o["originator_version"] = "0"; })),
        RecordDecodingError);
    CHECK_THROWS_AS(
        mapper.from_record(edited([](json::object& o) { o["originator_version"] = 0.5; })),
        RecordDecodingError);
    CHECK_THROWS_AS(mapper.from_record(edited([](json::object& o) { o["timestamp"] = nullptr; })),
                    RecordDecodingError);
    CHECK_THROWS_AS(mapper.from_record(edited([](json::object& o) { o["event_hash"] = 1; })),
                    RecordDecodingError);
    CHECK_THROWS_AS(mapper.from_record(
                        edited([](json::object& o) { o["topic"] = "example.Example.Heartbeat"; })),
                    RecordDecodingError);
  }
  SECTION("missing or mistyped own fields") {
    CHECK_THROWS_AS(mapper.from_record(edited([](json::object& o) { o.erase("foo"); })),
                    RecordDecodingError);
    auto changed = vector_chain().at(1);
    auto o = parse_stored_object(changed.state);
    o["name"] = "c";
    changed.state = canonical_json(o);
    CHECK_THROWS_AS(mapper.from_record(changed), RecordDecodingError);
    o["name"] = 7;
    changed.state = canonical_json(o);
    CHECK_THROWS_AS(mapper.from_record(changed), RecordDecodingError);
  }
  SECTION("a changed field still decodes, but its hash no longer matches") {
    auto r = edited([](json::object& o) { o["a"] = 3; });
    Event e = mapper.from_record(r);
    CHECK_FALSE(e.hash_matches());
    Example entity;
    CHECK_THROWS_AS(entity.apply(e), EventHashError);
  }
  SECTION("cipher failures: bad base64, failed tag, truncated") {
    auto sealed_record = sealed.to_record(create_new_example().collect_pending_events().at(0));
    SequencedRecord r = sealed_record;
    r.state = "!!!not base64!!!";
    CHECK_THROWS_AS(sealed.from_record(r), RecordDecodingError);
    r.state = sealed_record.state.substr(0, 20);
    CHECK_THROWS_AS(sealed.from_record(r), RecordDecodingError);
    auto raw = *base64_decode(sealed_record.state);
    raw[raw.size() - 1] ^= 0x01;
    r.state = base64_encode(raw);
    CHECK_THROWS_AS(sealed.from_record(r), RecordDecodingError);
    // Plain JSON given to a store that expects ciphertext.
    CHECK_THROWS_AS(sealed.from_record(good), RecordDecodingError);
  }
}
