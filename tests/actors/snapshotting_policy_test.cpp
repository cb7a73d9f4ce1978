// The reference's snapshotting docs test: a snapshot every 2 events.
#include "actors/backends.hpp"
#include "persistence/snapshot_strategy.hpp"
#include "samples/example/example_application.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace es;

namespace {
// Snapshots are written by the snapshot writer after the command's reply: wait for them.
std::optional<Snapshot> wait_for_snapshot(const SnapshotStrategy& s, const Uuid& id,
                                          std::int64_t version) {
  for (int i = 0; i < 500; ++i) {
    auto snap = s.get_snapshot(id);
    if (snap && snap->originator_version >= version) return snap;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return s.get_snapshot(id);
}
}  // namespace

TEST_CASE("snapshotting policy: a snapshot every 2 events", "[actors][snapshot][reference]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  ApplicationConfig cfg;
  cfg.stores = test::make_stores(backend);
  cfg.snapshot_period = 2;
  cfg.scheduler_threads = 2;
  auto stores = cfg.stores;
  ExampleApplication app(std::move(cfg));
  SnapshotStrategy snapshots(stores.snapshots, std::make_shared<EventMapper>());

  auto e = app.create_new_example("bar1");
  auto id = *parse_uuid(e.id);
  CHECK_FALSE(snapshots.get_snapshot(id).has_value());  // 1 event: none yet
  for (int i = 2; i <= 6; ++i)
    app.set_attribute(id, "foo", boost::json::value("bar" + std::to_string(i)));

  auto s = wait_for_snapshot(snapshots, id, 5);
  REQUIRE(s.has_value());
  CHECK(s->originator_version == 5);
  CHECK(s->state.at("foo") == "bar6");
  CHECK(snapshots.get_snapshot(id, 4)->state.at("foo") == "bar4");
  CHECK(snapshots.get_snapshot(id, 2)->state.at("foo") == "bar2");
  CHECK(snapshots.get_snapshot(id, 1)->originator_version == 1);
  CHECK_FALSE(snapshots.get_snapshot(id, 0).has_value());

  // Event 7 changes foo again, event 8 discards: the snapshot at 8 has an empty state.
  app.set_attribute(id, "foo", "bar7");
  app.discard(id);
  auto last = wait_for_snapshot(snapshots, id, 7);
  REQUIRE(last.has_value());
  CHECK(last->originator_version == 7);
  CHECK(last->state.is_null());

  // A batch that crosses a boundary snapshots at the boundary version exactly.
  auto h = app.create_new_example();
  auto hid = *parse_uuid(h.id);
  app.beat_heart(hid, 4);  // versions 1..4: boundaries at 1 and 3
  auto hs = wait_for_snapshot(snapshots, hid, 3);
  REQUIRE(hs.has_value());
  CHECK(hs->originator_version == 3);
  CHECK(hs->state.at("heartbeats") == 3);
}
