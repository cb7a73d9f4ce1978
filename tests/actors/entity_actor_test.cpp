// Entity actors under concurrency, crashes, passivation, outside writers and tampering.
#include "actors/backends.hpp"
#include "actors/get_all.hpp"
#include "domain/canonical_json.hpp"
#include "domain/errors.hpp"
#include "persistence/redis_record_manager.hpp"
#include "samples/example/example_application.hpp"
#include "support/forwarding_record_manager.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace es;
namespace json = boost::json;

namespace {

ApplicationConfig config_for(test::Backend backend) {
  ApplicationConfig cfg;
  cfg.stores = test::make_stores(backend);
  cfg.scheduler_threads = 2;
  return cfg;
}

// Verifies the stored chain of one entity from the records alone.
void check_chain(const ExampleApplication& app, const Uuid& id, std::int64_t expected_last) {
  auto records = app.stores().events->read(id, {});
  REQUIRE(static_cast<std::int64_t>(records.size()) == expected_last + 1);
  std::string head;
  for (std::size_t i = 0; i < records.size(); ++i) {
    Event e = app.mapper().from_record(records[i]);
    CHECK(e.originator_version() == static_cast<std::int64_t>(i));
    CHECK(e.previous_hash() == head);
    CHECK(e.hash_matches());
    head = e.event_hash();
  }
}

// Sends `commands` requests from `senders` client actors at once; returns the versions
// the replies carried and the number of errors.
struct Outcome {
  std::vector<std::int64_t> versions;
  int errors = 0;
};

Outcome fire(ExampleApplication& app,
             const std::vector<std::pair<std::string, ExampleBinding::Command>>& work,
             int senders) {
  auto results = std::make_shared<std::vector<std::int64_t>>();
  auto errors = std::make_shared<std::atomic<int>>(0);
  auto mutex = std::make_shared<std::mutex>();
  auto done = std::make_shared<std::atomic<int>>(0);
  auto repo = app.repository();
  for (int s = 0; s < senders; ++s) {
    std::vector<std::pair<std::string, ExampleBinding::Command>> share;
    for (std::size_t i = static_cast<std::size_t>(s); i < work.size();
         i += static_cast<std::size_t>(senders)) {
      share.push_back(work[i]);
    }
    app.system().spawn([=](caf::event_based_actor* self) {
      auto remaining = std::make_shared<std::size_t>(share.size());
      if (share.empty()) done->fetch_add(1);
      for (const auto& w : share) {
        self->request(repo, std::chrono::seconds(60), execute_atom::value, w.first, w.second)
            .then(
                [=](ExampleView& v) {
                  {
                    std::lock_guard lock(*mutex);
                    results->push_back(v.version);
                  }
                  if (--*remaining == 0) done->fetch_add(1);
                },
                [=](caf::error&) {
                  errors->fetch_add(1);
                  if (--*remaining == 0) done->fetch_add(1);
                });
      }
    });
  }
  while (done->load() < senders) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::lock_guard lock(*mutex);
  return {*results, errors->load()};
}

}  // namespace

TEST_CASE("1,000 concurrent commands to one entity are serialized", "[actors][concurrency]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  ExampleApplication app(config_for(backend));
  auto created = app.create_new_example();
  std::vector<std::pair<std::string, ExampleBinding::Command>> work;
  for (int i = 0; i < 1000; ++i) {
    work.emplace_back(
        created.id, i % 2 ? ExampleBinding::Command(BeatHeart{1}) : ChangeAttributes{{{"a", {i}}}});
  }
  auto outcome = fire(app, work, 50);
  CHECK(outcome.errors == 0);
  REQUIRE(outcome.versions.size() == 1000);
  std::set<std::int64_t> distinct(outcome.versions.begin(), outcome.versions.end());
  CHECK(distinct.size() == 1000);  // every command got its own version
  CHECK(*distinct.begin() == 1);
  CHECK(*distinct.rbegin() == 1000);
  auto id = *parse_uuid(created.id);
  CHECK(app.get(id).version == 1000);
  CHECK(app.get(id).heartbeats == 500);
  check_chain(app, id, 1000);
}

TEST_CASE("10,000 entities created and changed concurrently", "[actors][concurrency]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  ExampleApplication app(config_for(backend));
  const int n = 10000;
  // Create from many client actors at once.
  auto ids = std::make_shared<std::vector<std::string>>();
  auto mutex = std::make_shared<std::mutex>();
  auto done = std::make_shared<std::atomic<int>>(0);
  auto repo = app.repository();
  const int senders = 40;
  for (int s = 0; s < senders; ++s) {
    app.system().spawn([=](caf::event_based_actor* self) {
      for (int i = s; i < n; i += senders) {
        self->request(repo, std::chrono::seconds(60), create_atom::value,
                      ExampleBinding::Command(CreateExample{{i}, {""}, {""}}))
            .then(
                [=](ExampleView& v) {
                  std::lock_guard lock(*mutex);
                  ids->push_back(v.id);
                  done->fetch_add(1);
                },
                [=](caf::error&) { done->fetch_add(1); });
      }
    });
  }
  while (done->load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  REQUIRE(ids->size() == static_cast<std::size_t>(n));
  std::vector<std::pair<std::string, ExampleBinding::Command>> work;
  for (const auto& id : *ids) {
    work.emplace_back(id, ChangeAttributes{{{"a", {1}}, {"b", {2}}}});
  }
  auto outcome = fire(app, work, senders);
  CHECK(outcome.errors == 0);
  CHECK(outcome.versions.size() == static_cast<std::size_t>(n));
  for (auto v : outcome.versions) CHECK(v == 2);
  CHECK(app.stats().hosted == n);
  CHECK(app.stores().events->all_sequence_ids().size() == static_cast<std::size_t>(n));
}

TEST_CASE("a crashed entity actor is rebuilt from the store", "[actors][supervision]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  ExampleApplication app(config_for(backend));
  auto created = app.create_new_example("before", 1, 2);
  auto id = *parse_uuid(created.id);
  app.beat_heart(id, 5);
  caf::scoped_actor self{app.system()};
  example_actor victim;
  self->request(app.repository(), std::chrono::seconds(5), locate_atom::value, created.id)
      .receive([&](example_actor& a) { victim = a; }, [&](caf::error&) {});
  REQUIRE(victim);
  self->monitor(victim);
  self->send_exit(victim, caf::exit_reason::kill);
  self->receive([&](caf::down_msg&) {});
  // Give the supervisor its down message, then use the entity again.
  for (int i = 0; i < 100 && app.stats().crashed == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(app.stats().crashed == 1);
  auto view = app.get(id);
  CHECK(view.heartbeats == 5);
  CHECK(view.version == 5);
  CHECK(app.beat_heart(id).version == 6);
  check_chain(app, id, 6);
}

TEST_CASE("a passivated entity comes back with the same state", "[actors][passivation]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  auto cfg = config_for(backend);
  cfg.passivate_after = std::chrono::milliseconds(50);
  ExampleApplication app(std::move(cfg));
  auto created = app.create_new_example("kept", json::array{1, 2}, 3);
  auto id = *parse_uuid(created.id);
  auto before = app.set_attribute(id, "b", "changed");
  for (int i = 0; i < 200 && app.stats().hosted > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(app.stats().hosted == 0);
  CHECK(app.stats().passivated >= 1);
  auto after = app.get(id);
  CHECK(after.foo_json == before.foo_json);
  CHECK(after.a_json == "[1,2]");
  CHECK(after.b_json == "\"changed\"");
  CHECK(after.head == before.head);
  CHECK(after.version == before.version);
}

// Appends version `after + 1` of entity `id` (a foo change) behind the actors' back.
static void write_behind_the_actor(ExampleApplication& app, const Uuid& id,
                                   const std::string& foo) {
  Example outside;
  for (const auto& r : app.stores().events->read(id, {}))
    outside.apply(app.mapper().from_record(r));
  const auto after = outside.version();
  outside.set_foo(boost::json::string(foo));
  auto pending = outside.collect_pending_events();
  app.stores().events->append({id, after, {app.mapper().to_record(pending[0])}});
}

TEST_CASE("an outside writer causes a conflict: the actor reloads and decides once more",
          "[actors][conflict]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  ExampleApplication app(config_for(backend));
  auto created = app.create_new_example();
  auto id = *parse_uuid(created.id);
  app.get(id);                                 // the actor is live with version 0
  write_behind_the_actor(app, id, "outside");  // version 1

  // The append at version 1 conflicts; the actor reloads and runs the command again on
  // what the store holds: one retry, inside the actor, invisible to the caller.
  auto ok = app.set_attribute(id, "a", 1);
  CHECK(ok.version == 2);
  CHECK(ok.foo_json == "\"outside\"");
  CHECK(ok.a_json == "1");
  check_chain(app, id, 2);

  // A command with an expected version is decided again too, and then refused: the version
  // it expected is gone.
  write_behind_the_actor(app, id, "again");  // version 3
  CHECK_THROWS_AS(app.examples().execute(id, BeatHeart{1, 2}), PreconditionFailed);
  CHECK(app.get(id).version == 3);
  CHECK(app.get(id).foo_json == "\"again\"");
  check_chain(app, id, 3);
}

// An outside writer that gets in before each of the next `races` appends of one entity.
class RacingWriterStore final : public test::ForwardingRecordManager {
 public:
  using ForwardingRecordManager::ForwardingRecordManager;

  std::atomic<int> races{0};
  Uuid target{};
  const EventMapper* mapper = nullptr;  // the application's

  std::vector<AppendResult> append_batch(const std::vector<AppendRequest>& requests) override {
    for (const auto& r : requests) {
      // races first: target is set before it, so it is read only once races was.
      if (races.load() > 0 && r.sequence_id == target && races.fetch_sub(1) > 0) {
        Example outside;
        for (const auto& record : inner().read(target, {})) {
          outside.apply(mapper->from_record(record));
        }
        const auto after = outside.version();
        outside.set_foo(json::string("outside-" + std::to_string(after + 1)));
        auto pending = outside.collect_pending_events();
        inner().append({target, after, {mapper->to_record(pending[0])}});
      }
    }
    return inner().append_batch(requests);
  }
};

TEST_CASE("a second conflict in a row is the caller's ConcurrencyError and writes nothing",
          "[actors][conflict]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  auto cfg = config_for(backend);
  auto racing = std::make_shared<RacingWriterStore>(cfg.stores.events);
  cfg.stores.events = racing;
  ExampleApplication app(cfg);
  racing->mapper = &app.mapper();
  const auto created = app.create_new_example();
  auto id = *parse_uuid(created.id);
  app.get(id);  // live at version 0
  racing->target = id;
  racing->races = 2;  // before the append, and before the one retry
  CHECK_THROWS_AS(app.set_attribute(id, "a", 1), ConcurrencyError);
  // The store holds the outside writer's two events, not the command's; the actor has
  // reloaded them and serves the next command on top.
  CHECK(app.get(id).version == 2);
  CHECK(app.get(id).foo_json == "\"outside-2\"");
  CHECK(app.get(id).a_json == created.a_json);
  check_chain(app, id, 2);
  CHECK(app.set_attribute(id, "a", 3).version == 3);
  check_chain(app, id, 3);
}

TEST_CASE("a tampered stored event makes only that entity report DataIntegrityError",
          "[actors][integrity]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  ExampleApplication app(config_for(backend));
  auto bad = app.create_new_example("x");
  auto good = app.create_new_example("y");
  auto bad_id = *parse_uuid(bad.id);
  auto good_id = *parse_uuid(good.id);
  app.set_attribute(bad_id, "a", 1);
  // Rewrite event 1 with another value but the old hash, in a fresh store.
  auto records = app.stores().events->read(bad_id, {});
  auto state = parse_stored_object(records[1].state);
  state["value"] = 2;
  Stores copy = test::make_stores(backend);
  copy.events->append({bad_id, -1, {records[0]}});
  copy.events->append(
      {bad_id, 0, {SequencedRecord{bad_id, 1, records[1].topic, canonical_json(state)}}});
  copy.events->append({good_id, -1, app.stores().events->read(good_id, {})});
  auto cfg = config_for(backend);
  cfg.stores = copy;
  ExampleApplication reopened(std::move(cfg));
  CHECK_THROWS_AS(reopened.get(bad_id), DataIntegrityError);
  CHECK_THROWS_AS(reopened.set_attribute(bad_id, "a", 3), DataIntegrityError);
  CHECK(reopened.get(good_id).foo_json == "\"y\"");
  CHECK(reopened.set_attribute(good_id, "a", 3).version == 1);
  CHECK(copy.events->read(bad_id, {}).size() == 2);  // nothing written for the broken one
}

TEST_CASE("an undecodable stored event is reported by that entity, on every read path",
          "[actors][integrity]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  ExampleApplication app(config_for(backend));
  auto created = app.create_new_example("x");
  auto id = *parse_uuid(created.id);
  app.set_attribute(id, "a", 1);
  auto records = app.stores().events->read(id, {});
  REQUIRE(records.size() == 2);
  auto other = app.create_new_example("y");
  auto other_id = *parse_uuid(other.id);
  for (const auto& [topic, state] : std::vector<std::pair<std::string, std::string>>{
           {records[1].topic, "{\"truncated\":"},                 // not JSON
           {"example.Example.NoSuchEvent", records[1].state}}) {  // unknown topic
    INFO(topic << " " << state);
    Stores copy = test::make_stores(backend);
    copy.events->append({id, -1, {records[0]}});
    copy.events->append({id, 0, {SequencedRecord{id, 1, topic, state}}});
    copy.events->append({other_id, -1, app.stores().events->read(other_id, {})});
    auto cfg = config_for(backend);
    cfg.stores = copy;
    ExampleApplication reopened(std::move(cfg));
    if (topic == records[1].topic) {  // a decoding failure is a DataIntegrityError
      CHECK_THROWS_AS(reopened.get(id), DataIntegrityError);
      CHECK_THROWS_AS(reopened.set_attribute(id, "a", 3), DataIntegrityError);
      CHECK_THROWS_AS(reopened.events(id), DataIntegrityError);
    } else {
      CHECK_THROWS_AS(reopened.get(id), TopicResolutionError);
      CHECK_THROWS_AS(reopened.set_attribute(id, "a", 3), TopicResolutionError);
      CHECK_THROWS_AS(reopened.events(id), TopicResolutionError);
    }
    CHECK(reopened.get(other_id).foo_json == "\"y\"");
    CHECK(copy.events->read(id, {}).size() == 2);  // nothing written for the broken one
  }
}

TEST_CASE("Redis entries the store cannot decode are DataIntegrityErrors, not unavailability",
          "[actors][integrity]") {
  const auto prefix = test::fresh_prefix();
  RedisStoreOptions options;
  options.key_prefix = prefix;
  auto cfg = config_for(test::Backend::redis);
  cfg.stores = redis_stores(test::redis_pool(), options);
  ExampleApplication app(cfg);
  auto id = *parse_uuid(app.create_new_example("x").id);
  auto redis = std::dynamic_pointer_cast<RedisRecordManager>(app.stores().events);
  REQUIRE(redis);
  // Version 1 with a field the stored format does not have.
  auto added = test::redis_pool()->acquire()->command(
      {"XADD", redis->keys().entity(id), "1-1", "topic", "example.Example.Heartbeat", "oops", "x"});
  REQUIRE_FALSE(added.is_error());
  // Another entity whose latest snapshot is garbage.
  auto with_snapshot = *parse_uuid(app.create_new_example("y").id);
  REQUIRE_FALSE(test::redis_pool()
                    ->acquire()
                    ->command({"ZADD", redis->keys().snapshot(with_snapshot), "0", "garbage"})
                    .is_error());
  ExampleApplication reopened(cfg);
  CHECK_THROWS_AS(reopened.get(id), DataIntegrityError);
  CHECK_THROWS_AS(reopened.events(id), DataIntegrityError);
  CHECK_THROWS_AS(reopened.get(with_snapshot), DataIntegrityError);
  CHECK_THROWS_AS(reopened.set_attribute(with_snapshot, "a", 1), DataIntegrityError);
}

// A mass recovery: loads that queue up together go to the store as one batch (snapshots, then
// events, each one pipelined round trip). Every entity comes back as it was stored, and the
// broken ones in the batch (an entry the store cannot decode, a garbage snapshot, a tampered
// event) fail alone, each with its own error.
TEST_CASE("many entities recovered at once, the broken ones failing alone", "[actors][integrity]") {
  const auto prefix = test::fresh_prefix();
  RedisStoreOptions options;
  options.key_prefix = prefix;
  auto cfg = config_for(test::Backend::redis);
  cfg.stores = redis_stores(test::redis_pool(), options);
  cfg.snapshot_period = 3;  // some entities recover from a snapshot and the events after it
  std::vector<Uuid> ids;
  std::map<Uuid, std::int64_t> versions;
  {
    ExampleApplication app(cfg);
    for (int i = 0; i < 300; ++i) {
      auto id = *parse_uuid(app.create_new_example(boost::json::value(i)).id);
      for (int k = 0; k < i % 6; ++k) app.set_attribute(id, "a", k);
      ids.push_back(id);
      versions[id] = i % 6;
    }
  }
  auto redis = std::dynamic_pointer_cast<RedisRecordManager>(cfg.stores.events);
  REQUIRE(redis);
  auto command = [](std::initializer_list<std::string_view> args) {
    auto reply = test::redis_pool()->acquire()->command(args);
    REQUIRE_FALSE(reply.is_error());
  };
  // ids[10]: an entry with a field the stored format does not have; ids[20]: a garbage
  // latest snapshot; ids[30]: an event whose content no longer matches its hash.
  command({"XADD", redis->keys().entity(ids[10]), "5-1", "topic", "example.Example.Heartbeat",
           "oops", "x"});
  command({"ZADD", redis->keys().snapshot(ids[20]), "99", "garbage"});
  auto records = cfg.stores.events->read(ids[30], {});
  REQUIRE(records.size() == 1);
  auto state = parse_stored_object(records[0].state);
  state["foo"] = "changed";
  command({"DEL", redis->keys().entity(ids[30])});
  cfg.stores.events->append(
      {ids[30], -1, {SequencedRecord{ids[30], 0, records[0].topic, canonical_json(state)}}});

  cfg.loaders = 1;  // every load queues on one loader: they are batched
  ExampleApplication reopened(cfg);
  auto answers = test::get_all(reopened, ids);
  for (const auto& id : ids) {
    INFO(to_string(id));
    const auto& answer = answers[id];
    if (id == ids[10] || id == ids[20] || id == ids[30]) {
      CHECK(answer.error == ErrorCode::integrity);
    } else {
      CHECK(answer.error == ErrorCode::none);
      CHECK(answer.version == versions[id]);
    }
  }
  CHECK(reopened.runtime().metrics()->recoveries.value() >= ids.size() - 3);
}

TEST_CASE("past max_in_flight, requests are refused as overloaded", "[actors][overload]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  auto cfg = config_for(backend);
  cfg.max_in_flight = 0;
  ExampleApplication app(std::move(cfg));
  CHECK_THROWS_AS(app.create_new_example(), Overloaded);
}
