// Why: exactly-once rests on the tracking rule inside ONE script: at or below the stored
// position skipped, the next applied, a gap refused, the effects and the position together.
// Checked with raw Redis reads, for the generic script and the Example read model, and the
// in-memory read model must agree with the Redis one on any sequence of changes.
#include <catch2/catch.hpp>

#include "domain/errors.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_keys.hpp"
#include "persistence/tracking_script.hpp"
#include "samples/example/example_read_model_redis.hpp"
#include "support/redis_fixture.hpp"

#include <boost/json/serialize.hpp>

#include <random>

using namespace es;

namespace {

// A body that adds `count` to the hash field named by args[1].
const char* const kCounterBody = R"lua(
local function check(args)
  if #args ~= 1 then return 'one argument' end
  return nil
end
local function apply(args, count)
  redis.call('HINCRBY', KEYS[3], args[1], count)
end
local function finish() end
)lua";

TrackedEntry entry(std::int64_t first, std::int64_t last, std::string field) {
  return {first, last, {std::move(field)}};
}

std::string hget(const std::string& key, const std::string& field) {
  auto lease = test::redis_pool()->acquire();
  auto r = lease->command({"HGET", key, field});
  return r.is_nil() ? "" : std::string(r.str());
}

// Log entries first..last in a partition log (the script never applies past the log's head).
void fill_log(const std::string& log, std::int64_t last, std::int64_t first = 1) {
  auto lease = test::redis_pool()->acquire();
  std::vector<RedisArgs> commands;
  std::vector<std::string> ids;
  for (std::int64_t i = first; i <= last; ++i) ids.push_back(std::to_string(i) + "-1");
  for (const auto& id : ids) {
    commands.push_back(RedisArgs{"XADD", log, id, "id", "00000000-0000-4000-8000-000000000000",
                                 "version", "0", "topic", "t"});
  }
  for (const auto& r : lease->pipeline(commands)) REQUIRE_FALSE(r.is_error());
}

ExampleChange change(std::int64_t position, ExampleChangeKind kind, const Uuid& id = {},
                     std::string token = "") {
  ExampleChange c;
  c.position = position;
  c.kind = kind;
  c.id = id;
  c.token = std::move(token);
  return c;
}

}  // namespace

TEST_CASE("tracking script: skip at or below, apply the next, refuse a gap", "[tracking][redis]") {
  TrackedScript script(kCounterBody);
  const std::string prefix = test::fresh_prefix();
  const std::string tracking = prefix + ":{p00}:tracking", data = prefix + ":{p00}:data";
  const std::string log = prefix + ":{p00}:log";
  fill_log(log, 12);
  auto lease = test::redis_pool()->acquire();
  auto run = [&](std::vector<TrackedEntry> entries) {
    TrackedCall call;
    call.keys = {tracking, log, data};
    call.entries = std::move(entries);
    return script.run(*lease, {call}).at(0);
  };

  auto r = run({entry(1, 1, "x"), entry(2, 2, "x"), entry(3, 5, "y")});
  CHECK(r.stored == 5);
  CHECK(r.applied == 5);
  CHECK_FALSE(r.gap);
  CHECK(hget(tracking, "position") == "5");
  CHECK(hget(data, "x") == "2");
  CHECK(hget(data, "y") == "3");

  SECTION("redelivered entries are skipped") {
    r = run({entry(1, 1, "x"), entry(2, 2, "x"), entry(3, 5, "y")});
    CHECK(r.stored == 5);
    CHECK(r.applied == 0);
    CHECK(hget(data, "x") == "2");
    CHECK(hget(data, "y") == "3");
  }
  SECTION("overlap: only the part after the stored position counts") {
    r = run({entry(4, 4, "x"), entry(5, 8, "y"), entry(9, 9, "x")});
    CHECK(r.stored == 9);
    CHECK(r.applied == 4);
    CHECK(hget(data, "x") == "3");
    CHECK(hget(data, "y") == "6");  // 3 + positions 6..8
  }
  SECTION("a gap is refused: nothing from it on, the position stays") {
    r = run({entry(7, 7, "x")});
    CHECK(r.gap);
    CHECK(r.stored == 5);
    CHECK(r.applied == 0);
    CHECK(hget(tracking, "position") == "5");
    CHECK(hget(data, "x") == "2");
    r = run({entry(6, 6, "x"), entry(8, 8, "y")});  // applies 6, refuses 8
    CHECK(r.gap);
    CHECK(r.stored == 6);
    CHECK(hget(data, "x") == "3");
    CHECK(hget(data, "y") == "3");
  }
  SECTION("nothing is applied past the log's last position") {
    r = run({entry(6, 10, "x"), entry(11, 14, "y")});  // the log ends at 12
    CHECK(r.stored == 10);
    CHECK(r.gap);
    CHECK(r.beyond_log);
    CHECK(hget(tracking, "position") == "10");
    fill_log(log, 14, 13);
    r = run({entry(11, 14, "y")});
    CHECK(r.stored == 14);
    CHECK_FALSE(r.gap);
  }
  SECTION("malformed calls write nothing") {
    TrackedCall call;
    call.keys = {tracking, log, data};
    call.entries = {entry(6, 6, "x"), {7, 7, {}}};  // the second fails the body's check()
    CHECK_THROWS_AS(script.run(*lease, {call}), Error);
    call.entries = {entry(6, 6, "x"), entry(8, 7, "x")};  // last < first
    CHECK_THROWS_AS(script.run(*lease, {call}), Error);
    CHECK(hget(tracking, "position") == "5");
    CHECK(hget(data, "x") == "2");
  }
  SECTION("after SCRIPT FLUSH (a restarted server) the script is loaded again") {
    REQUIRE_FALSE(lease->command({"SCRIPT", "FLUSH"}).is_error());
    r = run({entry(6, 6, "x")});
    CHECK(r.stored == 6);
    CHECK(hget(data, "x") == "3");
  }
}

TEST_CASE("example read model in redis: tracked changes, stats, index", "[tracking][redis]") {
  RedisKeys keys(test::fresh_prefix(), 2);
  fill_log(keys.log(0), 9);
  fill_log(keys.log(1), 1);
  RedisExampleReadModel model(test::redis_pool(), keys);
  const Uuid a = new_uuid(), b = new_uuid();
  const std::string ta(64, 'a'), tb(64, 'b');
  auto results = model.apply(
      {{0,
        {change(1, ExampleChangeKind::created, a, ta), change(2, ExampleChangeKind::heartbeat, a),
         change(3, ExampleChangeKind::heartbeat, a), change(4, ExampleChangeKind::created, b, ""),
         change(5, ExampleChangeKind::none, b), change(6, ExampleChangeKind::foo_changed, b, ta)}},
       {1, {change(1, ExampleChangeKind::heartbeat, b)}}});
  REQUIRE(results.size() == 2);
  CHECK(results[0].stored == 6);
  CHECK(results[1].stored == 1);
  auto stats = model.stats();
  CHECK(stats.examples == 2);
  CHECK(stats.heartbeats == 3);
  CHECK(stats.positions == std::vector<std::int64_t>{6, 1});
  auto ids = model.ids_with_token(ta);
  std::vector<std::string> both{to_string(a), to_string(b)};
  std::sort(both.begin(), both.end());
  CHECK(ids == both);
  CHECK(boost::json::serialize(to_json(stats)) ==
        R"({"examples":2,"heartbeats":3,"position":{"0":6,"1":1}})");

  // Redelivery of 4..6 plus new 7..9: only 7..9 count.
  results = model.apply(
      {{0,
        {change(4, ExampleChangeKind::created, b, ""), change(5, ExampleChangeKind::none, b),
         change(6, ExampleChangeKind::foo_changed, b, ta),
         change(7, ExampleChangeKind::foo_changed, a, tb),
         change(8, ExampleChangeKind::discarded, b), change(9, ExampleChangeKind::heartbeat, b)}}});
  CHECK(results[0].stored == 9);
  CHECK(results[0].applied == 3);
  stats = model.stats();
  CHECK(stats.examples == 1);
  CHECK(stats.heartbeats == 4);
  CHECK(model.ids_with_token(ta).empty());
  CHECK(model.ids_with_token(tb) == std::vector<std::string>{to_string(a)});

  // A gap: refused, nothing changes.
  results = model.apply({{0, {change(11, ExampleChangeKind::heartbeat, a)}}});
  CHECK(results[0].gap);
  CHECK(model.stats().heartbeats == 4);

  // Keys stay in their partition's slot.
  CHECK(model.state_key(1) == keys.prefix() + ":{p01}:projection:example");
  CHECK(model.live_key(1) == keys.prefix() + ":{p01}:projection:example:live");
  CHECK(model.index_key(1) == keys.prefix() + ":{p01}:projection:example:foo");

  model.clear();
  stats = model.stats();
  CHECK(stats.examples == 0);
  CHECK(stats.heartbeats == 0);
  CHECK(stats.positions == std::vector<std::int64_t>{0, 0});
}

TEST_CASE("memory and redis read models agree on random change sequences", "[tracking][redis]") {
  std::mt19937_64 rng(7);
  RedisKeys keys(test::fresh_prefix(), 3);
  for (int p = 0; p < 3; ++p) fill_log(keys.log(p), 1000);
  RedisExampleReadModel redis(test::redis_pool(), keys);
  MemoryExampleReadModel memory(3);
  std::vector<Uuid> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(new_uuid());
  std::vector<std::string> tokens{"", std::string(64, '1'), std::string(64, '2'),
                                  std::string(64, '3')};
  std::vector<std::int64_t> next{1, 1, 1};
  for (int round = 0; round < 60; ++round) {
    std::vector<ExampleChanges> batches;
    for (int p = 0; p < 3; ++p) {
      ExampleChanges b;
      b.partition = p;
      // Sometimes start before the stored position (redelivery) or after it (a gap).
      std::int64_t at = next[static_cast<std::size_t>(p)];
      const auto shift = rng() % 10;
      if (shift == 0) at += 2;
      if (shift == 1) at = std::max<std::int64_t>(1, at - 3);
      for (int k = 0; k < static_cast<int>(rng() % 8); ++k, ++at) {
        const auto kind = rng() % 5;
        const auto& id = ids[rng() % ids.size()];
        const auto& token = tokens[rng() % tokens.size()];
        b.changes.push_back(change(at,
                                   kind == 0   ? ExampleChangeKind::created
                                   : kind == 1 ? ExampleChangeKind::foo_changed
                                   : kind == 2 ? ExampleChangeKind::heartbeat
                                   : kind == 3 ? ExampleChangeKind::discarded
                                               : ExampleChangeKind::none,
                                   id, token));
      }
      batches.push_back(std::move(b));
    }
    auto r1 = redis.apply(batches);
    auto r2 = memory.apply(batches);
    for (std::size_t i = 0; i < batches.size(); ++i) {
      CHECK(r1[i].stored == r2[i].stored);
      CHECK(r1[i].applied == r2[i].applied);
      CHECK(r1[i].gap == r2[i].gap);
      next[i] = r1[i].stored + 1;
    }
  }
  auto d1 = redis.dump();
  auto d2 = memory.dump();
  REQUIRE(d1.size() == d2.size());
  for (std::size_t p = 0; p < d1.size(); ++p) {
    CHECK(d1[p].position == d2[p].position);
    CHECK(d1[p].heartbeats == d2[p].heartbeats);
    CHECK(d1[p].live == d2[p].live);
    CHECK(d1[p].index == d2[p].index);
  }
  CHECK(redis.stats().examples == memory.stats().examples);
}
