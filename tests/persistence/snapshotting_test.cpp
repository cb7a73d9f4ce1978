// The snapshot parts of the reference's example application test, synchronously over the
// in-memory stores (the actor application repeats it end to end).
#include "persistence/memory_record_manager.hpp"
#include "persistence/memory_snapshot_store.hpp"
#include "persistence/repository.hpp"
#include "samples/example/example.hpp"

#include <catch2/catch.hpp>

using namespace es;

namespace {

struct Stores {
  std::shared_ptr<MemoryRecordManager> records = std::make_shared<MemoryRecordManager>();
  std::shared_ptr<EventStore> events;
  std::shared_ptr<SnapshotStrategy> snapshots;
  explicit Stores(std::shared_ptr<const AesGcmCipher> cipher = nullptr) {
    Example::register_types();
    auto mapper = std::make_shared<EventMapper>(std::move(cipher));
    events = std::make_shared<EventStore>(records, mapper);
    snapshots = std::make_shared<SnapshotStrategy>(std::make_shared<MemorySnapshotStore>(), mapper);
  }
};

}  // namespace

TEST_CASE("example application: snapshots and versions", "[snapshot][reference]") {
  auto cipher = GENERATE(as<bool>{}, false, true);
  Stores stores(cipher ? std::make_shared<AesGcmCipher>(std::string("0123456789abcdef")) : nullptr);
  EventSourcedRepository<Example> repo(stores.events, stores.snapshots);

  Example e = create_new_example("", 10, 20);
  repo.save(e);
  CHECK(repo.get(e.id()).a() == 10);
  CHECK(repo.get(e.id()).b() == 20);

  e.set_a(50);
  repo.save(e);
  CHECK(repo.get(e.id()).a() == 50);

  auto snapshot1 = repo.take_snapshot(e.id());
  REQUIRE(snapshot1.has_value());
  CHECK(snapshot1->originator_version == 1);
  CHECK(stores.snapshots->get_snapshot(e.id()) == snapshot1);
  CHECK(repo.take_snapshot(e.id()) == snapshot1);  // already current: the same snapshot

  e.set_a(100);
  repo.save(e);
  CHECK(repo.get(e.id()).a() == 100);
  CHECK(repo.get_entity(e.id(), 0)->a() == 10);
  CHECK(repo.get_entity(e.id(), 1)->a() == 50);
  CHECK(repo.get_entity(e.id(), 2)->a() == 100);

  auto snapshot2 = repo.take_snapshot(e.id());
  REQUIRE(snapshot2.has_value());
  CHECK(snapshot2 != snapshot1);
  CHECK(snapshot2->originator_version == 2);

  CHECK(stores.records->read(e.id(), {}).size() == 3);
  stores.records->delete_records(e.id(), 2);
  CHECK(stores.records->read(e.id(), {}).empty());

  // Loaded from snapshots alone now.
  CHECK(repo.get(e.id()).a() == 100);
  CHECK_FALSE(repo.get_entity(e.id(), 0).has_value());
  CHECK(repo.get_entity(e.id(), 1)->a() == 50);
  CHECK(repo.get_entity(e.id(), 2)->a() == 100);

  Example second = create_new_example();
  repo.save(second);
  CHECK(stores.records->read(second.id(), {}).size() == 1);

  CHECK_FALSE(repo.take_snapshot(new_uuid()).has_value());
}

TEST_CASE("a snapshot of a discarded entity has an empty state", "[snapshot]") {
  Stores stores;
  EventSourcedRepository<Example> repo(stores.events, stores.snapshots);
  Example e = create_new_example("bar1");
  e.discard();
  repo.save(e);
  auto s = repo.take_snapshot(e.id());
  REQUIRE(s.has_value());
  CHECK(s->state.is_null());
  CHECK_FALSE(repo.contains(e.id()));
  CHECK_THROWS_AS(repo.get(e.id()), RepositoryKeyError);
}

TEST_CASE("events after a snapshot must link to the snapshot's head", "[snapshot]") {
  Stores stores;
  EventSourcedRepository<Example> repo(stores.events, stores.snapshots);
  Example e = create_new_example();
  repo.save(e);
  repo.take_snapshot(e.id());
  e.set_a(1);
  repo.save(e);
  CHECK(repo.get(e.id()).a() == 1);
  // A snapshot whose head was altered breaks the chain with the next event.
  auto s = *stores.snapshots->get_snapshot(e.id());
  s.state.as_object()["head"] = std::string(64, 'f');
  stores.snapshots->store(s);
  CHECK_THROWS_AS(repo.get(e.id()), HeadHashError);
}
