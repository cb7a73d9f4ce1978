// Why: a projection is only useful if it keeps up. Against ONE private redis-server this
// program measures (1) how fast the sample projection catches up from a 1,000,000-event
// notification log (built quickly with append_batch: per entity one Created, a few foo/a
// changes and many heartbeats), for the catch-up subscription and the consumer-group
// consumer; (2) the same from a smaller log of data-heavy events (70% attribute changes that
// must be read and decoded, as the simulation writes); (3) how far behind the head the
// projection runs under a write load like example-sim's (10,000 Example actors, 64
// concurrent senders, 30% heartbeats / 70% attribute changes): the lag of each sampled head
// position until the projection has applied it. Prints `BENCH <name> <value> <unit>` lines.
#include "domain/errors.hpp"
#include "domain/mapper.hpp"
#include "persistence/redis_launcher.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/redis_stores.hpp"
#include "samples/example/example.hpp"
#include "samples/example/example_application.hpp"
#include "samples/example/example_projection_service.hpp"

#include "actors/runtime_config.hpp"
#include "actors/self_loop.hpp"

#include <caf/event_based_actor.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace es;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  std::int64_t events = 1000000;      // size of the heartbeat-heavy log
  std::int64_t per_entity = 100;      // events per entity in it
  std::int64_t data_events = 200000;  // size of the data-heavy log
  int lag_seconds = 20;
  int entities = 10000;
  int concurrency = 64;
  bool catchup = true;
  bool lag = true;
};

void usage() {
  std::cout
      << R"(bench-projection-catchup: projection catch-up rate and lag against one private redis-server.

Usage: bench-projection-catchup [options]
  --events N        events in the catch-up log (default 1000000)
  --per-entity N    events per entity in it (default 100: Created, 4 changes, heartbeats)
  --data-events N   events in the data-heavy log (default 200000; 0 skips it)
  --seconds N       length of the write load of the lag run (default 20)
  --entities N      Example actors of the write load (default 10000)
  --concurrency N   concurrent senders of the write load (default 64)
  --no-catchup      skip the catch-up runs
  --no-lag          skip the lag runs
)";
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

// Appends `total` events of Example entities with `per_entity` events each; the mix of an
// entity is one Created, `changes` AttributeChanged (foo or a) and heartbeats for the rest.
void build_log(RecordManager& records, std::int64_t total, std::int64_t per_entity,
               std::int64_t changes, int threads) {
  Example::register_types();
  std::atomic<std::int64_t> next{0};
  const std::int64_t entities = (total + per_entity - 1) / per_entity;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      EventMapper mapper;
      std::mt19937_64 rng(static_cast<std::uint64_t>(t) + 1);
      std::vector<AppendRequest> batch;
      std::int64_t batch_events = 0;
      auto flush = [&] {
        if (batch.empty()) return;
        for (const auto& r : records.append_batch(batch)) {
          if (r.status != AppendStatus::stored) throw Error("append failed: " + r.message);
        }
        batch.clear();
        batch_events = 0;
      };
      for (std::int64_t e = next++; e < entities; e = next++) {
        const std::int64_t count = std::min(per_entity, total - e * per_entity);
        Example x = Example::create_new(boost::json::string("foo-" + std::to_string(rng() % 100)));
        std::int64_t made = 1;
        for (std::int64_t c = 0; c < changes && made < count; ++c, ++made) {
          if (c % 2 == 0) {
            x.set_foo(boost::json::string("foo-" + std::to_string(rng() % 100)));
          } else {
            x.set_a(static_cast<std::int64_t>(rng() % 1000));
          }
        }
        if (count > made) x.beat_heart(static_cast<int>(count - made));
        AppendRequest r;
        r.sequence_id = x.id();
        r.expected_version = -1;
        for (const auto& ev : x.collect_pending_events()) r.records.push_back(mapper.to_record(ev));
        batch_events += static_cast<std::int64_t>(r.records.size());
        batch.push_back(std::move(r));
        if (batch_events >= 20000) flush();
      }
      flush();
    });
  }
  for (auto& w : workers) w.join();
}

std::int64_t log_size(const RecordManager& records) {
  std::int64_t n = 0;
  for (int p = 0; p < records.partitions(); ++p) n += records.last_notification_position(p);
  return n;
}

// Clears the read model and times a replay of the whole log.
double time_catchup(caf::actor_system& sys, const Stores& stores, ExampleProjectionOptions options,
                    std::int64_t events, const char* label) {
  ExampleProjectionService service(sys, stores.events, nullptr, options);
  service.rebuild();
  const auto started = Clock::now();
  service.start();
  if (!service.wait_until_caught_up(600s)) throw Error("the projection did not catch up");
  const double secs = seconds_since(started);
  service.stop();
  const auto stats = service.stats();
  std::printf("  %-34s %lld events in %.2f s: %.0f events/s (%lld examples, %lld heartbeats)\n",
              label, static_cast<long long>(events), secs, static_cast<double>(events) / secs,
              static_cast<long long>(stats.examples), static_cast<long long>(stats.heartbeats));
  std::fflush(stdout);
  return static_cast<double>(events) / secs;
}

// A sender like example-sim's: one command in flight, 30% heartbeats, 70% attribute changes.
void spawn_sender(caf::actor_system& sys, example_repository_actor repo,
                  std::shared_ptr<const std::vector<std::string>> ids, std::uint64_t seed,
                  std::shared_ptr<std::atomic<bool>> stop,
                  std::shared_ptr<std::atomic<std::int64_t>> done) {
  sys.spawn([=](caf::event_based_actor* self) {
    auto rng = std::make_shared<std::mt19937_64>(seed);
    auto step = make_self_loop(self);
    *step = [=] {
      if (stop->load()) {
        self->quit();
        return;
      }
      const auto& id = (*ids)[(*rng)() % ids->size()];
      const auto pick = (*rng)() % 10;
      ExampleBinding::Command command;
      if (pick < 3) {
        command = BeatHeart{1};
      } else {
        const std::string name = pick < 6 ? "a" : pick < 9 ? "b" : "foo";
        Json value;
        if (name == "a") {
          value.value = static_cast<std::int64_t>((*rng)() % 1000000);
        } else {
          value.value = name + "-" + std::to_string((*rng)() % 1000);
        }
        command = ChangeAttributes{{{name, std::move(value)}}};
      }
      self->request(repo, caf::infinite, execute_atom::value, id, command)
          .then(
              [=](ExampleView&) {
                done->fetch_add(1, std::memory_order_relaxed);
                (*step)();
              },
              [=](caf::error&) { (*step)(); });
    };
    (*step)();
  });
}

// The head position of every partition's log, in one pipelined round trip.
std::vector<std::int64_t> heads_of(const Stores& stores) {
  auto& records = dynamic_cast<RedisRecordManager&>(*stores.events);
  std::vector<std::string> keys;
  for (int p = 0; p < records.partitions(); ++p) keys.push_back(records.keys().log(p));
  std::vector<RedisArgs> commands;
  for (const auto& k : keys) commands.push_back(RedisArgs{"XREVRANGE", k, "+", "-", "COUNT", "1"});
  auto lease = records.pool()->acquire();
  std::vector<std::int64_t> heads;
  for (const auto& r : lease->pipeline(commands)) {
    if (r.is_error()) throw_redis_error(r.view(), "reading the log heads");
    heads.push_back(r.size() == 0 ? 0 : parse_exact_id(r[0][0].str()).value_or(0));
  }
  return heads;
}

struct LagResult {
  double p50 = 0, p99 = 0, max = 0;
  double events_per_s = 0;
  std::size_t samples = 0;
};

// Runs the write load for `seconds` with the projection following; samples the heads every
// 10 ms and records, for each sample, when the projection had applied all of it.
LagResult measure_lag(ExampleApplication& app, const Stores& stores,
                      const std::vector<std::string>& ids, ExampleProjectionOptions options,
                      const Config& cfg) {
  ExampleProjectionService service(app.system(), stores.events, nullptr, options);
  service.rebuild();
  service.start();
  if (!service.wait_until_caught_up(120s)) throw Error("the projection did not catch up");
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto done = std::make_shared<std::atomic<std::int64_t>>(0);
  auto shared_ids = std::make_shared<const std::vector<std::string>>(ids);
  for (int s = 0; s < cfg.concurrency; ++s) {
    spawn_sender(app.system(), app.repository(), shared_ids, 1000 + static_cast<std::uint64_t>(s),
                 stop, done);
  }
  const int partitions = stores.events->partitions();
  std::vector<int> all(static_cast<std::size_t>(partitions));
  for (int p = 0; p < partitions; ++p) all[static_cast<std::size_t>(p)] = p;
  std::deque<std::pair<Clock::time_point, std::vector<std::int64_t>>> waiting;
  std::vector<double> lags_ms;
  const auto started = Clock::now();
  const auto load_end = started + std::chrono::seconds(cfg.lag_seconds);
  const auto warmup_end = started + 2s;
  std::int64_t done_at_warmup = 0;
  Clock::time_point measured_from{};
  bool stopped = false;
  for (;;) {
    const auto now = Clock::now();
    if (!stopped && now >= warmup_end && measured_from == Clock::time_point{}) {
      measured_from = now;
      done_at_warmup = done->load();
    }
    if (!stopped && now >= load_end) {
      stop->store(true);
      stopped = true;
    }
    if (!stopped && now >= warmup_end) waiting.emplace_back(Clock::now(), heads_of(stores));
    const auto applied = service.projection().read_model()->positions(all);
    const auto seen = Clock::now();
    while (!waiting.empty()) {
      bool covered = true;
      for (int p = 0; p < partitions; ++p) {
        covered = covered && applied[static_cast<std::size_t>(p)] >=
                                 waiting.front().second[static_cast<std::size_t>(p)];
      }
      if (!covered) break;
      lags_ms.push_back(
          std::chrono::duration<double, std::milli>(seen - waiting.front().first).count());
      waiting.pop_front();
    }
    if (stopped && waiting.empty()) break;
    if (stopped && now - load_end > 60s)
      throw Error("the projection did not catch up after the load");
    std::this_thread::sleep_for(10ms);
  }
  const double load_secs = std::chrono::duration<double>(load_end - measured_from).count();
  service.stop();
  std::this_thread::sleep_for(200ms);  // senders see the stop flag
  LagResult r;
  r.p50 = percentile(lags_ms, 0.50);
  r.p99 = percentile(lags_ms, 0.99);
  r.max = lags_ms.empty() ? 0 : *std::max_element(lags_ms.begin(), lags_ms.end());
  r.samples = lags_ms.size();
  r.events_per_s = static_cast<double>(done->load() - done_at_warmup) / load_secs;
  return r;
}

int run(const Config& cfg) {
  RedisServerOptions server_options;
  const auto dir =
      std::filesystem::temp_directory_path() / ("bench-projection-" + std::to_string(::getpid()));
  server_options.data_dir = dir;
  RedisServer server(server_options);
  RedisConnectionOptions connection;
  connection.command_timeout = 10s;
  auto pool = std::make_shared<RedisPool>(server.redis_url(), connection, 8);
  std::printf("bench-projection-catchup: private redis-server on port %d\n", server.port());

  RuntimeConfig runtime(2);
  caf::actor_system sys{runtime};
  if (cfg.catchup) {
    RedisStoreOptions big;
    big.key_prefix = "big";
    auto stores = redis_stores(pool, big);
    auto started = Clock::now();
    build_log(*stores.events, cfg.events, cfg.per_entity, 4, 2);
    const auto events = log_size(*stores.events);
    std::printf(
        "log: %lld events (%lld per entity: 1 Created, 4 changes, heartbeats) appended "
        "in %.1f s\n",
        static_cast<long long>(events), static_cast<long long>(cfg.per_entity),
        seconds_since(started));
    std::fflush(stdout);
    ExampleProjectionOptions catchup;
    const double rate = time_catchup(sys, stores, catchup, events, "catch-up subscription");
    ExampleProjectionOptions two = catchup;
    two.followers = 2;
    const double rate2 = time_catchup(sys, stores, two, events, "catch-up, 2 followers");
    ExampleProjectionOptions group;
    group.mode = ExampleProjectionOptions::Mode::group;
    group.consumer = "bench";
    const double rate_group =
        time_catchup(sys, stores, group, events, "consumer group, 1 consumer");
    std::printf("BENCH projection.catchup_per_s %.0f events/s\n", rate);
    std::printf("BENCH projection.catchup_2followers_per_s %.0f events/s\n", rate2);
    std::printf("BENCH projection.catchup_group_per_s %.0f events/s\n", rate_group);
    std::fflush(stdout);
    {
      auto lease = pool->acquire();
      (void)lease->command({"FLUSHALL"});
    }
    if (cfg.data_events > 0) {
      RedisStoreOptions data;
      data.key_prefix = "data";
      auto data_stores = redis_stores(pool, data);
      started = Clock::now();
      build_log(*data_stores.events, cfg.data_events, 10, 7, 2);
      const auto data_size = log_size(*data_stores.events);
      std::printf(
          "data-heavy log: %lld events (10 per entity: 1 Created, 7 changes, 2 "
          "heartbeats) appended in %.1f s\n",
          static_cast<long long>(data_size), seconds_since(started));
      const double data_rate =
          time_catchup(sys, data_stores, catchup, data_size, "catch-up, data-heavy");
      std::printf("BENCH projection.catchup_data_per_s %.0f events/s\n", data_rate);
      std::fflush(stdout);
      auto lease = pool->acquire();
      (void)lease->command({"FLUSHALL"});
    }
  }
  if (cfg.lag) {
    RedisStoreOptions live;
    live.key_prefix = "live";
    auto stores = redis_stores(pool, live);
    ApplicationConfig app_cfg;
    app_cfg.stores = stores;
    ExampleApplication app(sys, app_cfg);
    std::vector<std::string> ids;
    {
      std::vector<std::thread> creators;
      std::mutex mutex;
      for (int t = 0; t < 4; ++t) {
        creators.emplace_back([&, t] {
          for (int i = t; i < cfg.entities; i += 4) {
            auto v = app.create_new_example(boost::json::string("foo-" + std::to_string(i % 100)));
            std::lock_guard lock(mutex);
            ids.push_back(v.id);
          }
        });
      }
      for (auto& c : creators) c.join();
    }
    std::printf("lag: %d Example actors, %d concurrent senders, %d s of load\n", cfg.entities,
                cfg.concurrency, cfg.lag_seconds);
    ExampleProjectionOptions catchup;
    auto r = measure_lag(app, stores, ids, catchup, cfg);
    std::printf(
        "  catch-up subscription: write load %.0f events/s, lag p50 %.1f ms, p99 %.1f ms, "
        "max %.1f ms (%zu samples)\n",
        r.events_per_s, r.p50, r.p99, r.max, r.samples);
    std::fflush(stdout);
    ExampleProjectionOptions group;
    group.mode = ExampleProjectionOptions::Mode::group;
    group.consumer = "bench-lag";
    auto g = measure_lag(app, stores, ids, group, cfg);
    std::printf(
        "  consumer group:        write load %.0f events/s, lag p50 %.1f ms, p99 %.1f ms, "
        "max %.1f ms (%zu samples)\n",
        g.events_per_s, g.p50, g.p99, g.max, g.samples);
    std::printf("BENCH projection.lag_write_load %.0f events/s\n", r.events_per_s);
    std::printf("BENCH projection.lag_p50 %.1f ms\n", r.p50);
    std::printf("BENCH projection.lag_p99 %.1f ms\n", r.p99);
    std::printf("BENCH projection.lag_group_p99 %.1f ms\n", g.p99);
    app.close();
  }
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::int64_t {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return std::stoll(argv[++i]);
      };
      if (a == "--help" || a == "-h") {
        usage();
        return 0;
      } else if (a == "--events") {
        cfg.events = value();
      } else if (a == "--per-entity") {
        cfg.per_entity = value();
      } else if (a == "--data-events") {
        cfg.data_events = value();
      } else if (a == "--seconds") {
        cfg.lag_seconds = static_cast<int>(value());
      } else if (a == "--entities") {
        cfg.entities = static_cast<int>(value());
      } else if (a == "--concurrency") {
        cfg.concurrency = static_cast<int>(value());
      } else if (a == "--no-catchup") {
        cfg.catchup = false;
      } else if (a == "--no-lag") {
        cfg.lag = false;
      } else {
        throw std::invalid_argument("unknown option " + a);
      }
    }
    if (cfg.events < 1 || cfg.per_entity < 6 || cfg.lag_seconds < 3 || cfg.entities < 1 ||
        cfg.concurrency < 1 || cfg.data_events < 0) {
      throw std::invalid_argument("bad option value");
    }
  } catch (const std::exception& e) {
    std::cerr << "bench-projection-catchup: " << e.what() << " (see --help)\n";
    return 2;
  }
  try {
    return run(cfg);
  } catch (const std::exception& e) {
    std::cerr << "bench-projection-catchup: " << e.what() << "\n";
    return 1;
  }
}
