// Why: what only a real Redis can show: the stored layout checked with raw commands (not
// through the code under test), typed errors for corrupted data, the recorded partition
// count, authentication errors, and behaviour when the server dies, freezes or restarts.
#include <catch2/catch.hpp>

#include "domain/errors.hpp"
#include "persistence/partitioning.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_launcher.hpp"
#include "persistence/redis_log_store.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/redis_snapshot_store.hpp"
#include "persistence/redis_stores.hpp"
#include "support/redis_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace es;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kTopic = "test.Thing.Happened";

SequencedRecord rec(const Uuid& id, std::int64_t version, const std::string& tag = "") {
  return {id, version, kTopic, "{\"v\":" + std::to_string(version) + ",\"by\":\"" + tag + "\"}"};
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

// Versions 0 .. count - 1 of `id` (an entity of partition 3) written by hand, as an earlier
// store left them, without the store's log entries.
void write_events_by_hand(RedisConnection& c, const std::string& prefix, const Uuid& id,
                          int count) {
  for (int v = 0; v < count; ++v) {
    REQUIRE_FALSE(c.command({"XADD", prefix + ":{p03}:entity:" + to_string(id),
                             std::to_string(v) + "-1", "topic", kTopic, "state", "{}"})
                      .is_error());
  }
}

RedisStoreOptions store_options(const std::string& prefix, int partitions = 16) {
  RedisStoreOptions o;
  o.key_prefix = prefix;
  o.partitions = partitions;
  return o;
}

Uuid uuid(const char* text) {
  return *parse_uuid(text);
}

// The partition rule written out again, independently of partitioning.hpp.
int partition_by_hand(const Uuid& id, int partitions) {
  std::uint32_t head = 0;
  for (int i = 0; i < 4; ++i) head = head * 256 + id.data[i];
  return static_cast<int>(head % static_cast<std::uint32_t>(partitions));
}

std::vector<std::string> strings(const RedisReplyView& array) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < array.size(); ++i) out.emplace_back(array[i].str());
  return out;
}

std::set<std::string> scan_keys(RedisConnection& c, const std::string& pattern) {
  std::set<std::string> keys;
  std::string cursor = "0";
  do {
    auto reply = c.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    cursor = std::string(reply[0].str());
    for (auto& k : strings(reply[1])) keys.insert(k);
  } while (cursor != "0");
  return keys;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

RedisConnectionOptions fast_options() {
  RedisConnectionOptions o;
  o.connect_timeout = 500ms;
  o.command_timeout = 1000ms;
  o.backoff_initial = 20ms;
  o.backoff_max = 200ms;
  return o;
}

}  // namespace

TEST_CASE("redis store: the stored keys and entry IDs are exactly as documented",
          "[redis][layout]") {
  auto pool = test::redis_pool();
  const std::string prefix = test::fresh_prefix();
  RedisRecordManager records(pool, store_options(prefix));
  RedisSnapshotStore snapshots(pool, store_options(prefix));
  RedisLogStore logs(pool, store_options(prefix));

  const Uuid a = uuid("00000007-0000-4000-8000-00000000000a");  // partition 7
  const Uuid b = uuid("0000001f-0000-4000-8000-00000000000b");  // 31 % 16 = 15
  REQUIRE(partition_by_hand(a, 16) == 7);
  REQUIRE(partition_by_hand(b, 16) == 15);
  records.append(request(a, -1, 2));
  records.append(request(b, -1, 1));
  snapshots.save({a, 3, "test.Thing.Snapshot", "{\"at\":3}"});
  const Uuid bucket = uuid("9e2f5a8c-1111-4222-8333-444455556666");
  logs.append({bucket, 1700000000000001, "test.Log", "one"});
  logs.append({bucket, 1700000000000001, "test.Log", "two"});
  const Uuid d = uuid("0000002f-0000-4000-8000-00000000000d");  // 47 % 16 = 15, like b
  records.append(request(d, -1, 2));
  records.delete_records(d, 0);

  auto c = pool->acquire();
  const std::string entity_a = prefix + ":{p07}:entity:00000007-0000-4000-8000-00000000000a";
  const std::string entity_b = prefix + ":{p15}:entity:0000001f-0000-4000-8000-00000000000b";
  const std::string log7 = prefix + ":{p07}:log";
  const std::string log15 = prefix + ":{p15}:log";
  const std::string snapshot_a = prefix + ":{p07}:snapshot:00000007-0000-4000-8000-00000000000a";
  const std::string bucket_key = prefix + ":log:9e2f5a8c-1111-4222-8333-444455556666";
  const std::string meta = prefix + ":meta";
  const std::string entity_d = prefix + ":{p15}:entity:0000002f-0000-4000-8000-00000000000d";
  const std::string deleted15 = prefix + ":{p15}:deleted";

  CHECK(scan_keys(*c, prefix + ":*") == std::set<std::string>{meta, entity_a, entity_b, entity_d,
                                                              log7, log15, deleted15, snapshot_a,
                                                              bucket_key});
  CHECK(scan_keys(*c, "*:entity:*") == std::set<std::string>{entity_a, entity_b, entity_d});
  CHECK(c->command({"TYPE", deleted15}).str() == "set");
  CHECK(strings(c->command({"SMEMBERS", deleted15}).view()) ==
        std::vector<std::string>{"0000002f-0000-4000-8000-00000000000d"});
  auto left = c->command({"XRANGE", entity_d, "-", "+"});
  REQUIRE(left.size() == 1);
  CHECK(left[0][0].str() == "1-1");
  CHECK(c->command({"TYPE", entity_a}).str() == "stream");
  CHECK(c->command({"TYPE", log7}).str() == "stream");
  CHECK(c->command({"TYPE", snapshot_a}).str() == "zset");
  CHECK(c->command({"TYPE", bucket_key}).str() == "stream");
  CHECK(c->command({"TYPE", meta}).str() == "hash");
  CHECK(strings(c->command({"HGETALL", meta}).view()) ==
        std::vector<std::string>{"partitions", "16"});

  // Entity stream: ID "<version>-1", exactly the fields topic and state.
  auto entries = c->command({"XRANGE", entity_a, "-", "+"});
  REQUIRE(entries.size() == 2);
  for (std::size_t v = 0; v < 2; ++v) {
    CHECK(entries[v][0].str() == std::to_string(v) + "-1");
    CHECK(strings(entries[v][1]) ==
          std::vector<std::string>{"topic", kTopic, "state", rec(a, static_cast<int>(v)).state});
  }
  // Notification log: one entry per append call and partition, its ID "<position of its last
  // event>-1", one field events: a line "<id> <version> <topic>" per event.
  auto log = c->command({"XRANGE", log7, "-", "+"});
  REQUIRE(log.size() == 1);
  CHECK(log[0][0].str() == "2-1");
  CHECK(strings(log[0][1]) ==
        std::vector<std::string>{
            "events", to_string(a) + " 0 " + kTopic + "\n" + to_string(a) + " 1 " + kTopic + "\n"});
  auto log_b = c->command({"XRANGE", log15, "-", "+"});
  REQUIRE(log_b.size() == 2);  // b's event, then d's two (deletes leave the log alone)
  CHECK(log_b[0][0].str() == "1-1");
  CHECK(log_b[1][0].str() == "3-1");
  CHECK(strings(log_b[1][1]) ==
        std::vector<std::string>{
            "events", to_string(d) + " 0 " + kTopic + "\n" + to_string(d) + " 1 " + kTopic + "\n"});
  // Snapshot: score = version, member "<version>:<topic length>:<topic>:<state>".
  CHECK(strings(c->command({"ZRANGE", snapshot_a, "0", "-1", "WITHSCORES"}).view()) ==
        std::vector<std::string>{"3:19:test.Thing.Snapshot:{\"at\":3}", "3"});
  // Log bucket: "<timestamp>-<n>", fields topic and state.
  auto messages = c->command({"XRANGE", bucket_key, "-", "+"});
  REQUIRE(messages.size() == 2);
  CHECK(messages[0][0].str() == "1700000000000001-0");
  CHECK(messages[1][0].str() == "1700000000000001-1");
  CHECK(strings(messages[1][1]) == std::vector<std::string>{"topic", "test.Log", "state", "two"});
}

TEST_CASE("redis store: a log entry per append call and pages that start and stop inside one",
          "[redis][layout]") {
  auto pool = test::redis_pool();
  const std::string prefix = test::fresh_prefix();
  RedisRecordManager records(pool, store_options(prefix));
  auto c = pool->acquire();
  const std::string log3 = prefix + ":{p03}:log";
  // Written as stores before the grouped log did: one entry per event (positions 1, 2).
  const Uuid old = uuid("00000003-0000-4000-8000-0000000000a0");
  write_events_by_hand(*c, prefix, old, 2);
  for (int v = 0; v < 2; ++v) {
    REQUIRE_FALSE(c->command({"XADD", log3, std::to_string(v + 1) + "-1", "id", to_string(old),
                              "version", std::to_string(v), "topic", kTopic})
                      .is_error());
  }
  const Uuid x = uuid("00000013-0000-4000-8000-0000000000a1");  // 19 % 16 = 3
  const Uuid y = uuid("00000023-0000-4000-8000-0000000000a2");  // 35 % 16 = 3
  auto results = records.append_batch({request(x, -1, 3), request(y, -1, 1), request(old, 1, 2)});
  for (const auto& r : results) REQUIRE(r.status == AppendStatus::stored);
  records.append(request(x, 2, 1));
  CHECK(c->command({"XLEN", log3}).integer() == 4);  // two old entries, then one per call
  CHECK(records.last_notification_position(3) == 9);

  using Item = std::pair<Uuid, std::int64_t>;
  const std::vector<Item> expected{{old, 0}, {old, 1}, {x, 0},   {x, 1}, {x, 2},
                                   {y, 0},   {old, 2}, {old, 3}, {x, 3}};
  auto items = [&](std::int64_t start, std::size_t limit) {
    std::vector<Item> out;
    std::int64_t position = start;
    for (const auto& n : records.read_notifications(3, start, limit)) {
      CHECK(n.position == position++);  // each event at a position of its own
      CHECK(n.topic == kTopic);
      out.emplace_back(n.sequence_id, n.version);
    }
    return out;
  };
  auto slice = [&](std::size_t from, std::size_t n) {
    return std::vector<Item>(expected.begin() + static_cast<std::ptrdiff_t>(from),
                             expected.begin() + static_cast<std::ptrdiff_t>(from + n));
  };
  CHECK(items(1, 100) == expected);
  CHECK(items(1, std::numeric_limits<std::size_t>::max()) == expected);  // "everything"
  CHECK(items(4, 2) == slice(3, 2));   // starts and stops inside the grouped entry
  CHECK(items(2, 6) == slice(1, 6));   // from an old entry across the grouped one into the next
  CHECK(items(6, 1) == slice(5, 1));   // the grouped entry's last event alone
  CHECK(items(9, 10) == slice(8, 1));  // the last entry
  CHECK(items(10, 10).empty());

  // More than 1,000 events of one call: an entry per 1,000.
  const Uuid z = uuid("00000033-0000-4000-8000-0000000000a3");  // 51 % 16 = 3
  records.append(request(z, -1, 2500));
  auto tail = c->command({"XREVRANGE", log3, "+", "-", "COUNT", "3"});
  REQUIRE(tail.size() == 3);
  CHECK(tail[0][0].str() == "2509-1");
  CHECK(tail[1][0].str() == "2009-1");
  CHECK(tail[2][0].str() == "1009-1");
  auto lines_of = [](const RedisReplyView& entry) {
    REQUIRE(entry[1].size() == 2);
    const auto lines = entry[1][1].str();
    return std::count(lines.begin(), lines.end(), '\n');
  };
  CHECK(lines_of(tail[2]) == 1000);
  CHECK(lines_of(tail[1]) == 1000);
  CHECK(lines_of(tail[0]) == 500);  // the last chunk's entry holds only its own events
  const auto last_chunk = tail[0][1][1].str();
  CHECK(last_chunk.substr(0, last_chunk.find('\n')) == to_string(z) + " 2000 " + kTopic);
  auto across = records.read_notifications(3, 1008, 3);
  REQUIRE(across.size() == 3);
  CHECK(across[0].version == 998);
  CHECK(across[2].version == 1000);
  CHECK(across[2].position == 1010);

  // The top entry deleted by hand (the log's last generated ID stays above what it holds):
  // the next call's events go after it, a gap readers step over, none left out of the log.
  REQUIRE(c->command({"XDEL", log3, "2509-1"}).integer() == 1);
  records.append(request(x, 3, 1));
  CHECK(records.last_notification_position(3) == 2510);
  auto around = records.read_notifications(3, 2009, 5);
  REQUIRE(around.size() == 2);
  CHECK(around[0].position == 2009);
  CHECK(around[1].position == 2510);
  CHECK(around[1].sequence_id == x);
  CHECK(around[1].version == 4);
}

TEST_CASE("redis store: log entries of every form a store has written decode alike",
          "[redis][layout]") {
  auto pool = test::redis_pool();
  const std::string prefix = test::fresh_prefix();
  RedisRecordManager records(pool, store_options(prefix));
  auto c = pool->acquire();
  const std::string log3 = prefix + ":{p03}:log";
  const Uuid a = uuid("00000003-0000-4000-8000-0000000000b0");
  const Uuid b = uuid("00000013-0000-4000-8000-0000000000b1");  // 19 % 16 = 3
  write_events_by_hand(*c, prefix, a, 3);
  // One event per entry (the first stores), then (id, version, topic) per event of a group.
  REQUIRE_FALSE(
      c->command({"XADD", log3, "1-1", "id", to_string(a), "version", "0", "topic", kTopic})
          .is_error());
  REQUIRE_FALSE(c->command({"XADD", log3, "3-1", "id", to_string(a), "version", "1", "topic",
                            kTopic, "id", to_string(a), "version", "2", "topic", kTopic})
                    .is_error());
  // Then the packed form, written by the store.
  records.append_batch({request(a, 2, 1), request(b, -1, 2)});
  using Item = std::tuple<std::int64_t, Uuid, std::int64_t, std::string>;
  std::vector<Item> read;
  for (const auto& n : records.read_notifications(3, 1, 100)) {
    read.emplace_back(n.position, n.sequence_id, n.version, n.topic);
  }
  CHECK(read == std::vector<Item>{{1, a, 0, kTopic},
                                  {2, a, 1, kTopic},
                                  {3, a, 2, kTopic},
                                  {4, a, 3, kTopic},
                                  {5, b, 0, kTopic},
                                  {6, b, 1, kTopic}});
  CHECK(c->command({"XLEN", log3}).integer() == 3);
  CHECK(records.read_notifications(3, 5, 1).at(0).sequence_id == b);  // inside the packed one
}

TEST_CASE("redis store: partition tags get more digits beyond 100 partitions", "[redis][layout]") {
  auto pool = test::redis_pool();
  const std::string prefix = test::fresh_prefix();
  RedisRecordManager records(pool, store_options(prefix, 150));
  const Uuid a = uuid("00000007-0000-4000-8000-00000000000a");
  const Uuid b = uuid("00000095-0000-4000-8000-00000000000b");  // 149
  records.append(request(a, -1, 1));
  records.append(request(b, -1, 1));
  auto c = pool->acquire();
  CHECK(scan_keys(*c, prefix + ":*") ==
        std::set<std::string>{prefix + ":meta", prefix + ":{p007}:entity:" + to_string(a),
                              prefix + ":{p007}:log", prefix + ":{p149}:entity:" + to_string(b),
                              prefix + ":{p149}:log"});
  CHECK(records.read_notifications(149, 1, 10).size() == 1);
}

TEST_CASE("redis store: the partition count is recorded, a different one is refused",
          "[redis][config]") {
  auto pool = test::redis_pool();
  const std::string prefix = test::fresh_prefix();
  RedisRecordManager first(pool, store_options(prefix, 16));
  try {
    RedisRecordManager other(pool, store_options(prefix, 8));
    FAIL("opened with another partition count");
  } catch (const ConfigurationError& e) {
    CHECK(std::string(e.what()).find("16") != std::string::npos);
  }
  CHECK_THROWS_AS(RedisSnapshotStore(pool, store_options(prefix, 8)), ConfigurationError);
  CHECK(RedisRecordManager(pool, store_options(prefix, 0)).partitions() == 16);
  CHECK(RedisRecordManager(pool, store_options(test::fresh_prefix(), 0)).partitions() ==
        kDefaultPartitions);
  CHECK(RedisRecordManager(pool, store_options(prefix, 16)).partitions() == 16);
  for (const char* bad : {"", "a{b", "a}b", "a b", "x:entity", "x:entity:y"}) {
    INFO(bad);
    CHECK_THROWS_AS(RedisRecordManager(pool, store_options(bad)), ConfigurationError);
  }
}

TEST_CASE("redis store: corrupted entries give typed errors", "[redis][corrupt]") {
  auto pool = test::redis_pool();
  const std::string prefix = test::fresh_prefix();
  RedisRecordManager records(pool, store_options(prefix));
  RedisSnapshotStore snapshots(pool, store_options(prefix));
  const std::string secret = "{\"secret\":\"do-not-print\"}";
  auto key = [&](const Uuid& id) {
    char tag[8];
    std::snprintf(tag, sizeof tag, "{p%02d}", partition_by_hand(id, 16));
    return prefix + ":" + tag + ":entity:" + to_string(id);
  };
  auto c = pool->acquire();
  auto expect_decoding_error = [&](const Uuid& id) {
    try {
      records.read(id, {});
      FAIL("read a corrupted entry");
    } catch (const RecordDecodingError& e) {
      CHECK(std::string(e.what()).find("do-not-print") == std::string::npos);
    }
  };

  SECTION("an entry without state") {
    const Uuid id = new_uuid();
    REQUIRE_FALSE(c->command({"XADD", key(id), "0-1", "topic", kTopic}).is_error());
    expect_decoding_error(id);
  }
  SECTION("an entry without topic") {
    const Uuid id = new_uuid();
    REQUIRE_FALSE(c->command({"XADD", key(id), "0-1", "state", secret}).is_error());
    expect_decoding_error(id);
  }
  SECTION("an extra field") {
    const Uuid id = new_uuid();
    REQUIRE_FALSE(c->command({"XADD", key(id), "0-1", "topic", kTopic, "state", secret, "x", "y"})
                      .is_error());
    expect_decoding_error(id);
  }
  SECTION("an entry ID not of the form <version>-1") {
    const Uuid id = new_uuid();
    REQUIRE_FALSE(
        c->command({"XADD", key(id), "3-7", "topic", kTopic, "state", secret}).is_error());
    expect_decoding_error(id);
  }
  SECTION("a key of the wrong type") {
    const Uuid id = new_uuid();
    REQUIRE_FALSE(c->command({"SET", key(id), secret}).is_error());
    expect_decoding_error(id);
    // Another entity of the same partition in the same script call is not affected.
    Uuid neighbour = new_uuid();
    for (int i = 0; i < 4; ++i) neighbour.data[i] = id.data[i];
    auto results = records.append_batch({request(id, -1, 1), request(neighbour, -1, 1),
                                         request(id, 0, 1), request(neighbour, 0, 1)});
    REQUIRE(results.size() == 4);
    CHECK(results[0].status == AppendStatus::invalid);
    CHECK(results[1].status == AppendStatus::stored);
    CHECK(results[2].status == AppendStatus::invalid);
    CHECK(results[3].status == AppendStatus::stored);
    CHECK(records.highest_position(neighbour) == 1);
    CHECK(c->command({"GET", key(id)}).str() == secret);  // untouched
  }
  SECTION("a foreign entry above the length: the append conflicts and writes nothing") {
    const Uuid id = uuid("00000005-0000-4000-8000-0000000000f0");
    Uuid neighbour = uuid("00000005-0000-4000-8000-0000000000f1");
    REQUIRE_FALSE(
        c->command({"XADD", key(id), "5-7", "topic", kTopic, "state", secret}).is_error());
    auto results = records.append_batch({request(id, 0, 3), request(neighbour, -1, 1)});
    REQUIRE(results.size() == 2);
    CHECK(results[0].status == AppendStatus::conflict);
    CHECK(results[1].status == AppendStatus::stored);
    CHECK(c->command({"XLEN", key(id)}).integer() == 1);
    CHECK(records.last_notification_position(5) == 1);  // the neighbour's event only
  }
  SECTION("a corrupted notification") {
    REQUIRE_FALSE(c->command({"XADD", prefix + ":{p03}:log", "1-1", "id", "not-a-uuid", "version",
                              "0", "topic", kTopic})
                      .is_error());
    CHECK_THROWS_AS(records.read_notifications(3, 1, 10), RecordDecodingError);
  }
  SECTION("a log entry listing more events than positions below its ID") {
    REQUIRE_FALSE(
        c->command({"XADD", prefix + ":{p03}:log", "1-1", "id",
                    to_string(uuid("00000003-0000-4000-8000-000000000001")), "version", "0",
                    "topic", kTopic, "id", to_string(uuid("00000003-0000-4000-8000-000000000001")),
                    "version", "1", "topic", kTopic})
            .is_error());
    CHECK_THROWS_AS(records.read_notifications(3, 1, 10), RecordDecodingError);
  }
  SECTION("a log entry with a partial event") {
    REQUIRE_FALSE(c->command({"XADD", prefix + ":{p03}:log", "2-1", "id",
                              "00000003-0000-4000-8000-000000000001", "version", "0", "topic",
                              kTopic, "id", "00000003-0000-4000-8000-000000000001"})
                      .is_error());
    CHECK_THROWS_AS(records.read_notifications(3, 1, 10), RecordDecodingError);
  }
  SECTION("log entries of no documented form") {
    const std::string event = "00000003-0000-4000-8000-000000000001 0 " + kTopic;
    std::vector<std::string> fields;
    SECTION("no line break after the last event") {
      fields = {"events", event};
    }
    SECTION("a line without its version") {
      fields = {"events", "00000003-0000-4000-8000-000000000001\n"};
    }
    SECTION("a version that is no number") {
      fields = {"events", "00000003-0000-4000-8000-000000000001 x " + kTopic + "\n"};
    }
    SECTION("an id that is no uuid") {
      fields = {"events", "not-a-uuid 0 " + kTopic + "\n"};
    }
    SECTION("more lines than positions below the entry ID") {
      fields = {"events", event + "\n" + event + "\n"};
    }
    SECTION("no line at all") {
      fields = {"events", ""};
    }
    SECTION("a second field") {
      fields = {"events", event + "\n", "x", "y"};
    }
    SECTION("an earlier form with its fields out of order") {
      fields = {"version", "0", "id", "00000003-0000-4000-8000-000000000001", "topic", kTopic};
    }
    const std::string log3 = prefix + ":{p03}:log";
    RedisArgs xadd{"XADD", log3, "1-1"};
    for (const auto& f : fields) xadd.add(f);
    REQUIRE_FALSE(c->command(xadd).is_error());
    CHECK_THROWS_AS(records.read_notifications(3, 1, 10), RecordDecodingError);
  }
  SECTION("a corrupted snapshot") {
    const Uuid id = uuid("00000002-0000-4000-8000-000000000000");
    REQUIRE_FALSE(c->command({"ZADD", prefix + ":{p02}:snapshot:" + to_string(id), "1", "garbage"})
                      .is_error());
    CHECK_THROWS_AS(snapshots.latest(id), RecordDecodingError);
  }
}

TEST_CASE("redis store: a lost script is loaded again transparently", "[redis][script]") {
  auto pool = test::redis_pool();
  RedisRecordManager records(pool, store_options(test::fresh_prefix()));
  const Uuid id = new_uuid();
  records.append(request(id, -1, 1));
  REQUIRE_FALSE(pool->acquire()->command({"SCRIPT", "FLUSH"}).is_error());
  records.append(request(id, 0, 1));
  CHECK(records.highest_position(id) == 1);
}

TEST_CASE("redis store: one call over several partitions is refused whole when one log is bad",
          "[redis][append]") {
  auto pool = test::redis_pool();
  const auto prefix = test::fresh_prefix();
  RedisRecordManager records(pool, store_options(prefix, 4));
  // Entities of partitions 0 and 3; partition 3's log key holds a string.
  const Uuid first = uuid("00000000-0000-4000-8000-000000000001");
  const Uuid second = uuid("00000003-0000-4000-8000-000000000002");
  REQUIRE(partition_by_hand(first, 4) == 0);
  REQUIRE(partition_by_hand(second, 4) == 3);
  auto c = pool->acquire();
  REQUIRE_FALSE(c->command({"SET", prefix + ":{p03}:log", "not a stream"}).is_error());
  auto results = records.append_batch({request(first, -1, 2), request(second, -1, 1)});
  REQUIRE(results.size() == 2);
  for (const auto& r : results) {
    CHECK(r.status == AppendStatus::invalid);
    CHECK(r.message.find("WRONGTYPE") != std::string::npos);
  }
  // Nothing of the call was written, not even the healthy partition's append.
  CHECK(c->command({"EXISTS", prefix + ":{p00}:entity:" + to_string(first)}).integer() == 0);
  CHECK(c->command({"EXISTS", prefix + ":{p00}:log"}).integer() == 0);
  // Once the log is a stream again, the same batch goes through in one call.
  REQUIRE_FALSE(c->command({"DEL", prefix + ":{p03}:log"}).is_error());
  results = records.append_batch({request(first, -1, 2), request(second, -1, 1)});
  CHECK(results.at(0).status == AppendStatus::stored);
  CHECK(results.at(1).status == AppendStatus::stored);
  CHECK(records.last_notification_position(0) == 2);
  CHECK(records.last_notification_position(3) == 1);
}

TEST_CASE("redis store: conflict messages hold no event data", "[redis][append]") {
  auto pool = test::redis_pool();
  RedisRecordManager records(pool, store_options(test::fresh_prefix()));
  const Uuid id = new_uuid();
  records.append(request(id, -1, 1, "private-data"));
  auto result = records.append_batch({request(id, -1, 1, "private-data")}).at(0);
  CHECK(result.status == AppendStatus::conflict);
  CHECK(result.message.find("private-data") == std::string::npos);
  CHECK(result.message.find("at version 0") != std::string::npos);
}

TEST_CASE("redis log store: pages internally across equal timestamps", "[redis][logs]") {
  auto pool = test::redis_pool();
  auto options = store_options(test::fresh_prefix());
  options.read_page_size = 2;
  RedisLogStore logs(pool, options);
  const Uuid bucket = new_uuid();
  std::vector<SequencedRecord> sent;
  for (int i = 0; i < 7; ++i) {
    sent.push_back({bucket, 5000 + i / 3, "test.Log", "m" + std::to_string(i)});
    logs.append(sent.back());
  }
  CHECK(logs.read(bucket, {}) == sent);
  ReadQuery down;
  down.ascending = false;
  CHECK(logs.read(bucket, down) == std::vector<SequencedRecord>(sent.rbegin(), sent.rend()));
  ReadQuery middle;
  middle.gte = 5001;
  middle.lte = 5001;
  CHECK(logs.read(bucket, middle) ==
        std::vector<SequencedRecord>(sent.begin() + 3, sent.begin() + 6));
  CHECK_THROWS_AS(logs.append({bucket, 4999, "test.Log", "late"}), InvalidInput);
  CHECK_THROWS_AS(logs.append({bucket, -1, "test.Log", "negative"}), InvalidInput);
}

TEST_CASE("redis store: a wrong password is a clear ConfigurationError", "[redis][auth]") {
  RedisServerOptions options;
  options.data_dir = test::temp_dir("auth");
  options.password = "right-horse-battery";
  RedisServer server(options);
  CHECK(server.url().find("right-horse-battery") != std::string::npos);
  CHECK(server.redis_url().to_string().find("right-horse-battery") == std::string::npos);

  auto expect_auth_error = [&](RedisUrl url, const char* hint) {
    auto pool = std::make_shared<RedisPool>(url, fast_options(), 2);
    try {
      RedisRecordManager records(pool, store_options("p"));
      FAIL("connected");
    } catch (const ConfigurationError& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find("authentication") != std::string::npos);
      CHECK(message.find(hint) != std::string::npos);
      CHECK(message.find("right-horse-battery") == std::string::npos);
      CHECK(message.find("wrong-pony") == std::string::npos);
    }
  };
  auto wrong = server.redis_url();
  wrong.password = "wrong-pony";
  expect_auth_error(wrong, "check the password");
  auto none = server.redis_url();
  none.password.clear();
  expect_auth_error(none, "requires a password");

  auto pool = std::make_shared<RedisPool>(server.url(), fast_options(), 2);
  RedisRecordManager records(pool, store_options("p"));
  const Uuid id = new_uuid();
  records.append(request(id, -1, 1));
  CHECK(records.highest_position(id) == 0);
}

TEST_CASE("redis store: nothing listening is StoreUnavailable, fast", "[redis][unavailable]") {
  RedisServerOptions options;
  options.data_dir = test::temp_dir("gone");
  RedisServer server(options);
  const auto url = server.redis_url();
  server.stop();
  auto pool = std::make_shared<RedisPool>(url, fast_options(), 2);
  const auto start = Clock::now();
  CHECK_THROWS_AS(RedisRecordManager(pool, store_options("p")), StoreUnavailable);
  // Refused at once: milliseconds; the bound is 5x the command timeout, proof of no hang.
  CHECK(seconds_since(start) < 5.0);
}

TEST_CASE("redis store: killed mid-run, then restarted on the same directory", "[redis][kill]") {
  RedisServerOptions options;
  options.data_dir = test::temp_dir("kill");
  options.fsync_always = true;
  RedisServer server(options);
  const int port = server.port();
  auto pool = std::make_shared<RedisPool>(server.redis_url(), fast_options(), 4);
  RedisRecordManager records(pool, store_options("k"));
  constexpr int kEntities = 50;
  std::vector<Uuid> ids;
  for (int i = 0; i < kEntities; ++i) ids.push_back(new_uuid());
  std::vector<std::int64_t> acknowledged(kEntities, -1);  // highest acknowledged version

  std::atomic<bool> failed{false};
  Clock::time_point failed_at{};
  std::string failure;
  std::thread writer([&] {
    try {
      for (int round = 0;; ++round) {
        std::vector<AppendRequest> batch;
        std::vector<int> which;
        for (int k = 0; k < 10; ++k) {
          const int i = (round * 10 + k) % kEntities;
          batch.push_back(request(ids[static_cast<std::size_t>(i)],
                                  acknowledged[static_cast<std::size_t>(i)], 1, "w"));
          which.push_back(i);
        }
        auto results = records.append_batch(batch);
        for (std::size_t k = 0; k < results.size(); ++k) {
          if (results[k].status != AppendStatus::stored) throw std::logic_error("not stored");
          ++acknowledged[static_cast<std::size_t>(which[k])];
        }
      }
    } catch (const StoreUnavailable& e) {
      failed_at = Clock::now();
      failure = e.what();
      failed = true;
    }
  });
  std::this_thread::sleep_for(300ms);
  const auto killed_at = Clock::now();
  server.kill();
  writer.join();
  REQUIRE(failed);
  const double to_failure = std::chrono::duration<double>(failed_at - killed_at).count();
  CHECK(to_failure < 5.0);  // a closed socket is seen at once; 5x the 1 s command timeout
  CHECK(failure.find("Redis") != std::string::npos);

  // While it is down: every call fails within the timeout, none hangs.
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    CHECK_THROWS_AS(records.append_batch({request(ids[0], acknowledged[0], 1)}), StoreUnavailable);
    CHECK_THROWS_AS(records.highest_position(ids[0]), StoreUnavailable);
    CHECK(seconds_since(start) < 5.0);  // refused + at most one backoff (200 ms); 5x timeout
  }
  std::int64_t total = 0;
  for (auto v : acknowledged) total += v + 1;
  CHECK(total > 0);

  server.restart();
  CHECK(server.port() == port);
  // The same manager and pool reconnect by themselves (and reload the script).
  records.append(request(ids[0], records.highest_position(ids[0]), 1, "after"));
  for (int i = 0; i < kEntities; ++i) {
    const auto& id = ids[static_cast<std::size_t>(i)];
    auto stored = records.read(id, {});
    INFO("entity " << i);
    REQUIRE(static_cast<std::int64_t>(stored.size()) >=
            acknowledged[static_cast<std::size_t>(i)] + 1);
    for (std::int64_t v = 0; v <= acknowledged[static_cast<std::size_t>(i)]; ++v) {
      CHECK(stored[static_cast<std::size_t>(v)] == rec(id, v, "w"));
    }
  }
}

TEST_CASE("redis store: a frozen server is StoreUnavailable after the command timeout",
          "[redis][timeout]") {
  RedisServerOptions options;
  options.data_dir = test::temp_dir("frozen");
  RedisServer server(options);
  auto connection_options = fast_options();
  connection_options.command_timeout = 500ms;
  auto pool = std::make_shared<RedisPool>(server.redis_url(), connection_options, 2);
  RedisRecordManager records(pool, store_options("f"));
  const Uuid id = new_uuid();
  records.append(request(id, -1, 1));

  REQUIRE(::kill(server.pid(), SIGSTOP) == 0);
  struct Thaw {
    pid_t pid;
    ~Thaw() { ::kill(pid, SIGCONT); }
  } thaw{server.pid()};
  auto start = Clock::now();
  CHECK_THROWS_AS(records.read(id, {}), StoreUnavailable);
  double elapsed = seconds_since(start);
  CHECK(elapsed >= 0.4);
  CHECK(elapsed < 2.5);  // the 500 ms command timeout, generously (5x)
  start = Clock::now();
  CHECK_THROWS_AS(records.append(request(id, 0, 1)), StoreUnavailable);
  CHECK(seconds_since(start) < 2.5);

  ::kill(server.pid(), SIGCONT);
  // The timed-out connections were dropped; the next calls work again. The append sent
  // while frozen may or may not have been applied (it was never acknowledged).
  const auto highest = records.highest_position(id);
  CHECK((highest == 0 || highest == 1));
  records.append(request(id, highest, 1));
  CHECK(records.highest_position(id) == highest + 1);
}

TEST_CASE("redis launcher: graceful stop and restart keep the data", "[redis][launcher]") {
  RedisServerOptions options;
  options.data_dir = test::temp_dir("restart");
  RedisServer server(options);
  REQUIRE(server.running());
  CHECK(server.port() > 0);
  CHECK(server.url() == "redis://127.0.0.1:" + std::to_string(server.port()));
  auto pool = std::make_shared<RedisPool>(server.url(), fast_options(), 2);
  {
    RedisRecordManager records(pool, store_options("r"));
    const Uuid id = uuid("00000001-0000-4000-8000-000000000001");
    records.append(request(id, -1, 3));
    server.stop();
    CHECK_FALSE(server.running());
    server.restart();
    REQUIRE(server.running());
    CHECK(records.read(id, {}).size() == 3);
  }
  CHECK(std::filesystem::exists(server.log_file()));
  CHECK(std::filesystem::exists(options.data_dir / "redis.conf"));
  // The configuration file holds the chosen settings.
  std::ifstream conf(options.data_dir / "redis.conf");
  std::string text((std::istreambuf_iterator<char>(conf)), std::istreambuf_iterator<char>());
  CHECK(text.find("appendonly yes") != std::string::npos);
  CHECK(text.find("appendfsync everysec") != std::string::npos);
  CHECK(text.find("save \"\"") != std::string::npos);
  CHECK(text.find("stream-node-max-bytes " + std::to_string(kDefaultStreamNodeMaxBytes)) !=
        std::string::npos);
  auto c = pool->acquire();
  auto fsync = c->command({"CONFIG", "GET", "appendfsync"});
  REQUIRE(fsync.size() == 2);
  CHECK(fsync[1].str() == "everysec");
}

TEST_CASE("redis launcher: the child dies with its owner, even on SIGKILL", "[redis][launcher]") {
  const auto dir = test::temp_dir("orphan");
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t owner = ::fork();
  REQUIRE(owner >= 0);
  if (owner == 0) {
    ::close(fds[0]);
    pid_t redis = -1;
    try {
      RedisServerOptions options;
      options.data_dir = dir;
      RedisServer server(options);
      redis = server.pid();
      (void)!::write(fds[1], &redis, sizeof redis);
      for (;;) ::pause();
    } catch (...) {
    }
    (void)!::write(fds[1], &redis, sizeof redis);
    ::_exit(1);
  }
  ::close(fds[1]);
  pid_t redis = -1;
  REQUIRE(::read(fds[0], &redis, sizeof redis) == static_cast<ssize_t>(sizeof redis));
  ::close(fds[0]);
  REQUIRE(redis > 0);
  CHECK(::kill(redis, 0) == 0);
  ::kill(owner, SIGKILL);
  ::waitpid(owner, nullptr, 0);
  auto alive = [](pid_t pid) {
    if (::kill(pid, 0) != 0) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pid_text, name, state;
    stat >> pid_text >> name >> state;
    return state != "Z";
  };
  const auto start = Clock::now();
  while (alive(redis) && seconds_since(start) < 3.0) std::this_thread::sleep_for(10ms);
  CHECK_FALSE(alive(redis));
}

TEST_CASE("redis pool: many threads share a few connections", "[redis][pool]") {
  auto pool = std::make_shared<RedisPool>(test::redis_server().redis_url(),
                                          test::test_connection_options(), 2);
  RedisRecordManager records(pool, store_options(test::fresh_prefix()));
  std::vector<Uuid> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(new_uuid());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int v = 0; v < 50; ++v)
        records.append(request(ids[static_cast<std::size_t>(t)], v - 1, 1));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& id : ids) CHECK(records.highest_position(id) == 49);
}

TEST_CASE("redis connection: pipelined replies come back in order", "[redis][connection]") {
  RedisConnection c(test::redis_server().redis_url(), test::test_connection_options());
  const std::string key = test::fresh_prefix() + ":counter";
  std::vector<RedisArgs> commands;
  for (int i = 0; i < 1000; ++i) commands.push_back(RedisArgs{"INCR", key});
  auto replies = c.pipeline(commands);
  REQUIRE(replies.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(replies[static_cast<std::size_t>(i)].integer() == i + 1);
  auto error = c.command({"NOSUCHCOMMAND"});
  CHECK(error.is_error());
  CHECK(c.command({"PING"}).str() == "PONG");  // still in step after an error reply
}

TEST_CASE("redis connection: the database of the URL is selected on connect",
          "[redis][connection]") {
  auto url = test::redis_server().redis_url();
  url.db = 3;
  auto pool = std::make_shared<RedisPool>(url, test::test_connection_options(), 2);
  const std::string prefix = test::fresh_prefix();
  RedisRecordManager records(pool, store_options(prefix));
  const Uuid id = new_uuid();
  records.append(request(id, -1, 1));
  RedisConnection raw(test::redis_server().redis_url(), test::test_connection_options());
  CHECK(raw.command({"EXISTS", prefix + ":meta"}).integer() == 0);  // not in db 0
  CHECK(raw.command({"SELECT", "3"}).str() == "OK");
  CHECK(raw.command({"EXISTS", prefix + ":meta"}).integer() == 1);
}

TEST_CASE("redis stores: the three stores of one prefix over one pool", "[redis][stores]") {
  auto options = store_options(test::fresh_prefix(), 0);
  auto stores = redis_stores(test::redis_pool(), options);
  REQUIRE(stores.events);
  REQUIRE(stores.snapshots);
  REQUIRE(stores.logs);
  CHECK(stores.events->partitions() == kDefaultPartitions);
  const Uuid id = new_uuid();
  stores.events->append(request(id, -1, 2));
  stores.snapshots->save({id, 1, "test.Thing.Snapshot", "{}"});
  stores.logs->append({id, 10, "test.Log", "hello"});
  CHECK(stores.events->highest_position(id) == 1);
  CHECK(stores.snapshots->latest(id)->position == 1);
  CHECK(stores.logs->read(id, {}).size() == 1);
}

TEST_CASE("redis connection: a server that resets mid-write is StoreUnavailable, not SIGPIPE",
          "[redis][connection]") {
  // A fake server: answers the PING of the connection setup, then reads a little of the next
  // (large) command, closes its side and resets the connection while the client writes.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 1) == 0);
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  std::thread server([listener] {
    int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) return;
    char buf[65536];
    (void)!::read(fd, buf, sizeof buf);  // "*1\r\n$4\r\nPING\r\n"
    (void)!::write(fd, "+PONG\r\n", 7);
    (void)!::read(fd, buf, sizeof buf);  // the start of the big command
    // FIN first (the client is still writing), then a reset: the client's next write fails
    // with EPIPE, which raises SIGPIPE unless the connection guards against it.
    ::shutdown(fd, SHUT_WR);
    std::this_thread::sleep_for(100ms);
    linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
  });
  RedisUrl url;
  url.host = "127.0.0.1";
  url.port = ntohs(addr.sin_port);
  RedisNodeConnection c(url, fast_options());
  c.connect();
  const std::string big(16 << 20, 'x');
  CHECK_THROWS_AS(c.command({"SET", "k", big}), StoreUnavailable);
  CHECK_FALSE(c.connected());
  server.join();
  ::close(listener);
}

TEST_CASE("redis store: a server out of memory is StoreUnavailable and nothing is written",
          "[redis][oom]") {
  RedisServerOptions options;
  options.data_dir = test::temp_dir("oom");
  RedisServer server(options);
  auto pool = std::make_shared<RedisPool>(server.redis_url(), fast_options(), 2);
  RedisRecordManager records(pool, store_options("o"));
  const Uuid id = new_uuid();
  records.append(request(id, -1, 1));
  auto c = pool->acquire();
  REQUIRE(c->command({"CONFIG", "SET", "maxmemory", "1"}).str() == "OK");
  CHECK_THROWS_AS(records.append_batch({request(id, 0, 2), request(new_uuid(), -1, 1)}),
                  StoreUnavailable);
  REQUIRE(c->command({"CONFIG", "SET", "maxmemory", "0"}).str() == "OK");
  CHECK(records.highest_position(id) == 0);
  CHECK(records.last_notification_position(partition_of(id, 16)) == 1);
  records.append(request(id, 0, 2));
  CHECK(records.highest_position(id) == 2);
}
