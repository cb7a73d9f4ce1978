// Why: followers must wake up for an append without polling hard and must come back within
// their timeout when nothing happens (the actor's exit depends on it); consumer groups must
// split entries between consumers, keep unacknowledged ones pending, and hand stale ones to
// another consumer; the event fetcher must read exactly the versions asked for.
#include <catch2/catch.hpp>

#include "domain/errors.hpp"
#include "persistence/memory_record_manager.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/stream_sources.hpp"
#include "support/redis_fixture.hpp"

#include <thread>

using namespace es;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct RedisSetup {
  std::shared_ptr<RedisRecordManager> records;
  RedisKeys keys{"x", 1};
};

RedisSetup redis_store(int partitions = 2) {
  RedisStoreOptions o;
  o.key_prefix = test::fresh_prefix();
  o.partitions = partitions;
  RedisSetup s;
  s.records = std::make_shared<RedisRecordManager>(test::redis_pool(), o);
  s.keys = s.records->keys();
  return s;
}

// One new entity with `events` events in `partition`.
Uuid append_in(RecordManager& records, int partition, int events) {
  Uuid id;
  do {
    id = new_uuid();
  } while (partition_of(id, records.partitions()) != partition);
  AppendRequest r;
  r.sequence_id = id;
  for (int v = 0; v < events; ++v) {
    r.records.push_back({id, v, "test.Thing.Happened", "{\"v\":" + std::to_string(v) + "}"});
  }
  records.append(r);
  return id;
}

std::unique_ptr<NotificationSource> source_for(bool redis,
                                               std::shared_ptr<RecordManager>& records) {
  if (!redis) {
    records = std::make_shared<MemoryRecordManager>(2);
    return std::make_unique<RecordManagerNotificationSource>(records);
  }
  auto s = redis_store(2);
  records = s.records;
  return std::make_unique<StreamNotificationSource>(
      test::redis_server().redis_url(), test::test_connection_options(), s.keys, 1000ms);
}

// The consumer group "projection:test" over a store's logs.
std::unique_ptr<StreamConsumerGroupSource> group_source(const RedisSetup& s) {
  return std::make_unique<StreamConsumerGroupSource>(test::redis_server().redis_url(),
                                                     test::test_connection_options(), s.keys,
                                                     "projection:test", 500ms);
}

}  // namespace

TEST_CASE("a notification source reads history, waits for appends, and times out", "[sources]") {
  const bool redis = GENERATE(false, true);
  INFO((redis ? "redis" : "memory"));
  std::shared_ptr<RecordManager> records;
  auto source = source_for(redis, records);

  append_in(*records, 0, 3);
  append_in(*records, 1, 2);
  auto batches = source->wait_and_read({{0, 0}, {1, 0}}, 10, 500ms);
  REQUIRE(batches.size() == 2);
  for (const auto& b : batches) {
    CHECK(b.items.size() == (b.partition == 0 ? 3u : 2u));
    CHECK(b.items.front().position == 1);
  }
  // Pages and cursors.
  auto page = source->wait_and_read(0, 1, 1, 0ms);
  REQUIRE(page.size() == 1);
  CHECK(page[0].position == 2);

  // Nothing new: back after about the timeout, empty.
  auto started = Clock::now();
  CHECK(source->wait_and_read({{0, 3}, {1, 2}}, 10, 300ms).empty());
  auto took = Clock::now() - started;
  CHECK(took >= 250ms);
  CHECK(took < 3s);  // about the 300 ms timeout; generous bound

  // An append from another thread wakes the waiter long before its timeout.
  std::thread writer([&] {
    std::this_thread::sleep_for(150ms);
    append_in(*records, 1, 1);
  });
  started = Clock::now();
  auto woke = source->wait_and_read({{0, 3}, {1, 2}}, 10, 20s);
  took = Clock::now() - started;
  writer.join();
  REQUIRE(woke.size() == 1);
  CHECK(woke[0].partition == 1);
  CHECK(woke[0].items.front().position == 3);
  CHECK(took < 10s);  // woken at about 150 ms, far before the 20 s timeout
}

TEST_CASE("redis notification source cuts long waits to its maximum block", "[sources][redis]") {
  auto s = redis_store(1);
  StreamNotificationSource source(test::redis_server().redis_url(), test::test_connection_options(),
                                  s.keys, 200ms);
  const auto started = Clock::now();
  CHECK(source.wait_and_read(0, 0, 10, 60s).empty());
  CHECK(Clock::now() - started < 5s);  // about 200 ms, not 60 s
}

TEST_CASE("consumer groups split entries, keep them pending until acked, hand stale ones over",
          "[sources][redis]") {
  auto s = redis_store(2);
  auto source = group_source(s);
  auto& groups = *source;
  const std::vector<int> all{0, 1};
  groups.ensure_groups(all);
  groups.ensure_groups(all);                                // idempotent
  for (int i = 0; i < 4; ++i) append_in(*s.records, 0, 1);  // four appends: four log entries

  auto a = groups.read_new("a", all, 3, 100ms);
  REQUIRE(a.size() == 1);
  CHECK(a[0].items.size() == 3);
  auto b = groups.read_new("b", all, 3, 100ms);
  REQUIRE(b.size() == 1);
  REQUIRE(b[0].items.size() == 1);
  CHECK(b[0].items[0].position == 4);
  CHECK(groups.read_new("b", all, 3, 100ms).empty());
  CHECK(groups.pending_count(0) == 4);

  // "a" restarts under its name: its pending entries come back.
  auto again = groups.read_pending("a", all, 10);
  REQUIRE(again.size() == 1);
  CHECK(again[0].items.size() == 3);

  groups.ack({{0, {1, 2}}});
  CHECK(groups.pending_count(0) == 2);

  // Position 3 (a's) and 4 (b's) become stale; "c" claims both.
  std::this_thread::sleep_for(250ms);
  CHECK(groups.claim_stale("c", all, 10s, 10).empty());  // not idle long enough
  auto claimed = groups.claim_stale("c", all, 200ms, 10);
  REQUIRE(claimed.size() == 1);
  REQUIRE(claimed[0].items.size() == 2);
  CHECK(claimed[0].items[0].position == 3);
  CHECK(claimed[0].items[1].position == 4);
  groups.ack({{0, {3, 4}}});
  CHECK(groups.pending_count(0) == 0);

  // A reset delivers everything again from position 1.
  groups.reset_groups(all);
  auto replay = groups.read_new("d", all, 10, 100ms);
  REQUIRE(replay.size() == 1);
  CHECK(replay[0].items.size() == 4);

  // A group lost by the server (e.g. a restart without data) is recreated on the next read.
  {
    auto lease = test::redis_pool()->acquire();
    auto r = lease->command({"XGROUP", "DESTROY", s.keys.log(0), "projection:test"});
    REQUIRE_FALSE(r.is_error());
  }
  CHECK(groups.read_new("d", all, 10, 50ms).empty());
  CHECK(groups.read_new("d", all, 10, 50ms).size() == 1);
}

TEST_CASE("a log entry of several events goes to one consumer and is acked by its last",
          "[sources][redis]") {
  auto s = redis_store(1);
  auto source = group_source(s);
  auto& groups = *source;
  groups.ensure_groups({0});
  append_in(*s.records, 0, 3);  // one append: one entry holding positions 1..3
  append_in(*s.records, 0, 1);  // position 4
  auto a = groups.read_new("a", {0}, 1, 100ms);
  REQUIRE(a.size() == 1);
  REQUIRE(a[0].items.size() == 3);  // the whole entry, though one entry was asked for
  CHECK(a[0].items[0].position == 1);
  CHECK(a[0].items[2].position == 3);
  groups.ack({{0, {1, 2}}});
  CHECK(groups.pending_count(0) == 1);  // held until its last event is acknowledged
  groups.ack({{0, {3}}});
  CHECK(groups.pending_count(0) == 0);
  auto b = groups.read_new("b", {0}, 10, 100ms);
  REQUIRE(b.size() == 1);
  REQUIRE(b[0].items.size() == 1);
  CHECK(b[0].items[0].position == 4);
}

TEST_CASE("a follower starting inside a log entry gets only the events after its cursor",
          "[sources][redis]") {
  auto s = redis_store(1);
  StreamNotificationSource source(test::redis_server().redis_url(), test::test_connection_options(),
                                  s.keys, 200ms);
  const auto x = append_in(*s.records, 0, 5);  // one entry: positions 1..5
  auto page = source.wait_and_read({{0, 2}}, 2, 0ms);
  REQUIRE(page.size() == 1);
  REQUIRE(page[0].items.size() == 2);
  CHECK(page[0].items[0].position == 3);
  CHECK(page[0].items[0].sequence_id == x);
  CHECK(page[0].items[0].version == 2);
  CHECK(page[0].items[1].position == 4);
  CHECK(source.wait_and_read({{0, 5}}, 10, 0ms).empty());
  auto last = source.wait_and_read({{0, 4}}, 10, 0ms);
  REQUIRE(last.size() == 1);
  REQUIRE(last[0].items.size() == 1);
  CHECK(last[0].items[0].position == 5);
}

TEST_CASE("event fetchers read exactly the versions asked for", "[sources]") {
  const bool redis = GENERATE(false, true);
  std::shared_ptr<RecordManager> records;
  std::unique_ptr<EventFetcher> fetcher;
  if (redis) {
    auto s = redis_store(2);
    records = s.records;
    fetcher = std::make_unique<StreamEventFetcher>(test::redis_pool(), s.keys);
  } else {
    records = std::make_shared<MemoryRecordManager>(2);
    fetcher = std::make_unique<RecordManagerEventFetcher>(records);
  }
  auto x = append_in(*records, 0, 5);
  auto y = append_in(*records, 1, 2);
  records->delete_records(y, 0);
  auto got = fetcher->fetch({{x, 3}, {y, 1}, {x, 0}, {y, 0}, {x, 9}, {new_uuid(), 0}});
  REQUIRE(got.size() == 6);
  REQUIRE(got[0]);
  CHECK(got[0]->sequence_id == x);
  CHECK(got[0]->position == 3);
  CHECK(got[0]->state == "{\"v\":3}");
  REQUIRE(got[1]);
  CHECK(got[1]->position == 1);
  REQUIRE(got[2]);
  CHECK(got[2]->position == 0);
  CHECK_FALSE(got[3]);  // deleted
  CHECK_FALSE(got[4]);
  CHECK_FALSE(got[5]);
  CHECK(fetcher->fetch({}).empty());
}
