// Why: the acceptance tests. After (a) a normal run, (b) the projector process
// killed with SIGKILL at random moments under a concurrent write load and restarted 20 times
// (per mode), (c) two competing consumers with one killed while holding unacknowledged
// entries, and (d) Redis restarted (gracefully, and killed) mid-run, the read model equals a
// recount from the entity streams: same positions, same live examples and foo index, and
// exactly the recounted number of heartbeats (nothing missed, nothing applied twice).
#include <catch2/catch.hpp>

#include "actors/runtime_config.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/stream_sources.hpp"
#include "projection/projection_support.hpp"
#include "samples/example/example_projection_service.hpp"
#include "samples/example/example_read_model_redis.hpp"

#include <random>

using namespace es;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

ApplicationConfig app_config(const Stores& stores, std::shared_ptr<const AesGcmCipher> cipher) {
  ApplicationConfig cfg;
  cfg.stores = stores;
  cfg.cipher = std::move(cipher);
  cfg.scheduler_threads = 2;
  cfg.store_timeout = 3s;
  cfg.request_timeout = 4s;
  return cfg;
}

// Entries pending per consumer of the projection's group, over all partitions.
std::map<std::string, std::int64_t> pending_by_consumer(RedisPool& pool, const RedisKeys& keys,
                                                        const std::string& group) {
  std::map<std::string, std::int64_t> out;
  auto lease = pool.acquire();
  for (int p = 0; p < keys.partitions(); ++p) {
    auto r = lease->command({"XPENDING", keys.log(p), group});
    if (r.is_error() || r.size() < 4) continue;
    auto consumers = r[3];
    for (std::size_t i = 0; i < consumers.size(); ++i) {
      out[std::string(consumers[i][0].str())] += std::stoll(std::string(consumers[i][1].str()));
    }
  }
  return out;
}

std::int64_t pending_total(RedisPool& pool, const RedisKeys& keys, const std::string& group) {
  std::int64_t n = 0;
  for (const auto& [c, k] : pending_by_consumer(pool, keys, group)) n += k;
  return n;
}

// The in-process projections run in an actor system of their own, so that the writer
// application can be closed (every append in flight finished, no more writes) before the
// recount, whatever timed out on the way.
struct ProjectionSystem {
  RuntimeConfig config{2};
  caf::actor_system system{config};
};

}  // namespace

TEST_CASE("projection equals the recount after a normal run: memory store", "[projection]") {
  const bool encrypted = GENERATE(false, true);
  INFO((encrypted ? "encrypted" : "plain"));
  auto stores = memory_stores();
  auto cipher = encrypted ? test::test_cipher() : nullptr;
  ProjectionSystem projections;
  ExampleApplication app(app_config(stores, cipher));
  ExampleProjectionService service(projections.system, stores.events, cipher);
  service.start();
  {
    test::WriteLoad load(app, 2, 1);
    std::this_thread::sleep_for(1500ms);
  }
  app.close();
  REQUIRE(service.wait_until_caught_up(20s));
  auto expected = test::recount(*stores.events, cipher.get());
  ES_CHECK_MATCHES_RECOUNT(service.projection().read_model()->dump(), expected);
  const auto stats = service.stats();
  CHECK(stats.examples == test::total_live(expected));
  CHECK(stats.heartbeats == test::total_heartbeats(expected));
  CHECK(test::total_heartbeats(expected) > 0);
  CHECK(service.status().healthy);
  CHECK(service.lag() == 0);
  ExampleProjectionOptions group;
  group.mode = ExampleProjectionOptions::Mode::group;
  CHECK_THROWS_AS(ExampleProjectionService(projections.system, stores.events, cipher, group),
                  ConfigurationError);
}

TEST_CASE("projection equals the recount after a normal run: redis, both modes, rebuild",
          "[projection][redis]") {
  const auto mode =
      GENERATE(ExampleProjectionOptions::Mode::catchup, ExampleProjectionOptions::Mode::group);
  INFO((mode == ExampleProjectionOptions::Mode::group ? "group" : "catchup"));
  auto server = test::private_redis("normal");
  auto pool = test::pool_for(*server);
  auto stores = redis_stores(pool);
  auto cipher = test::test_cipher();
  ProjectionSystem projections;
  ExampleApplication app(app_config(stores, cipher));
  ExampleProjectionOptions options;
  options.mode = mode;
  options.page_size = 100;
  options.followers = 2;
  ExampleProjectionService service(projections.system, stores.events, cipher, options);
  service.start();
  {
    test::WriteLoad load(app, 2, 2);
    std::this_thread::sleep_for(2s);
  }
  app.close();
  REQUIRE(service.wait_until_caught_up(20s));
  auto expected = test::recount(*stores.events, cipher.get());
  ES_CHECK_MATCHES_RECOUNT(service.projection().read_model()->dump(), expected);
  std::set<std::string> foo_values{"foo-0", "foo-1", "foo-2", "foo-3", "foo-4", "foo-5", "foo-6"};
  for (const auto& foo : foo_values) {
    IndexTokenizer tokenizer(cipher.get(), kExampleFooIndexLabel);
    std::vector<std::string> want;
    for (const auto& part : expected) {
      for (const auto& [id, token] : part.live) {
        if (token == tokenizer.token(foo)) want.push_back(id);
      }
    }
    std::sort(want.begin(), want.end());
    CHECK(service.ids_with_foo(foo) == want);
  }
  CHECK(service.ids_with_foo("no such foo").empty());

  // Rebuild: cleared and replayed from position 1 to the same result.
  service.rebuild();
  REQUIRE(service.running());
  REQUIRE(service.wait_until_caught_up(30s));
  ES_CHECK_MATCHES_RECOUNT(service.projection().read_model()->dump(), expected);
  CHECK(service.stop());
  if (mode == ExampleProjectionOptions::Mode::group) {
    auto& records = dynamic_cast<RedisRecordManager&>(*stores.events);
    CHECK(pending_total(*pool, records.keys(), "projection:example") == 0);
  }
}

TEST_CASE("projector killed with SIGKILL at random moments under write load, 20 times",
          "[projection][redis][crash]") {
  const std::string mode = GENERATE(std::string("catchup"), std::string("group"));
  INFO("mode " << mode);
  auto server = test::private_redis("kill");
  auto pool = test::pool_for(*server);
  auto stores = redis_stores(pool);
  auto cipher = test::test_cipher();
  const auto key_file = test::temp_dir("key") / "cipher.key";
  { std::ofstream(key_file) << test::kTestCipherKeyBase64 << "\n"; }
  ExampleApplication app(app_config(stores, cipher));
  auto& records = dynamic_cast<RedisRecordManager&>(*stores.events);
  RedisExampleReadModel model(pool, records.keys());

  std::mt19937_64 rng(mode == "group" ? 11 : 12);
  auto args = [&](const std::string& consumer) {
    return std::vector<std::string>{"--redis",
                                    server->url(),
                                    "--cipher-key-file",
                                    key_file.string(),
                                    "--mode",
                                    mode,
                                    "--consumer",
                                    consumer,
                                    "--page-size",
                                    "200",
                                    "--claim-after-ms",
                                    "300",
                                    "--block-ms",
                                    "200",
                                    "--quiet"};
  };
  int kills = 0, killed_while_behind = 0, killed_before_ready = 0;
  std::int64_t progress_seen = 0;
  {
    test::WriteLoad load(app, 2, 3);
    std::this_thread::sleep_for(300ms);
    for (int cycle = 0; cycle < 20; ++cycle) {
      // In group mode every incarnation is a new consumer: what a killed one held must be
      // claimed from it (XAUTOCLAIM), not just re-read under its name.
      test::ProjectorProcess projector(args("k" + std::to_string(cycle)));
      const auto before = model.stats().positions;
      if (rng() % 4 == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 60));  // maybe mid-start
        ++killed_before_ready;
      } else {
        REQUIRE(projector.wait_ready(10s));
        std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 350));
      }
      const auto lag_before_kill = [&] {
        std::int64_t behind = 0;
        const auto applied = model.stats().positions;
        for (int p = 0; p < records.partitions(); ++p) {
          behind += records.last_notification_position(p) - applied[static_cast<std::size_t>(p)];
        }
        return behind;
      }();
      projector.kill9();
      ++kills;
      if (lag_before_kill > 0) ++killed_while_behind;
      const auto after = model.stats().positions;
      for (std::size_t p = 0; p < after.size(); ++p) progress_seen += after[p] - before[p];
    }
    load.stop();
    WARN(mode << ": write load " << load.commands() << " commands, " << load.failures()
              << " failed");
    CHECK(load.commands() > 100);
  }
  app.close();
  CHECK(kills == 20);
  CHECK(progress_seen > 0);
  // Catch up with one last projector, then stop it with SIGTERM.
  test::ProjectorProcess last(args("final"));
  REQUIRE(last.wait_ready(10s));
  REQUIRE(test::wait_caught_up(records, model, 60s));
  if (mode == "group") {
    // Every entry delivered to a killed consumer was claimed and acknowledged.
    const auto deadline = Clock::now() + 20s;
    while (pending_total(*pool, records.keys(), "projection:example") > 0 &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    CHECK(pending_total(*pool, records.keys(), "projection:example") == 0);
  }
  std::chrono::milliseconds took{};
  CHECK(last.terminate(5s, &took) == 0);
  INFO("SIGTERM to exit took " << took.count() << " ms");
  CHECK(took < 3s);
  auto expected = test::recount(records, cipher.get());
  ES_CHECK_MATCHES_RECOUNT(model.dump(), expected);
  WARN(mode << ": " << kills << " SIGKILLs (" << killed_before_ready << " before ready, "
            << killed_while_behind << " while behind the head), " << test::total_position(expected)
            << " notifications, " << test::total_heartbeats(expected) << " heartbeats, "
            << test::total_live(expected) << " live examples");
}

TEST_CASE("two competing consumers, one killed while holding unacknowledged entries",
          "[projection][redis][crash]") {
  auto server = test::private_redis("compete");
  auto pool = test::pool_for(*server);
  auto stores = redis_stores(pool);
  ExampleApplication app(app_config(stores, nullptr));
  auto& records = dynamic_cast<RedisRecordManager&>(*stores.events);
  RedisExampleReadModel model(pool, records.keys());
  const std::string group = "projection:example";
  auto args = [&](const std::string& consumer) {
    return std::vector<std::string>{"--redis",          server->url(), "--mode",      "group",
                                    "--consumer",       consumer,      "--page-size", "20",
                                    "--claim-after-ms", "1000",        "--block-ms",  "200",
                                    "--quiet"};
  };
  // A backlog, so both consumers have plenty in flight.
  {
    test::WriteLoad backlog(app, 2, 4);
    std::this_thread::sleep_for(1500ms);
  }
  std::mt19937_64 rng(5);
  int kills_holding = 0;
  {
    test::WriteLoad load(app, 1, 6, std::chrono::microseconds(500));
    std::string names[2] = {"a0", "b0"};
    auto a = std::make_unique<test::ProjectorProcess>(args(names[0]));
    auto b = std::make_unique<test::ProjectorProcess>(args(names[1]));
    REQUIRE(a->wait_ready(10s));
    REQUIRE(b->wait_ready(10s));
    for (int round = 0; round < 3; ++round) {
      auto& victim = round % 2 == 0 ? a : b;
      auto& victim_name = names[round % 2];
      // Kill it the moment it holds delivered, unacknowledged entries (mid-batch).
      std::int64_t held = 0;
      const auto deadline = Clock::now() + 5s;
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 200));
      while (Clock::now() < deadline) {
        held = pending_by_consumer(*pool, records.keys(), group)[victim_name];
        if (held > 0) break;
        std::this_thread::sleep_for(2ms);
      }
      victim->kill9();
      if (held > 0) ++kills_holding;
      INFO("round " << round << ": killed " << victim_name << " holding " << held);
      // The survivor claims what the victim held (after 1 s idle) and goes on.
      std::this_thread::sleep_for(1500ms);
      victim_name = std::string(round % 2 == 0 ? "a" : "b") + std::to_string(round + 1);
      victim = std::make_unique<test::ProjectorProcess>(args(victim_name));
      REQUIRE(victim->wait_ready(10s));
    }
    load.stop();
    app.close();
    REQUIRE(test::wait_caught_up(records, model, 60s));
    const auto deadline = Clock::now() + 30s;
    while (pending_total(*pool, records.keys(), group) > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    CHECK(pending_total(*pool, records.keys(), group) == 0);
    CHECK(a->terminate(5s) == 0);
    CHECK(b->terminate(5s) == 0);
  }
  CHECK(kills_holding == 3);
  auto expected = test::recount(records, nullptr);
  ES_CHECK_MATCHES_RECOUNT(model.dump(), expected);
  WARN("competing consumers: " << kills_holding << " of 3 kills hit a consumer holding entries; "
                               << test::total_position(expected) << " notifications");
}

TEST_CASE("redis restarted mid-run: the projection reconnects and stays exact",
          "[projection][redis][crash]") {
  const bool crash = GENERATE(false, true);
  INFO((crash ? "redis killed" : "redis restarted"));
  auto server = test::private_redis("restart");
  auto pool = test::pool_for(*server);
  auto stores = redis_stores(pool);
  auto cipher = test::test_cipher();
  ProjectionSystem projections;
  ExampleApplication app(app_config(stores, cipher));
  auto& records = dynamic_cast<RedisRecordManager&>(*stores.events);
  // Two projections into two read models: a catch-up one and a group consumer.
  ExampleProjectionOptions catchup, group;
  group.mode = ExampleProjectionOptions::Mode::group;
  group.name = "example2";
  group.claim_after = 1s;
  ExampleProjectionService follower(projections.system, stores.events, cipher, catchup);
  ExampleProjectionService consumer(projections.system, stores.events, cipher, group);
  follower.start();
  consumer.start();
  std::int64_t failures_seen = 0;
  {
    test::WriteLoad load(app, 2, 8);
    std::this_thread::sleep_for(1500ms);
    if (crash) {
      server->kill();
      std::this_thread::sleep_for(300ms);
      server->restart();
    } else {
      server->restart();
    }
    std::this_thread::sleep_for(1500ms);
    failures_seen = follower.status().failures + consumer.status().failures;
    std::this_thread::sleep_for(1000ms);
    load.stop();
    WARN((crash ? "redis killed" : "redis restarted")
         << ": write load " << load.commands() << " commands, " << load.failures() << " failed");
  }
  app.close();
  REQUIRE(follower.wait_until_caught_up(30s));
  REQUIRE(consumer.wait_until_caught_up(30s));
  CHECK(failures_seen > 0);  // they did notice the outage
  CHECK(follower.status().healthy);
  CHECK(consumer.status().healthy);
  auto expected = test::recount(records, cipher.get());
  ES_CHECK_MATCHES_RECOUNT(follower.projection().read_model()->dump(), expected);
  ES_CHECK_MATCHES_RECOUNT(consumer.projection().read_model()->dump(), expected);
  CHECK(follower.stop());
  CHECK(consumer.stop());
}
