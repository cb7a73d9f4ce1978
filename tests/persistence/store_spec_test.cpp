// Why: one specification for every store backend, run against BOTH the in-memory stores and
// the Redis stores, so the two cannot drift apart: Akka's persistence TCK (JournalSpec and
// SnapshotStoreSpec) adapted to this interface, the log store, the notification log, and
// the append guarantees (atomic multi-record appends, races, batches).
#include <catch2/catch.hpp>

#include "domain/errors.hpp"
#include "persistence/memory_log_store.hpp"
#include "persistence/memory_record_manager.hpp"
#include "persistence/memory_snapshot_store.hpp"
#include "persistence/partitioning.hpp"
#include "persistence/redis_log_store.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/redis_snapshot_store.hpp"
#include "support/redis_fixture.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace es;

namespace {

struct MemoryBackend {
  std::shared_ptr<RecordManager> records(int partitions = kDefaultPartitions) {
    return std::make_shared<MemoryRecordManager>(partitions);
  }
  std::shared_ptr<SnapshotStore> snapshots() { return std::make_shared<MemorySnapshotStore>(); }
  std::shared_ptr<LogStore> logs() { return std::make_shared<MemoryLogStore>(); }
};

struct RedisBackend {
  std::string prefix = test::fresh_prefix();
  RedisStoreOptions options(int partitions) {
    RedisStoreOptions o;
    o.key_prefix = prefix;
    o.partitions = partitions;
    return o;
  }
  std::shared_ptr<RecordManager> records(int partitions = kDefaultPartitions) {
    return std::make_shared<RedisRecordManager>(test::redis_pool(), options(partitions));
  }
  std::shared_ptr<SnapshotStore> snapshots() {
    return std::make_shared<RedisSnapshotStore>(test::redis_pool(), options(kDefaultPartitions));
  }
  std::shared_ptr<LogStore> logs() {
    return std::make_shared<RedisLogStore>(test::redis_pool(), options(kDefaultPartitions));
  }
};

// The same store as a Redis Cluster node uses it: one partition per script call.
struct RedisOnePartitionPerCallBackend : RedisBackend {
  std::shared_ptr<RecordManager> records(int partitions = kDefaultPartitions) {
    auto o = options(partitions);
    o.cross_partition_calls = RedisStoreOptions::CrossPartitionCalls::never;
    return std::make_shared<RedisRecordManager>(test::redis_pool(), o);
  }
};

SequencedRecord rec(const Uuid& id, std::int64_t version, const std::string& tag = "") {
  return {
      id, version, "test.Thing.Happened",
      "{\"v\":" + std::to_string(version) + (tag.empty() ? "" : ",\"by\":\"" + tag + "\"") + "}"};
}

AppendRequest request(const Uuid& id, std::int64_t expected, std::int64_t count,
                      const std::string& tag = "") {
  AppendRequest r;
  r.sequence_id = id;
  r.expected_version = expected;
  for (std::int64_t v = expected + 1; v <= expected + count; ++v)
    r.records.push_back(rec(id, v, tag));
  return r;
}

std::vector<std::int64_t> positions(const std::vector<SequencedRecord>& records) {
  std::vector<std::int64_t> out;
  for (const auto& r : records) out.push_back(r.position);
  return out;
}

std::vector<std::int64_t> span(std::int64_t from, std::int64_t to) {  // inclusive, either way
  std::vector<std::int64_t> out;
  if (from <= to) {
    for (auto v = from; v <= to; ++v) out.push_back(v);
  } else {
    for (auto v = from; v >= to; --v) out.push_back(v);
  }
  return out;
}

ReadQuery q() {
  return ReadQuery{};
}

}  // namespace

// --- JournalSpec ---

TEMPLATE_TEST_CASE("journal spec: replay with bounds and limits", "[journal]", MemoryBackend,
                   RedisBackend) {
  TestType backend;
  auto records = backend.records();
  const Uuid id = new_uuid();
  // Akka writes messages 1..5; our versions start at 0, so 0..4.
  records->append(request(id, -1, 5));

  SECTION("replay all") {
    CHECK(positions(records->read(id, q())) == span(0, 4));
  }
  SECTION("lower bound") {
    auto query = q();
    query.gte = 2;
    CHECK(positions(records->read(id, query)) == span(2, 4));
  }
  SECTION("upper bound") {
    auto query = q();
    query.lte = 2;
    CHECK(positions(records->read(id, query)) == span(0, 2));
  }
  SECTION("limit") {
    auto query = q();
    query.limit = 3;
    CHECK(positions(records->read(id, query)) == span(0, 2));
  }
  SECTION("both bounds") {
    auto query = q();
    query.gte = 1;
    query.lte = 3;
    CHECK(positions(records->read(id, query)) == span(1, 3));
  }
  SECTION("both bounds with limit") {
    auto query = q();
    query.gte = 1;
    query.lte = 3;
    query.limit = 2;
    CHECK(positions(records->read(id, query)) == span(1, 2));
  }
  SECTION("lower == upper") {
    auto query = q();
    query.gte = 2;
    query.lte = 2;
    CHECK(positions(records->read(id, query)) == span(2, 2));
  }
  SECTION("exclusive bounds") {
    auto query = q();
    query.gt = 1;
    query.lt = 4;
    CHECK(positions(records->read(id, query)) == span(2, 3));
  }
  SECTION("limit 1") {
    auto query = q();
    query.limit = 1;
    CHECK(positions(records->read(id, query)) == span(0, 0));
  }
  SECTION("limit 0") {
    auto query = q();
    query.limit = 0;
    CHECK(records->read(id, query).empty());
  }
  SECTION("lower > upper") {
    auto query = q();
    query.gte = 3;
    query.lte = 2;
    CHECK(records->read(id, query).empty());
  }
  SECTION("bounds beyond the stream") {
    auto query = q();
    query.gte = 10;
    CHECK(records->read(id, query).empty());
    query = q();
    query.lt = 0;
    CHECK(records->read(id, query).empty());
  }
  SECTION("unknown id") {
    const Uuid other = new_uuid();
    CHECK(records->read(other, q()).empty());
    CHECK(records->highest_position(other) == -1);
    CHECK_FALSE(records->most_recent(other).has_value());
  }
  SECTION("highest without replay") {
    CHECK(records->highest_position(id) == 4);
  }
  SECTION("records come back byte for byte") {
    auto all = records->read(id, q());
    REQUIRE(all.size() == 5);
    for (std::int64_t v = 0; v < 5; ++v) CHECK(all[static_cast<std::size_t>(v)] == rec(id, v));
    CHECK(records->most_recent(id) == rec(id, 4));
  }
  SECTION("descending") {
    auto query = q();
    query.ascending = false;
    CHECK(positions(records->read(id, query)) == span(4, 0));
    query.lte = 3;
    query.limit = 2;
    CHECK(positions(records->read(id, query)) == span(3, 2));
    query = q();
    query.ascending = false;
    query.gt = 1;
    CHECK(positions(records->read(id, query)) == span(4, 2));
  }
}

// A mass recovery reads many entities at once: read_many answers exactly what read() does for
// each request, in order, whatever mix of bounds, directions and unknown ids it is given.
TEMPLATE_TEST_CASE("journal spec: many sequences in one read", "[journal]", MemoryBackend,
                   RedisBackend) {
  TestType backend;
  auto records = backend.records();
  std::vector<Uuid> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(new_uuid());
    records->append(request(ids.back(), -1, 1 + i % 7));
  }
  auto bounded = [](std::optional<std::int64_t> gt, std::optional<std::int64_t> lte) {
    ReadQuery query;
    query.gt = gt;
    query.lte = lte;
    return query;
  };
  ReadQuery descending;
  descending.ascending = false;
  descending.limit = 2;
  ReadQuery limited;
  limited.limit = 3;
  std::vector<SequenceRead> reads;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    switch (i % 6) {
      case 0:
        reads.push_back({ids[i], q()});
        break;
      case 1:
        reads.push_back({ids[i], bounded(1, std::nullopt)});
        break;
      case 2:
        reads.push_back({ids[i], bounded(std::nullopt, 1)});
        break;
      case 3:
        reads.push_back({ids[i], bounded(3, 2)});
        break;  // empty range
      case 4:
        reads.push_back({ids[i], descending});
        break;
      default:
        reads.push_back({ids[i], limited});
        break;
    }
  }
  reads.push_back({new_uuid(), q()});  // no such sequence
  reads.push_back({ids[0], bounded(0, 0)});
  reads.push_back({ids[1], bounded(std::nullopt, -1)});  // below every version: nothing
  ReadQuery below;
  below.lt = 0;
  reads.push_back({ids[2], below});
  const auto got = records->read_many(reads);
  REQUIRE(got.size() == reads.size());
  std::size_t non_empty = 0;
  for (std::size_t i = 0; i < reads.size(); ++i) {
    INFO("read " << i);
    CHECK(got[i] == records->read(reads[i].id, reads[i].query));
    non_empty += !got[i].empty();
  }
  CHECK(non_empty >= 15);  // the reads above found records, not only empty answers
  CHECK(positions(got[0]) == span(0, 0));
  CHECK(positions(got[6]) == span(0, 6));
  CHECK(records->read_many({}).empty());
}

TEMPLATE_TEST_CASE("journal spec: deletes", "[journal]", MemoryBackend, RedisBackend) {
  TestType backend;
  auto records = backend.records();
  const Uuid id = new_uuid();
  records->append(request(id, -1, 5));

  SECTION("delete-to is not replayed") {
    records->delete_records(id, 2);
    CHECK(positions(records->read(id, q())) == span(3, 4));
    CHECK(records->highest_position(id) == 4);
    auto query = q();
    query.ascending = false;
    CHECK(positions(records->read(id, query)) == span(4, 3));
    // The version check still sees version 4, although only two records are left.
    CHECK_THROWS_AS(records->append(request(id, 1, 1)), ConcurrencyError);
    auto results = records->append_batch({request(id, 4, 1), request(id, 5, 2)});
    CHECK(results.at(0).status == AppendStatus::stored);
    CHECK(results.at(1).status == AppendStatus::stored);
    CHECK(positions(records->read(id, q())) == span(3, 7));
  }
  SECTION("delete-to below the first keeps everything") {
    records->delete_records(id, -1);
    CHECK(positions(records->read(id, q())) == span(0, 4));
  }
  SECTION("highest is kept after deleting everything, and appends continue after it") {
    records->delete_records(id, 4);
    CHECK(records->read(id, q()).empty());
    CHECK(records->highest_position(id) == 4);
    CHECK_FALSE(records->most_recent(id).has_value());
    CHECK_THROWS_AS(records->append(request(id, -1, 1)), ConcurrencyError);
    records->append(request(id, 4, 2));
    CHECK(positions(records->read(id, q())) == span(5, 6));
    CHECK(records->highest_position(id) == 6);
    auto ids = records->all_sequence_ids();
    CHECK(std::count(ids.begin(), ids.end(), id) == 1);
  }
  SECTION("delete beyond the highest") {
    records->delete_records(id, 100);
    CHECK(records->read(id, q()).empty());
    CHECK(records->highest_position(id) == 4);
  }
}

TEMPLATE_TEST_CASE("journal spec: paging across more than 1000 records", "[journal]", MemoryBackend,
                   RedisBackend) {
  TestType backend;
  auto records = backend.records();
  const Uuid id = new_uuid();
  for (int i = 0; i < 5; ++i) records->append(request(id, i * 500 - 1, 500));

  CHECK(positions(records->read(id, q())) == span(0, 2499));
  auto query = q();
  query.ascending = false;
  CHECK(positions(records->read(id, query)) == span(2499, 0));
  query = q();
  query.gte = 500;
  query.limit = 1200;
  CHECK(positions(records->read(id, query)) == span(500, 1699));
  query = q();
  query.ascending = false;
  query.lte = 2000;
  query.limit = 1500;
  CHECK(positions(records->read(id, query)) == span(2000, 501));
  CHECK(records->highest_position(id) == 2499);
  // Many at once (Redis: one page each in one pipeline): the long stream is read on past its
  // first page, next to one of exactly one page and a short one.
  const Uuid exact = new_uuid(), brief = new_uuid();
  records->append(request(exact, -1, 500));
  records->append(request(exact, 499, 500));
  records->append(request(brief, -1, 3));
  ReadQuery inner;
  inner.gt = 100;
  inner.lte = 2200;
  auto many = records->read_many({{id, q()}, {exact, q()}, {brief, q()}, {id, inner}});
  REQUIRE(many.size() == 4);
  CHECK(positions(many[0]) == span(0, 2499));
  CHECK(positions(many[1]) == span(0, 999));
  CHECK(positions(many[2]) == span(0, 2));
  CHECK(positions(many[3]) == span(101, 2200));
  CHECK(many[0] == records->read(id, q()));
  // Page by page: the pages in order make up the same records (Redis: pages of 1,000).
  std::vector<SequencedRecord> paged;
  std::vector<std::size_t> sizes;
  records->read_pages(id, q(), [&](std::vector<SequencedRecord>&& page) {
    sizes.push_back(page.size());
    paged.insert(paged.end(), page.begin(), page.end());
  });
  CHECK(paged == records->read(id, q()));
  CHECK_FALSE(sizes.empty());
  for (auto n : sizes) CHECK(n > 0);
  query = q();
  query.gte = 2600;
  records->read_pages(id, query, [&](std::vector<SequencedRecord>&&) { FAIL("no page expected"); });
  // Whole ranges without a limit, on and around page boundaries (Redis reads these a page
  // ahead by version ranges).
  for (std::int64_t from : {0, 1, 999, 1000, 1001, 2499}) {
    for (std::int64_t to : {999, 1000, 1999, 2000, 2499}) {
      if (to < from) continue;
      INFO(from << ".." << to);
      query = q();
      query.gte = from;
      query.lte = to;
      CHECK(positions(records->read(id, query)) == span(from, to));
    }
  }
  query = q();
  query.gt = 2499;
  CHECK(records->read(id, query).empty());
  // A huge explicit bound ends at the stream's top, at once.
  query = q();
  query.lt = std::numeric_limits<std::int64_t>::max();
  CHECK(positions(records->read(id, query)) == span(0, 2499));
  query = q();
  query.gte = 2000;
  query.lte = std::numeric_limits<std::int64_t>::max() - 5;
  CHECK(positions(records->read(id, query)) == span(2000, 2499));
  records->delete_records(id, 1999);
  CHECK(positions(records->read(id, q())) == span(2000, 2499));
  query = q();
  query.gte = 1500;  // partly deleted: the pages before 2000 come back empty
  CHECK(positions(records->read(id, query)) == span(2000, 2499));
  records->delete_records(id, 2499);
  CHECK(records->read(id, q()).empty());
  CHECK(records->read(new_uuid(), q()).empty());
}

TEMPLATE_TEST_CASE("journal spec: listing sequence ids", "[journal]", MemoryBackend, RedisBackend) {
  TestType backend;
  auto records = backend.records();
  std::set<Uuid> ids;
  for (int i = 0; i < 250; ++i) {
    const Uuid id = new_uuid();
    ids.insert(id);
    records->append(request(id, -1, 1));
  }
  std::set<Uuid> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = records->list_sequence_ids(cursor, 40);
    seen.insert(page.ids.begin(), page.ids.end());
    cursor = page.next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 1000);
  CHECK(seen == ids);
  CHECK(pages > 1);
  auto all = records->all_sequence_ids();
  CHECK(all.size() == ids.size());
  CHECK(std::set<Uuid>(all.begin(), all.end()) == ids);
}

// --- appends ---

TEMPLATE_TEST_CASE("appends: an atomic multi-record append with a conflict writes nothing",
                   "[append]", MemoryBackend, RedisBackend) {
  TestType backend;
  auto records = backend.records();
  const Uuid id = new_uuid();
  records->append(request(id, -1, 3));
  const int partition = partition_of(id, records->partitions());
  const auto log_before = records->last_notification_position(partition);

  auto results = records->append_batch({request(id, 1, 3, "late")});  // the stream is at 2
  REQUIRE(results.size() == 1);
  CHECK(results[0].status == AppendStatus::conflict);
  CHECK_FALSE(results[0].message.empty());
  CHECK_THROWS_AS(records->append(request(id, 1, 3, "late")), ConcurrencyError);
  CHECK_THROWS_AS(records->append(request(id, -1, 1, "late")), ConcurrencyError);
  CHECK(records->read(id, q()) == std::vector<SequencedRecord>{rec(id, 0), rec(id, 1), rec(id, 2)});
  CHECK(records->highest_position(id) == 2);
  CHECK(records->last_notification_position(partition) == log_before);
}

TEMPLATE_TEST_CASE("appends: malformed requests are refused and write nothing", "[append]",
                   MemoryBackend, RedisBackend) {
  TestType backend;
  auto records = backend.records();
  const Uuid id = new_uuid();

  auto gap = request(id, -1, 1);
  gap.records.push_back(rec(id, 2));  // 0 then 2
  auto wrong_start = request(id, -1, 1);
  wrong_start.records[0].position = 1;  // must start at expected + 1
  auto other_id = request(id, -1, 2);
  other_id.records[1].sequence_id = new_uuid();
  AppendRequest empty{id, -1, {}};
  auto bad_expected = request(id, -1, 1);
  bad_expected.expected_version = -2;
  auto two_line_topic = request(id, -1, 2);  // the Redis log lists an event per line
  two_line_topic.records[1].topic = "test.Thing\nHappened";
  const Uuid fine = new_uuid();

  auto results = records->append_batch(
      {gap, wrong_start, other_id, empty, bad_expected, two_line_topic, request(fine, -1, 2)});
  REQUIRE(results.size() == 7);
  for (int i = 0; i < 6; ++i) {
    CHECK(results[static_cast<std::size_t>(i)].status == AppendStatus::invalid);
    CHECK_FALSE(results[static_cast<std::size_t>(i)].message.empty());
  }
  CHECK(results[5].message == "a topic cannot contain a line break");
  CHECK(results[6].status == AppendStatus::stored);
  CHECK_THROWS_AS(records->append(gap), InvalidInput);
  CHECK(records->read(id, q()).empty());
  CHECK(records->highest_position(id) == -1);
  CHECK(positions(records->read(fine, q())) == span(0, 1));
}

TEMPLATE_TEST_CASE("appends: two threads race for the same version, exactly one wins", "[append]",
                   MemoryBackend, RedisBackend) {
  TestType backend;
  auto records = backend.records();
  const Uuid id = new_uuid();
  constexpr int kRounds = 100;
  std::atomic<int> arrived{0};
  std::vector<AppendStatus> outcome[2];
  auto racer = [&](int me) {
    for (int round = 0; round < kRounds; ++round) {
      // A spin barrier: both start round r together.
      arrived.fetch_add(1);
      while (arrived.load() < 2 * (round + 1)) std::this_thread::yield();
      auto r = records->append_batch({request(id, round - 1, 1, "racer" + std::to_string(me))});
      outcome[me].push_back(r.at(0).status);
    }
  };
  std::thread a(racer, 0), b(racer, 1);
  a.join();
  b.join();

  auto stored = records->read(id, q());
  REQUIRE(positions(stored) == span(0, kRounds - 1));
  for (int round = 0; round < kRounds; ++round) {
    const auto r0 = outcome[0][static_cast<std::size_t>(round)];
    const auto r1 = outcome[1][static_cast<std::size_t>(round)];
    INFO("round " << round);
    CHECK(((r0 == AppendStatus::stored) != (r1 == AppendStatus::stored)));
    CHECK((r0 == AppendStatus::conflict || r1 == AppendStatus::conflict));
    const int winner = r0 == AppendStatus::stored ? 0 : 1;
    CHECK(stored[static_cast<std::size_t>(round)] ==
          rec(id, round, "racer" + std::to_string(winner)));
  }
  const int partition = partition_of(id, records->partitions());
  CHECK(records->last_notification_position(partition) == kRounds);
}

TEMPLATE_TEST_CASE("appends: a batch across partitions where some conflict", "[append]",
                   MemoryBackend, RedisBackend, RedisOnePartitionPerCallBackend) {
  TestType backend;
  auto records = backend.records();
  constexpr int kEntities = 300;
  std::vector<Uuid> ids;
  std::vector<AppendRequest> create;
  for (int i = 0; i < kEntities; ++i) {
    ids.push_back(new_uuid());
    create.push_back(request(ids.back(), -1, 1));
  }
  auto created = records->append_batch(create);
  REQUIRE(created.size() == kEntities);
  for (const auto& r : created) REQUIRE(r.status == AppendStatus::stored);

  std::vector<AppendRequest> update;
  for (int i = 0; i < kEntities; ++i) {
    // Even: right expected version, 2 events. Odd: stale expectation (conflict).
    update.push_back(i % 2 == 0 ? request(ids[static_cast<std::size_t>(i)], 0, 2)
                                : request(ids[static_cast<std::size_t>(i)], -1, 1, "stale"));
  }
  auto results = records->append_batch(update);
  REQUIRE(results.size() == kEntities);
  std::int64_t total = 0;
  for (int i = 0; i < kEntities; ++i) {
    const auto& id = ids[static_cast<std::size_t>(i)];
    INFO("entity " << i);
    if (i % 2 == 0) {
      CHECK(results[static_cast<std::size_t>(i)].status == AppendStatus::stored);
      CHECK(positions(records->read(id, q())) == span(0, 2));
      total += 3;
    } else {
      CHECK(results[static_cast<std::size_t>(i)].status == AppendStatus::conflict);
      CHECK(records->read(id, q()) == std::vector<SequencedRecord>{rec(id, 0)});
      total += 1;
    }
  }
  std::int64_t logged = 0;
  for (int p = 0; p < records->partitions(); ++p) logged += records->last_notification_position(p);
  CHECK(logged == total);
}

TEMPLATE_TEST_CASE("appends: several appends for one entity in one batch apply in order",
                   "[append]", MemoryBackend, RedisBackend) {
  TestType backend;
  auto records = backend.records();
  const Uuid id = new_uuid();
  auto first = request(id, -1, 1);
  auto second = request(id, 0, 2);
  auto stale = request(id, -1, 1, "stale");
  auto results = records->append_batch({first, second, stale});
  REQUIRE(results.size() == 3);
  CHECK(results[0].status == AppendStatus::stored);
  CHECK(results[1].status == AppendStatus::stored);
  CHECK(results[2].status == AppendStatus::conflict);
  CHECK(positions(records->read(id, q())) == span(0, 2));

  // More appends to one entity than fit in one script call: still in order.
  const Uuid many = new_uuid();
  std::vector<AppendRequest> chain;
  for (int v = 0; v < 200; ++v) chain.push_back(request(many, v - 1, 1));
  for (const auto& r : records->append_batch(chain)) CHECK(r.status == AppendStatus::stored);
  CHECK(positions(records->read(many, q())) == span(0, 199));
}

// --- notification log ---

TEMPLATE_TEST_CASE("notification log: contiguous positions per partition, pages", "[notifications]",
                   MemoryBackend, RedisBackend, RedisOnePartitionPerCallBackend) {
  TestType backend;
  auto records = backend.records(4);
  REQUIRE(records->partitions() == 4);
  std::map<Uuid, std::int64_t> versions;
  std::vector<AppendRequest> batch;
  for (int i = 0; i < 40; ++i) {
    const Uuid id = new_uuid();
    versions[id] = 1 + i % 3;
    batch.push_back(request(id, -1, 1 + i % 3));
  }
  for (const auto& r : records->append_batch(batch)) REQUIRE(r.status == AppendStatus::stored);

  std::int64_t total = 0;
  for (int p = 0; p < 4; ++p) {
    auto all = records->read_notifications(p, 1, 10000);
    INFO("partition " << p);
    CHECK(records->last_notification_position(p) == static_cast<std::int64_t>(all.size()));
    std::map<Uuid, std::int64_t> next;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto& n = all[i];
      CHECK(n.position == static_cast<std::int64_t>(i) + 1);
      CHECK(partition_of(n.sequence_id, 4) == p);
      CHECK(n.version == next[n.sequence_id]++);  // each entity's versions in order
      CHECK(n.topic == "test.Thing.Happened");
    }
    total += static_cast<std::int64_t>(all.size());

    // Pages of 3 put back together give the same log.
    std::vector<Notification> paged;
    for (std::int64_t start = 1;; start += 3) {
      auto page = records->read_notifications(p, start, 3);
      paged.insert(paged.end(), page.begin(), page.end());
      if (page.size() < 3) break;
    }
    CHECK(paged == all);
    CHECK(records->read_notifications(p, static_cast<std::int64_t>(all.size()) + 1, 10).empty());
    CHECK(records->read_notifications(p, 1000000, 10).empty());
    CHECK(records->read_notifications(p, 1, 0).empty());
  }
  CHECK(total == 79);  // 14*1 + 13*2 + 13*3
  CHECK_THROWS_AS(records->read_notifications(4, 1, 10), InvalidInput);
  CHECK_THROWS_AS(records->read_notifications(-1, 1, 10), InvalidInput);
  CHECK_THROWS_AS(records->read_notifications(0, 0, 10), InvalidInput);
  CHECK_THROWS_AS(records->last_notification_position(4), InvalidInput);
}

// --- SnapshotStoreSpec ---

TEMPLATE_TEST_CASE("snapshot store spec", "[snapshots]", MemoryBackend, RedisBackend) {
  TestType backend;
  auto snapshots = backend.snapshots();
  const Uuid id = new_uuid();
  auto snap = [&](std::int64_t v, const std::string& state = "") {
    return SequencedRecord{id, v, "test.Thing.Snapshot",
                           state.empty() ? "{\"at\":" + std::to_string(v) + "}" : state};
  };

  SECTION("none for an unknown id") {
    CHECK_FALSE(snapshots->latest(new_uuid()).has_value());
    CHECK_FALSE(snapshots->latest(new_uuid(), 10).has_value());
  }
  SECTION("none when the criteria do not match") {
    snapshots->save(snap(5));
    CHECK_FALSE(snapshots->latest(id, 4).has_value());
    CHECK_FALSE(snapshots->latest(id, -1).has_value());
  }
  SECTION("latest, and latest at or below a bound") {
    snapshots->save(snap(1));
    snapshots->save(snap(5));
    snapshots->save(snap(3));
    CHECK(snapshots->latest(id) == snap(5));
    CHECK(snapshots->latest(id, 4) == snap(3));
    CHECK(snapshots->latest(id, 3) == snap(3));
    CHECK(snapshots->latest(id, 2) == snap(1));
    CHECK(snapshots->latest(id, 100) == snap(5));
    CHECK_FALSE(snapshots->latest(id, 0).has_value());
  }
  SECTION("delete one") {
    snapshots->save(snap(1));
    snapshots->save(snap(3));
    snapshots->save(snap(5));
    snapshots->delete_one(id, 5);
    CHECK(snapshots->latest(id) == snap(3));
    snapshots->delete_one(id, 4);  // nothing there
    CHECK(snapshots->latest(id) == snap(3));
  }
  SECTION("delete a range") {
    for (int v : {1, 2, 3, 5}) snapshots->save(snap(v));
    snapshots->delete_range(id, 1, 3);
    CHECK(snapshots->latest(id) == snap(5));
    CHECK_FALSE(snapshots->latest(id, 4).has_value());
    snapshots->delete_range(id, 6, 5);  // empty range: nothing
    CHECK(snapshots->latest(id) == snap(5));
  }
  SECTION("overwrite at the same version") {
    snapshots->save(snap(3, "{\"first\":true}"));
    snapshots->save(snap(3, "{\"second\":true}"));
    CHECK(snapshots->latest(id) == snap(3, "{\"second\":true}"));
    snapshots->delete_one(id, 3);
    CHECK_FALSE(snapshots->latest(id).has_value());  // no older copy left behind
  }
  SECTION("equal content at two versions stays two snapshots") {
    snapshots->save(snap(2, "same"));
    snapshots->save(snap(4, "same"));
    CHECK(snapshots->latest(id, 3) == snap(2, "same"));
    CHECK(snapshots->latest(id) == snap(4, "same"));
  }
  SECTION("a 10,000-byte snapshot") {
    std::string big;
    for (int i = 0; i < 10000; ++i) big.push_back(static_cast<char>(i % 256));  // any bytes
    snapshots->save(SequencedRecord{id, 7, "odd:topic:with:colons", big});
    auto got = snapshots->latest(id);
    REQUIRE(got.has_value());
    CHECK(got->state.size() == 10000);
    CHECK(*got == SequencedRecord{id, 7, "odd:topic:with:colons", big});
  }
}

// latest_many answers what latest() does for each lookup, in order.
TEMPLATE_TEST_CASE("snapshot store spec: many lookups in one call", "[snapshots]", MemoryBackend,
                   RedisBackend) {
  TestType backend;
  auto snapshots = backend.snapshots();
  std::vector<Uuid> ids{new_uuid(), new_uuid(), new_uuid()};
  for (const auto& id : ids) {
    for (int v : {1, 3, 5})
      snapshots->save(
          SequencedRecord{id, v, "test.Thing.Snapshot", "{\"at\":" + std::to_string(v) + "}"});
  }
  std::vector<SnapshotStore::Lookup> lookups{
      {ids[0], std::nullopt}, {ids[1], 4}, {ids[2], 0},       {ids[0], -1},
      {new_uuid(), 9},        {ids[2], 5}, {ids[1], 1000000}, {new_uuid(), std::nullopt}};
  const auto got = snapshots->latest_many(lookups);
  REQUIRE(got.size() == lookups.size());
  for (std::size_t i = 0; i < lookups.size(); ++i) {
    INFO("lookup " << i);
    CHECK(got[i] == snapshots->latest(lookups[i].id, lookups[i].max_version));
  }
  REQUIRE(got[0].has_value());
  CHECK(got[0]->position == 5);
  REQUIRE(got[1].has_value());
  CHECK(got[1]->position == 3);
  CHECK_FALSE(got[2].has_value());
  CHECK_FALSE(got[4].has_value());
  CHECK(snapshots->latest_many({}).empty());
}

// --- log store ---

TEMPLATE_TEST_CASE("log store: pages forwards and backwards, equal timestamps", "[logs]",
                   MemoryBackend, RedisBackend) {
  TestType backend;
  auto logs = backend.logs();
  const Uuid bucket = new_uuid();
  auto message = [&](std::int64_t ts, const std::string& text) {
    return SequencedRecord{bucket, ts, "test.Log.MessageLogged", "{\"message\":\"" + text + "\"}"};
  };
  for (int i = 0; i < 10; ++i) logs->append(message(1000 + i, "m" + std::to_string(i)));
  for (const char* t : {"a", "b", "c"}) logs->append(message(2000, t));

  SECTION("forwards in pages") {
    ReadQuery query;
    query.gte = 1002;
    query.limit = 3;
    CHECK(positions(logs->read(bucket, query)) == span(1002, 1004));
    query = {};
    query.gt = 1004;
    query.limit = 3;
    CHECK(positions(logs->read(bucket, query)) == span(1005, 1007));
    query = {};
    query.gt = 1007;
    query.lt = 2000;
    CHECK(positions(logs->read(bucket, query)) == span(1008, 1009));
  }
  SECTION("backwards in pages") {
    ReadQuery query;
    query.ascending = false;
    query.lt = 2000;
    query.limit = 3;
    CHECK(positions(logs->read(bucket, query)) == span(1009, 1007));
    query.lt = 1007;
    CHECK(positions(logs->read(bucket, query)) == span(1006, 1004));
    query.lt.reset();
    query.lte = 1001;
    CHECK(positions(logs->read(bucket, query)) == span(1001, 1000));
  }
  SECTION("equal timestamps keep their order of arrival") {
    ReadQuery query;
    query.gte = 2000;
    query.lte = 2000;
    auto up = logs->read(bucket, query);
    CHECK(up ==
          std::vector<SequencedRecord>{message(2000, "a"), message(2000, "b"), message(2000, "c")});
    query.ascending = false;
    auto down = logs->read(bucket, query);
    CHECK(down ==
          std::vector<SequencedRecord>{message(2000, "c"), message(2000, "b"), message(2000, "a")});
    query = {};
    query.ascending = false;
    query.limit = 2;
    CHECK(logs->read(bucket, query) ==
          std::vector<SequencedRecord>{message(2000, "c"), message(2000, "b")});
  }
  SECTION("everything, and an unknown bucket") {
    CHECK(logs->read(bucket, {}).size() == 13);
    CHECK(logs->read(new_uuid(), {}).empty());
    ReadQuery none;
    none.limit = 0;
    CHECK(logs->read(bucket, none).empty());
  }
}
