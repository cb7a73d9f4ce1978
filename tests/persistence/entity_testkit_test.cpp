// The entity test kit on the Example entity: given / when / then.
#include "persistence/entity_testkit.hpp"
#include "samples/example/example.hpp"

#include <catch2/catch.hpp>

using namespace es;
namespace json = boost::json;

TEST_CASE("test kit: events, state and errors of Example commands", "[testkit]") {
  EntityTestKit<Example> kit;
  kit.given([] { return Example::create_new("x", 1, 2); });

  kit.when([](Example& e) { e.set_a(5); })
      .then_events({{"example.Example.AttributeChanged", {{"name", "a"}, {"value", 5}}}})
      .then_state([](const Example& e) { return e.a() == 5 && e.version() == 1; });

  kit.when([](Example& e) { e.beat_heart(3); })
      .then_events(
          {"example.Example.Heartbeat", "example.Example.Heartbeat", "example.Example.Heartbeat"})
      .then_state([](const Example& e) { return e.count_heartbeats() == 3; });

  kit.when([](Example& e) { e.set_attribute("nope", 1); }).then_error<InvalidInput>();

  kit.when([](Example& e) { e.discard(); })
      .then_events({"example.Example.Discarded"})
      .then_state([](const Example& e) { return e.is_discarded(); });
  kit.when([](Example& e) { e.set_a(1); }).then_error<EntityIsDiscarded>();
  CHECK(kit.records().read(kit.current().id(), {}).size() == 6);
}

TEST_CASE("test kit: failed expectations say what happened", "[testkit]") {
  EntityTestKit<Example> kit;
  kit.given([] { return Example::create_new(); });
  auto outcome = kit.when([](Example& e) { e.set_b(2); });
  CHECK_THROWS_AS(outcome.then_events({"example.Example.Heartbeat"}), TestKitFailure);
  CHECK_THROWS_WITH(outcome.then_events({"a", "b"}),
                    Catch::Contains("expected 2 events, got 1") &&
                        Catch::Contains("example.Example.AttributeChanged"));
  CHECK_THROWS_AS(outcome.then_state([](const Example& e) { return e.b() == 3; }), TestKitFailure);
  CHECK_THROWS_AS(outcome.then_error<InvalidInput>(), TestKitFailure);
  CHECK_NOTHROW(
      outcome.then_events({{"example.Example.AttributeChanged", {{"name", "b"}, {"value", 2}}}}));
}

TEST_CASE("test kit: given a history of raw events", "[testkit]") {
  Example source = create_new_example("y");
  source.beat_heart(2);
  EntityTestKit<Example> kit;
  kit.given(source.collect_pending_events());
  kit.when([](Example& e) { e.beat_heart(); }).then_state([](const Example& e) {
    return e.count_heartbeats() == 3 && e.foo() == "y";
  });
}
