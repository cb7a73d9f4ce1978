// The reference's example application test and single-instance test, end to end through
// the actors, over the in-memory stores (the Redis suite repeats them on a real server).
#include "actors/backends.hpp"
#include "domain/errors.hpp"
#include "samples/example/example_application.hpp"

#include <catch2/catch.hpp>
#include <limits>

#include <boost/json/parse.hpp>

using namespace es;
namespace json = boost::json;

namespace {

ApplicationConfig memory_config(bool encrypted = false) {
  ApplicationConfig cfg;
  cfg.stores = memory_stores();
  if (encrypted) cfg.cipher = std::make_shared<AesGcmCipher>(std::string("0123456789abcdef"));
  cfg.scheduler_threads = 2;
  return cfg;
}

ApplicationConfig config_for(test::Backend backend, bool encrypted = false) {
  ApplicationConfig cfg;
  cfg.stores = test::make_stores(backend);
  if (encrypted) cfg.cipher = std::make_shared<AesGcmCipher>(std::string("0123456789abcdef"));
  cfg.scheduler_threads = 2;
  return cfg;
}

json::value value_of(const std::string& text) {
  return json::parse(text);
}

}  // namespace

TEST_CASE("example application: create, change, snapshot, versions", "[application][reference]") {
  auto backend = ES_EACH_BACKEND();
  bool encrypted = GENERATE(false, true);
  INFO(test::to_string(backend) << (encrypted ? " encrypted" : ""));
  auto cfg = config_for(backend, encrypted);
  auto stores = cfg.stores;
  ExampleApplication app(std::move(cfg));

  auto created = app.create_new_example("", 10, 20);
  auto id = *parse_uuid(created.id);
  CHECK(created.version == 0);
  CHECK(value_of(app.get(id).a_json) == 10);
  CHECK(value_of(app.get(id).b_json) == 20);

  app.set_attribute(id, "a", 50);
  CHECK(value_of(app.get(id).a_json) == 50);

  auto snapshot1 = app.take_snapshot(id);
  REQUIRE(snapshot1.has_value());
  CHECK(snapshot1->version == 1);
  CHECK(snapshot1->created);
  auto again = app.take_snapshot(id);
  REQUIRE(again.has_value());
  CHECK(again->version == 1);
  CHECK_FALSE(again->created);  // already current: the same snapshot
  auto stored1 = stores.snapshots->latest(id);
  REQUIRE(stored1.has_value());
  CHECK(stored1->position == 1);

  app.set_attribute(id, "a", 100);
  CHECK(value_of(app.get(id).a_json) == 100);
  CHECK(value_of(app.get_at(id, 0)->a_json) == 10);
  CHECK(value_of(app.get_at(id, 1)->a_json) == 50);
  CHECK(value_of(app.get_at(id, 2)->a_json) == 100);

  auto snapshot2 = app.take_snapshot(id);
  REQUIRE(snapshot2.has_value());
  CHECK(snapshot2->version == 2);
  CHECK(stores.snapshots->latest(id)->state != stored1->state);

  CHECK(stores.events->read(id, {}).size() == 3);
  stores.events->delete_records(id, 2);
  CHECK(stores.events->read(id, {}).empty());

  // The live actor still has the state; a fresh application loads from snapshots alone.
  ApplicationConfig fresh = config_for(backend, encrypted);
  fresh.stores = stores;
  ExampleApplication app2(std::move(fresh));
  CHECK(value_of(app2.get(id).a_json) == 100);
  CHECK_FALSE(app2.get_at(id, 0).has_value());
  CHECK(value_of(app2.get_at(id, 1)->a_json) == 50);
  CHECK(value_of(app2.get_at(id, 2)->a_json) == 100);

  auto second = app.create_new_example();
  CHECK(stores.events->read(*parse_uuid(second.id), {}).size() == 1);

  CHECK_FALSE(app.take_snapshot(new_uuid()).has_value());
}

TEST_CASE("single instance: init, get, close", "[application][reference]") {
  close_example_application();
  CHECK_THROWS_AS(get_example_application(), Error);
  auto& app = init_example_application(memory_config());
  CHECK_THROWS_AS(init_example_application(memory_config()), Error);
  CHECK(&get_example_application() == &app);
  CHECK(&get_example_application() == &get_example_application());
  close_example_application();
  CHECK_THROWS_AS(get_example_application(), Error);
  auto& again = init_example_application(memory_config());
  CHECK(&get_example_application() == &again);
  close_example_application();
}

TEST_CASE("entity lifecycle through the actors", "[application]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  ExampleApplication app(config_for(backend));
  auto before = now_micros();
  auto e = app.create_new_example("", 1, 2);
  auto id = *parse_uuid(e.id);
  CHECK(e.created_on >= before);
  CHECK(e.created_on == e.last_modified);
  app.set_attribute(id, "a", 100);
  auto changed = app.set_attribute(id, "b", -200);
  CHECK(value_of(changed.a_json) == 100);
  CHECK(value_of(changed.b_json) == -200);
  CHECK(changed.last_modified > changed.created_on);
  CHECK(app.get(id).heartbeats == 0);
  app.beat_heart(id);
  app.beat_heart(id);
  CHECK(app.beat_heart(id).heartbeats == 3);
  CHECK(app.beat_heart(id, 3).heartbeats == 6);
  CHECK(app.get(id).version == 8);
  app.discard(id);
  CHECK_THROWS_AS(app.get(id), RepositoryKeyError);
  CHECK_FALSE(app.contains(id));
  CHECK_THROWS_AS(app.discard(id), RepositoryKeyError);
  auto events = app.events(id);
  REQUIRE(events.size() == 10);
  CHECK(events.back().topic == "example.Example.Discarded");
  for (std::size_t i = 1; i < events.size(); ++i) {
    CHECK(events[i].previous_hash == events[i - 1].hash);
  }
}

TEST_CASE("bad commands are refused and change nothing", "[application]") {
  ExampleApplication app(memory_config());
  auto e = app.create_new_example();
  auto id = *parse_uuid(e.id);
  CHECK_THROWS_AS(app.set_attribute(id, "c", 1), InvalidInput);
  CHECK_THROWS_AS(app.beat_heart(id, 0), InvalidInput);
  CHECK_THROWS_AS(app.beat_heart(id, 10001), InvalidInput);
  auto& examples = app.examples();
  CHECK_THROWS_AS(examples.execute(id, ChangeAttributes{}), InvalidInput);
  // A value that canonical JSON cannot encode (not finite) never reaches the store.
  CHECK_THROWS_AS(
      examples.execute(id, ChangeAttributes{{{"a", {std::numeric_limits<double>::infinity()}}}}),
      InvalidInput);
  CHECK_THROWS_AS(examples.execute(id, BeatHeart{1, 5}), PreconditionFailed);
  CHECK(app.get(id).version == 0);
  CHECK(examples.execute(id, BeatHeart{2, 0}).version == 2);
  CHECK_THROWS_AS(app.get(new_uuid()), RepositoryKeyError);
  CHECK_THROWS_AS(app.events(new_uuid()), RepositoryKeyError);
}
