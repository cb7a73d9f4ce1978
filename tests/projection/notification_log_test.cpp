// Why: the notification log's sections must link as the reference's do ("1,20", "current",
// previous/next), over both stores, and a reader following the links must see every
// notification once, in order; GET /notifications' page rules live here too.
#include <catch2/catch.hpp>

#include "domain/errors.hpp"
#include "persistence/memory_record_manager.hpp"
#include "persistence/notification_log.hpp"
#include "persistence/redis_record_manager.hpp"
#include "support/redis_fixture.hpp"

using namespace es;

namespace {

std::shared_ptr<RecordManager> store(bool redis) {
  if (!redis) return std::make_shared<MemoryRecordManager>(1);
  RedisStoreOptions o;
  o.key_prefix = test::fresh_prefix();
  o.partitions = 1;
  return std::make_shared<RedisRecordManager>(test::redis_pool(), o);
}

// `count` notifications in partition 0: entities of 3 events each.
void fill(RecordManager& records, int count) {
  std::vector<AppendRequest> requests;
  for (int made = 0; made < count;) {
    AppendRequest r;
    r.sequence_id = new_uuid();
    for (int v = 0; v < 3 && made < count; ++v, ++made) {
      r.records.push_back(
          {r.sequence_id, v, "test.Thing.Happened", "{\"v\":" + std::to_string(v) + "}"});
    }
    requests.push_back(std::move(r));
  }
  for (const auto& result : records.append_batch(requests))
    REQUIRE(result.status == AppendStatus::stored);
}

}  // namespace

TEST_CASE("notification log sections link like the reference's", "[notification-log]") {
  const bool redis = GENERATE(false, true);
  INFO((redis ? "redis" : "memory"));
  auto records = store(redis);
  NotificationLog log(records, 20);

  SECTION("empty log") {
    auto s = log.section(0, "current");
    CHECK(s.section_id == "1,20");
    CHECK(s.items.empty());
    CHECK_FALSE(s.previous_id);
    CHECK_FALSE(s.next_id);
  }

  SECTION("45 notifications") {
    fill(*records, 45);
    auto first = log.section(0, "1,20");
    CHECK(first.section_id == "1,20");
    REQUIRE(first.items.size() == 20);
    CHECK(first.items.front().position == 1);
    CHECK(first.items.back().position == 20);
    CHECK_FALSE(first.previous_id);
    CHECK(first.next_id == std::optional<std::string>("21,40"));

    auto second = log.section(0, *first.next_id);
    CHECK(second.items.front().position == 21);
    CHECK(second.previous_id == std::optional<std::string>("1,20"));
    CHECK(second.next_id == std::optional<std::string>("41,60"));

    auto current = log.section(0, "current");
    CHECK(current.section_id == "41,60");
    REQUIRE(current.items.size() == 5);
    CHECK(current.items.back().position == 45);
    CHECK(current.previous_id == std::optional<std::string>("21,40"));
    CHECK_FALSE(current.next_id);

    // Any position inside a section names that section; "first," works too.
    CHECK(log.section(0, "25,30").section_id == "21,40");
    CHECK(log.section(0, "33,").section_id == "21,40");
    CHECK(log.section(0, "61,80").items.empty());

    // Items carry what the log holds.
    auto all = records->read_notifications(0, 1, 100);
    for (std::size_t i = 0; i < 20; ++i) CHECK(first.items[i] == all[i]);
  }

  SECTION("a full last section: current is the empty one after it (as the reference)") {
    fill(*records, 40);
    auto current = log.section(0, "current");
    CHECK(current.section_id == "41,60");
    CHECK(current.items.empty());
    CHECK(current.previous_id == std::optional<std::string>("21,40"));
    CHECK_FALSE(current.next_id);
    CHECK(log.section(0, "21,40").next_id == std::optional<std::string>("41,60"));
  }

  SECTION("bad ids and partitions are refused") {
    CHECK_THROWS_AS(log.section(0, "x"), InvalidInput);
    CHECK_THROWS_AS(log.section(0, "0,20"), InvalidInput);
    CHECK_THROWS_AS(log.section(0, "-1,20"), InvalidInput);
    CHECK_THROWS_AS(log.section(0, "1,x"), InvalidInput);
    CHECK_THROWS_AS(log.section(1, "1,20"), InvalidInput);
    CHECK_THROWS_AS(log.section(-1, "current"), InvalidInput);
  }

  SECTION("a reader follows the links and sees everything once, in order") {
    fill(*records, 73);
    NotificationLogReader reader(log, 0);
    auto items = reader.read();
    REQUIRE(items.size() == 73);
    for (std::size_t i = 0; i < items.size(); ++i)
      CHECK(items[i].position == static_cast<std::int64_t>(i) + 1);
    CHECK(reader.position() == 73);
    CHECK(reader.sections_read() == 4);
    CHECK(reader.read().empty());

    reader.seek(35);
    auto some = reader.read(10);
    REQUIRE(some.size() == 10);
    CHECK(some.front().position == 36);
    CHECK(reader.position() == 45);
    fill(*records, 5);
    CHECK(reader.read().size() == 33);
    CHECK(reader.position() == 78);
  }
}

TEST_CASE("notification pages follow the HTTP contract", "[notification-log]") {
  const bool redis = GENERATE(false, true);
  auto records = store(redis);
  NotificationLog log(records);
  fill(*records, 25);
  auto p = log.page(0, 1, 20);
  CHECK(p.items.size() == 20);
  CHECK(p.next == std::optional<std::int64_t>(21));
  p = log.page(0, 21, 20);
  CHECK(p.items.size() == 5);
  CHECK_FALSE(p.next);
  p = log.page(0, 26, 20);
  CHECK(p.items.empty());
  CHECK_FALSE(p.next);
  p = log.page(0, 21, 5);
  CHECK(p.next == std::optional<std::int64_t>(26));  // full page: there may be more
  CHECK_THROWS_AS(log.page(0, 0, 20), InvalidInput);
  CHECK_THROWS_AS(log.page(0, 1, 0), InvalidInput);
  CHECK_THROWS_AS(log.page(0, 1, 1001), InvalidInput);
  CHECK_THROWS_AS(log.page(3, 1, 10), InvalidInput);
}
