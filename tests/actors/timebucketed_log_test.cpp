// Time-bucketed logs: buckets as the reference computes them, messages through the log
// writer, and paging forwards and backwards across buckets.
#include "actors/backends.hpp"
#include "domain/errors.hpp"
#include "samples/example/example_application.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace es;

TEST_CASE("bucket boundaries and ids follow the reference", "[timebucketedlog]") {
  // 2021-03-04 05:06:07.890123 UTC
  const std::int64_t t = 1614834367890123;
  CHECK(bucket_starts(t, BucketSize::year) == 1609459200LL * 1000000);
  CHECK(bucket_starts(t, BucketSize::month) == 1614556800LL * 1000000);
  CHECK(bucket_starts(t, BucketSize::day) == 1614816000LL * 1000000);
  CHECK(bucket_starts(t, BucketSize::hour) == 1614834000LL * 1000000);
  CHECK(bucket_starts(t, BucketSize::minute) == 1614834360LL * 1000000);
  CHECK(bucket_starts(t, BucketSize::second) == 1614834367LL * 1000000);
  CHECK(next_bucket_starts(t, BucketSize::month) == 1617235200LL * 1000000);      // April 1st
  CHECK(previous_bucket_starts(t, BucketSize::month) == 1612137600LL * 1000000);  // Feb 1st
  CHECK(next_bucket_starts(t, BucketSize::year) == 1640995200LL * 1000000);
  // Same bucket, same id; the next bucket, another id.
  auto log = timebucketed_log_id("log");
  CHECK(make_timebucket_id(log, t, BucketSize::hour) ==
        make_timebucket_id(log, bucket_starts(t, BucketSize::hour), BucketSize::hour));
  CHECK(make_timebucket_id(log, t, BucketSize::hour) !=
        make_timebucket_id(log, next_bucket_starts(t, BucketSize::hour), BucketSize::hour));
  // uuid5(Namespace_Timebuckets, "<log hex>_2021"), as the reference computes it.
  auto log_id = *parse_uuid("12345678-1234-5678-1234-567812345678");
  CHECK(to_string(make_timebucket_id(log_id, t, BucketSize::year)) ==
        "32c257c5-9b10-5d89-af81-030e609b3c0b");
  CHECK_THROWS_AS(parse_bucket_size("week"), InvalidInput);
}

TEST_CASE("a log stores messages and reads them back in pages", "[timebucketedlog]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  ApplicationConfig cfg;
  cfg.stores = test::make_stores(backend);
  cfg.scheduler_threads = 2;
  ExampleApplication app(std::move(cfg));
  auto log = app.start_new_timebucketedlog("events", BucketSize::second);
  CHECK_THROWS_AS(app.start_new_timebucketedlog("events", BucketSize::second), ConcurrencyError);
  auto same = app.get_timebucketedlog("events");
  CHECK(same.bucket_size() == BucketSize::second);
  CHECK(same.name() == "events");
  CHECK_THROWS_AS(app.get_timebucketedlog("nope"), RepositoryKeyError);

  std::vector<LoggedMessage> logged;
  for (int i = 0; i < 6; ++i) {
    logged.push_back(app.log_message(log, "message " + std::to_string(i)));
    if (i % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // new bucket
  }
  ReadQuery newest_first;
  newest_first.ascending = false;
  auto all = app.read_messages(log, newest_first);
  REQUIRE(all.size() == 6);
  for (int i = 0; i < 6; ++i)
    CHECK(all[static_cast<std::size_t>(i)].message == "message " + std::to_string(5 - i));

  ReadQuery page;
  page.ascending = false;
  page.limit = 4;
  auto first = app.read_messages(log, page);
  REQUIRE(first.size() == 4);
  CHECK(first[3].message == "message 2");
  page.lt = first.back().timestamp;
  auto second = app.read_messages(log, page);
  REQUIRE(second.size() == 2);
  CHECK(second[0].message == "message 1");
  CHECK(second[1].message == "message 0");

  ReadQuery oldest_first;
  oldest_first.ascending = true;
  oldest_first.limit = 3;
  auto asc = app.read_messages(log, oldest_first);
  REQUIRE(asc.size() == 3);
  CHECK(asc[0].message == "message 0");
  CHECK(asc[2].message == "message 2");
  oldest_first.gt = asc.back().timestamp;
  auto rest = app.read_messages(log, oldest_first);
  REQUIRE(rest.size() == 3);
  CHECK(rest[2].message == "message 5");
  // Three buckets were used.
  CHECK(logged[0].bucket_id != logged[2].bucket_id);
  CHECK(logged[2].bucket_id != logged[4].bucket_id);
}
