// Ports of the reference's test_entity (lifecycle, attribute, event equality) for Example.
#include "samples/example/example.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace es;
namespace json = boost::json;

TEST_CASE("a new Example has version 0 and its Created event pending", "[example]") {
  auto before = now_micros();
  Example e = create_new_example("", 1, 2);
  CHECK(e.version() == 0);
  CHECK(e.a() == 1);
  CHECK(e.b() == 2);
  CHECK(e.foo() == "");
  CHECK(e.created_on() >= before);
  CHECK(e.created_on() - before < 1'000'000);  // within the last second
  CHECK(e.created_on() == e.last_modified());
  CHECK(e.head() == e.pending_events().at(0).event_hash());
  REQUIRE(e.pending_events().size() == 1);
  const Event& created = e.pending_events()[0];
  CHECK(created.topic() == "example.Example.Created");
  CHECK(created.originator_id() == e.id());
  CHECK(created.originator_version() == 0);
  CHECK(created.previous_hash().empty());
  CHECK(created.data() == json::object{{"foo", ""}, {"a", 1}, {"b", 2}});
}

TEST_CASE("attributes default to the empty string", "[example]") {
  Example e = create_new_example();
  CHECK(e.foo() == "");
  CHECK(e.a() == "");
  CHECK(e.b() == "");
}

TEST_CASE("two Examples with the same values are not equal", "[example]") {
  Example e1 = create_new_example("", 1, 2);
  Example e2 = create_new_example("", 1, 2);
  CHECK(e1 != e2);
  Example copy = e1;
  CHECK(copy == e1);
}

TEST_CASE("changing attributes emits one AttributeChanged each and moves last_modified",
          "[example]") {
  Example e = create_new_example("", 1, 2);
  e.collect_pending_events();
  e.set_a(100);
  e.set_b(-200);
  CHECK(e.a() == 100);
  CHECK(e.b() == -200);
  CHECK(e.version() == 2);
  CHECK(e.last_modified() > e.created_on());
  auto events = e.collect_pending_events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].topic() == "example.Example.AttributeChanged");
  CHECK(events[0].data() == json::object{{"name", "a"}, {"value", 100}});
  CHECK(events[0].originator_id() == e.id());
  CHECK(events[1].data() == json::object{{"name", "b"}, {"value", -200}});
  CHECK(events[1].previous_hash() == events[0].event_hash());
  CHECK(e.pending_events().empty());
}

TEST_CASE("setting an attribute publishes exactly one AttributeChanged", "[example]") {
  // The reference's test_attribute: name, value and the entity's id.
  Example e = create_new_example();
  e.collect_pending_events();
  e.set_foo(json::value{{"nested", json::array{1, 2, 3}}});
  auto events = e.collect_pending_events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].topic() == Example::AttributeChanged::topic);
  CHECK(events[0].data().at("name") == "foo");
  CHECK(events[0].data().at("value") == json::value{{"nested", json::array{1, 2, 3}}});
  CHECK(events[0].originator_id() == e.id());
}

TEST_CASE("an unknown attribute name is refused and changes nothing", "[example]") {
  Example e = create_new_example();
  CHECK_THROWS_AS(e.set_attribute("c", 1), InvalidInput);
  CHECK(e.version() == 0);
  CHECK(e.pending_events().size() == 1);
}

TEST_CASE("heartbeats count one per beat", "[example]") {
  Example e = create_new_example();
  CHECK(e.count_heartbeats() == 0);
  e.beat_heart();
  e.beat_heart();
  e.beat_heart();
  CHECK(e.count_heartbeats() == 3);
  e.beat_heart(3);
  CHECK(e.count_heartbeats() == 6);
  CHECK(e.version() == 6);
  auto events = e.collect_pending_events();
  REQUIRE(events.size() == 7);
  for (std::size_t i = 1; i < events.size(); ++i) {
    CHECK(events[i].topic() == "example.Example.Heartbeat");
    CHECK(events[i].data().empty());
    CHECK(events[i].previous_hash() == events[i - 1].event_hash());
    CHECK(events[i].timestamp() > events[i - 1].timestamp());
  }
}

TEST_CASE("a discarded Example refuses every further command", "[example]") {
  Example e = create_new_example();
  e.discard();
  CHECK(e.is_discarded());
  CHECK(e.version() == 1);
  CHECK_THROWS_AS(e.discard(), EntityIsDiscarded);
  CHECK_THROWS_AS(e.set_a(1), EntityIsDiscarded);
  CHECK_THROWS_AS(e.beat_heart(), EntityIsDiscarded);
  CHECK(e.version() == 1);
  auto events = e.collect_pending_events();
  REQUIRE(events.size() == 2);
  CHECK(events[1].topic() == "example.Example.Discarded");
  CHECK(events[1].previous_hash() == events[0].event_hash());  // Discarded is chained too
}

TEST_CASE("replay checks originator id, then version, then hashes", "[example][replay]") {
  Example original = create_new_example("x", 1, 2);
  original.set_a(5);
  auto events = original.collect_pending_events();
  Example other = create_new_example();
  auto other_events = other.collect_pending_events();

  SECTION("a fresh entity rebuilds from the events") {
    auto rebuilt = replay<Example>(nullptr, events);
    CHECK(rebuilt == original);
    CHECK(rebuilt.a() == 5);
    CHECK(rebuilt.head() == original.head());
  }
  SECTION("an event of another entity: OriginatorIDError") {
    Example e;
    e.apply(events[0]);
    auto foreign =
        Event::create(other.id(), 1, now_micros(), "example.Example.Heartbeat", e.head(), {});
    CHECK_THROWS_AS(e.check(foreign), OriginatorIDError);
  }
  SECTION("version 0 on a later entity: OriginatorVersionError; version + 1 passes") {
    Example e;
    e.apply(events[0]);
    CHECK_THROWS_AS(e.check(events[0]), OriginatorVersionError);
    CHECK_NOTHROW(e.check(events[1]));
  }
  SECTION("a previous hash that is not the head: HeadHashError") {
    Example e;
    e.apply(events[0]);
    auto unlinked = Event::create(e.id(), 1, now_micros(), "example.Example.Heartbeat",
                                  std::string(64, '0'), {});
    CHECK_THROWS_AS(e.check(unlinked), HeadHashError);
    CHECK_THROWS_AS(e.check(unlinked), DataIntegrityError);
  }
  SECTION("a hash that does not recompute: EventHashError") {
    Example e;
    e.apply(events[0]);
    const Event& good = events[1];
    auto forged = Event::restore(good.originator_id(), 1, good.timestamp(), good.topic(),
                                 good.previous_hash(), good.event_hash(),
                                 json::object{{"name", "a"}, {"value", 6}}, 1, false);
    CHECK_THROWS_AS(e.apply(forged), EventHashError);
    CHECK(e.version() == 0);  // nothing applied
  }
}

TEST_CASE("events with equal fields are equal and hash equally", "[event]") {
  auto id = new_uuid();
  auto e1 =
      Event::create(id, 0, 1000, "example.Example.Created", "", {{"foo", ""}, {"a", 1}, {"b", 2}});
  auto e2 =
      Event::create(id, 0, 1000, "example.Example.Created", "", {{"foo", ""}, {"a", 1}, {"b", 2}});
  CHECK(e1 == e2);
  CHECK(e1.event_hash() == e2.event_hash());
  auto e3 =
      Event::create(id, 0, 1000, "example.Example.Created", "", {{"foo", ""}, {"a", 1}, {"b", 3}});
  CHECK(e1 != e3);
  CHECK(e1.event_hash() != e3.event_hash());
  // Another event type ("subclass") with the same fields is not equal.
  auto e4 = Event::create(id, 0, 1000, "example.Example.Heartbeat", "",
                          {{"foo", ""}, {"a", 1}, {"b", 2}});
  CHECK(e1 != e4);
}

TEST_CASE("a new event's timestamp is now", "[event]") {
  auto before = now_micros();
  Example e = create_new_example();
  auto after = now_micros();
  const auto& created = e.pending_events()[0];
  CHECK(created.timestamp() >= before);
  CHECK(created.timestamp() <= after + 1);
}

TEST_CASE("event data may not shadow an envelope field", "[event]") {
  CHECK_THROWS_AS(Event::create(new_uuid(), 0, 1, "t", "", {{"topic", "x"}}), InvalidInput);
  CHECK_THROWS_AS(Event::create(new_uuid(), 0, 1, "t", "", {{"event_hash", "x"}}), InvalidInput);
}

TEST_CASE("the event hash is SHA-256 of the canonical state without event_hash", "[event]") {
  auto id = *parse_uuid("5f0e3c1a-8d2b-4c6e-9a7f-1b2c3d4e5f60");
  auto e = Event::create(id, 2, 1795735065948010, "example.Example.Heartbeat",
                         "b2dc9e05b77cab663d4d1748518b4aea662e1509ec27ec9b45ad540ceb4b802c", {});
  // Line 3 of tests/data/example-chain.jsonl.
  CHECK(e.event_hash() == "c1d9e378bf2d72e975d25f551a5d0aed30122db07dba5329cdbcef74b86cbe17");
  CHECK(e.canonical_text() ==
        "{\"event_hash\":\"c1d9e378bf2d72e975d25f551a5d0aed30122db07dba5329cdbcef74b86cbe17\","
        "\"originator_id\":\"5f0e3c1a-8d2b-4c6e-9a7f-1b2c3d4e5f60\",\"originator_version\":2,"
        "\"previous_hash\":\"b2dc9e05b77cab663d4d1748518b4aea662e1509ec27ec9b45ad540ceb4b802c\","
        "\"timestamp\":1795735065948010,\"topic\":\"example.Example.Heartbeat\"}");
}

TEST_CASE("snapshots capture and restore the whole state", "[example][snapshot]") {
  Example e = create_new_example("foo", json::array{1, 2}, json::object{{"k", "v"}});
  e.beat_heart(2);
  Snapshot s = e.take_snapshot();
  CHECK(s.originator_id == e.id());
  CHECK(s.originator_version == 2);
  CHECK(s.topic == "example.Example");
  Example restored;
  restored.restore_snapshot(s);
  CHECK(restored == e);
  CHECK(restored.count_heartbeats() == 2);
  CHECK(restored.head() == e.head());
  e.discard();
  Snapshot gone = e.take_snapshot();
  CHECK(gone.state.is_null());
  Example discarded;
  discarded.restore_snapshot(gone);
  CHECK(discarded.is_discarded());
  CHECK(discarded.version() == 3);
}
