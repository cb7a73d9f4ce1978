// Ports of the reference's test_event_store and test_event_sourced_repository, over the
// in-memory record manager.
#include "persistence/event_store.hpp"
#include "domain/canonical_json.hpp"
#include "persistence/memory_record_manager.hpp"
#include "persistence/memory_snapshot_store.hpp"
#include "persistence/repository.hpp"
#include "samples/example/example.hpp"

#include <catch2/catch.hpp>

using namespace es;
namespace json = boost::json;

namespace {
std::shared_ptr<EventStore> memory_event_store() {
  Example::register_types();
  return std::make_shared<EventStore>(std::make_shared<MemoryRecordManager>(),
                                      std::make_shared<EventMapper>());
}
}  // namespace

TEST_CASE("event store: get, most recent, all events", "[event_store]") {
  auto store = memory_event_store();
  auto id = new_uuid();
  // Empty id: no events, paged or not.
  CHECK(store->get_domain_events(id).empty());
  CHECK(store->get_domain_events(id, {}, 1).empty());
  CHECK_FALSE(store->get_most_recent_event(id).has_value());

  Example e = create_new_example("", 1, 2);
  id = e.id();
  auto created = e.collect_pending_events();
  store->store(created);
  CHECK(store->get_domain_events(id).size() == 1);
  CHECK(store->get_domain_events(id, {}, 1).size() == 1);
  CHECK(store->get_most_recent_event(id) == created[0]);

  e.set_a(5);
  auto changed = e.collect_pending_events();
  store->store(changed);
  auto events = store->get_domain_events(id);
  REQUIRE(events.size() == 2);
  CHECK(events[0] == created[0]);
  CHECK(events[1] == changed[0]);
  CHECK(store->get_domain_events(id, {}, 1).size() == 2);
  CHECK(store->get_most_recent_event(id) == changed[0]);

  Example other = create_new_example();
  store->store(other.collect_pending_events());
  CHECK(store->all_domain_events().size() == 3);
}

TEST_CASE("event store: bounded and paged reads in both directions", "[event_store]") {
  auto store = memory_event_store();
  Example e = create_new_example();
  e.beat_heart(9);
  store->store(e.collect_pending_events());
  auto versions = [](const std::vector<Event>& events) {
    std::vector<std::int64_t> out;
    for (const auto& ev : events) out.push_back(ev.originator_version());
    return out;
  };
  ReadQuery q;
  q.gt = 2;
  q.lte = 6;
  CHECK(versions(store->get_domain_events(e.id(), q)) == std::vector<std::int64_t>{3, 4, 5, 6});
  CHECK(versions(store->get_domain_events(e.id(), q, 3)) == std::vector<std::int64_t>{3, 4, 5, 6});
  q.ascending = false;
  CHECK(versions(store->get_domain_events(e.id(), q, 3)) == std::vector<std::int64_t>{6, 5, 4, 3});
  q.limit = 3;
  CHECK(versions(store->get_domain_events(e.id(), q, 2)) == std::vector<std::int64_t>{6, 5, 4});
  ReadQuery lt;
  lt.lt = 2;
  CHECK(versions(store->get_domain_events(e.id(), lt)) == std::vector<std::int64_t>{0, 1});
  ReadQuery gte;
  gte.gte = 8;
  CHECK(versions(store->get_domain_events(e.id(), gte, 1)) == std::vector<std::int64_t>{8, 9});
}

TEST_CASE("storing a second Created for an existing id is a ConcurrencyError", "[event_store]") {
  auto store = memory_event_store();
  Example e = create_new_example();
  auto created = e.collect_pending_events();
  store->store(created);
  Example twin = replay<Example>(nullptr, created);
  (void)twin;
  auto again = Event::create(e.id(), 0, now_micros(), "example.Example.Created", "",
                             {{"foo", ""}, {"a", ""}, {"b", ""}});
  CHECK_THROWS_AS(store->store(again), ConcurrencyError);
  CHECK(store->get_domain_events(e.id()).size() == 1);
  // Non-contiguous versions are refused before anything is written.
  Example gap = create_new_example();
  gap.beat_heart(2);
  auto events = gap.collect_pending_events();
  events.erase(events.begin() + 1);
  CHECK_THROWS_AS(store->store(events), InvalidInput);
  CHECK(store->get_domain_events(gap.id()).empty());
}

TEST_CASE("repository: get, contains, and absent ids", "[repository]") {
  auto store = memory_event_store();
  EventSourcedRepository<Example> repo(store);
  Example e = create_new_example("", 1, 2);
  repo.save(e);
  Example got = repo.get(e.id());
  CHECK(got.a() == 1);
  CHECK(got.b() == 2);
  CHECK(got.id() == e.id());
  CHECK(repo.contains(e.id()));
  CHECK_FALSE(repo.contains(new_uuid()));
  CHECK_THROWS_AS(repo.get(new_uuid()), RepositoryKeyError);
}

TEST_CASE("repository: the entity lifecycle of the reference's test_entity", "[repository]") {
  auto store = memory_event_store();
  EventSourcedRepository<Example> repo(store);
  Example e = create_new_example("", 1, 2);
  repo.save(e);
  e.set_a(100);
  e.set_b(-200);
  repo.save(e);
  Example got = repo.get(e.id());
  CHECK(got.a() == 100);
  CHECK(got.b() == -200);
  CHECK(got.last_modified() > got.created_on());
  CHECK(got == e);

  CHECK(e.count_heartbeats() == 0);
  e.beat_heart();
  e.beat_heart();
  e.beat_heart();
  CHECK(e.count_heartbeats() == 3);
  repo.save(e);
  CHECK(repo.get(e.id()).count_heartbeats() == 3);
  e.beat_heart(3);
  repo.save(e);
  CHECK(repo.get(e.id()).count_heartbeats() == 6);

  e.discard();
  repo.save(e);
  CHECK_THROWS_AS(repo.get(e.id()), RepositoryKeyError);
  CHECK_FALSE(repo.contains(e.id()));
  CHECK_THROWS_AS(e.discard(), EntityIsDiscarded);
  // The history is still there.
  auto at = repo.get_entity(e.id(), 2);
  REQUIRE(at.has_value());
  CHECK(at->b() == -200);
}

TEST_CASE("repository: a tampered stored event is a DataIntegrityError", "[repository]") {
  auto records = std::make_shared<MemoryRecordManager>();
  auto mapper = std::make_shared<EventMapper>();
  Example::register_types();
  auto store = std::make_shared<EventStore>(records, mapper);
  EventSourcedRepository<Example> repo(store);
  Example e = create_new_example("x", 1, 2);
  e.set_a(2);
  auto events = e.collect_pending_events();
  auto forged_state = events[1].state();
  forged_state["value"] = 3;  // tampered value, hash left as it was
  records->delete_records(e.id(), -1);
  store->store(events[0]);
  records->append(
      {e.id(), 0, {SequencedRecord{e.id(), 1, events[1].topic(), canonical_json(forged_state)}}});
  CHECK_THROWS_AS(repo.get(e.id()), EventHashError);
}
