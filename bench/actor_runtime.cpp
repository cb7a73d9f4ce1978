// Figures of the actor runtime against one private redis-server (docs/BENCHMARKS.md,
// "Actor runtime"): the memory of 100,000 live Example actors, the time to reload an entity
// with 10,000 events through its actor, and redis-benchmark's raw XADD rate on the same
// server as the anchor for the end-to-end rate that example-sim measures; and what a bare CAF
// actor costs, the floor under every entity actor.
#include "actors/self_loop.hpp"
#include "persistence/redis_launcher.hpp"
#include "persistence/redis_stores.hpp"
#include "samples/example/example_application.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace es;
using Clock = std::chrono::steady_clock;

namespace {

double rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// Creates `n` entities from `senders` concurrent client actors; waits for all.
void create_many(ExampleApplication& app, int n, int senders) {
  auto done = std::make_shared<std::atomic<int>>(0);
  auto repo = app.repository();
  for (int s = 0; s < senders; ++s) {
    const int share = n / senders + (s < n % senders);
    app.system().spawn([=](caf::event_based_actor* self) {
      auto left = std::make_shared<int>(share);
      auto next = make_self_loop(self);
      *next = [=] {
        if ((*left)-- <= 0) return;
        self->request(repo, caf::infinite, create_atom::value,
                      ExampleBinding::Command(CreateExample{}))
            .then(
                [=](ExampleView&) {
                  done->fetch_add(1);
                  (*next)();
                },
                [=](caf::error&) {
                  done->fetch_add(1);
                  (*next)();
                });
      };
      // A small window per sender keeps the journal's batches full.
      for (int w = 0; w < 4; ++w) (*next)();
    });
  }
  while (done->load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// The floor CAF 0.17 sets: malloc's bytes per actor for `n` bare event-based actors with one
// handler each, in an actor system of their own (what any entity actor costs before its state,
// its behaviour and the repository's bookkeeping).
double bare_actor_bytes(int n) {
  caf::actor_system_config cfg;
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  std::vector<caf::actor> actors;
  actors.reserve(static_cast<std::size_t>(n));
  const auto before = mallinfo2().uordblks;
  for (int i = 0; i < n; ++i) {
    actors.push_back(sys.spawn(
        [](caf::event_based_actor*) -> caf::behavior { return {[](int x) { return x; }}; }));
  }
  const double bytes = static_cast<double>(mallinfo2().uordblks - before) / n -
                       static_cast<double>(sizeof(caf::actor));  // the handle kept here
  for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return bytes;
}

std::string run_redis_benchmark(int port) {
  const std::string state(250, 'x');
  const std::string cmd = "redis-benchmark -h 127.0.0.1 -p " + std::to_string(port) +
                          " -P 32 -c 50 -n 400000 -r 10000 --csv XADD __rand_int__ '*' topic t "
                          "state " +
                          state + " 2>/dev/null";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  // The CSV's last line: "XADD ...","<requests per second>",...
  auto line_start = out.rfind("\"XADD");
  if (line_start == std::string::npos) return "0";
  auto first = out.find("\",\"", line_start);
  if (first == std::string::npos) return "0";
  auto value_end = out.find('"', first + 3);
  return out.substr(first + 3, value_end - first - 3);
}

}  // namespace

int main(int argc, char** argv) {
  int actors = 100000;
  int events = 10000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "usage: bench-actor-runtime [--actors N] [--events N]\n"
          "Starts a private redis-server and measures: RSS of N live Example actors\n"
          "(default 100000), reload time of one entity with N events (default 10000)\n"
          "through its actor, and redis-benchmark's raw XADD rate on the same server.\n");
      return 0;
    }
    if (a == "--actors" && i + 1 < argc)
      actors = std::stoi(argv[++i]);
    else if (a == "--events" && i + 1 < argc)
      events = std::stoi(argv[++i]);
    else {
      std::fprintf(stderr, "bench-actor-runtime: unknown argument %s (see --help)\n", a.c_str());
      return 2;
    }
  }
  auto dir =
      std::filesystem::temp_directory_path() / ("es-bench-actors-" + std::to_string(getpid()));
  RedisServerOptions options;
  options.data_dir = dir;
  RedisServer server(options);
  auto pool = std::make_shared<RedisPool>(server.redis_url());

  double base_rss = 0, with_actors = 0;
  std::int64_t live = 0;      // entity actors alive after the creations
  double heap_per_actor = 0;  // malloc's bytes in use per actor (RSS less fragmentation)
  double close_s = 0;         // closing the application with every actor live
  std::string entity_id;
  {
    ApplicationConfig cfg;
    cfg.stores = redis_stores(pool);
    cfg.passivate_after = std::chrono::hours(1);
    cfg.max_live_entities = actors + 1000;  // the machine's default cap would passivate some
    ExampleApplication app(cfg);
    base_rss = rss_mib();
    const auto heap_before = mallinfo2().uordblks;
    const auto start = Clock::now();
    create_many(app, actors, 64);
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    with_actors = rss_mib();
    live = app.stats().hosted;
    heap_per_actor = static_cast<double>(mallinfo2().uordblks - heap_before) /
                     static_cast<double>(std::max<std::int64_t>(live, 1));
    std::printf(
        "%d live entity actors: RSS %.1f MiB (%.1f MiB before), %.0f bytes each; "
        "created in %.2f s\n",
        static_cast<int>(live), with_actors, base_rss,
        (with_actors - base_rss) * 1048576.0 / static_cast<double>(std::max<std::int64_t>(live, 1)),
        secs);

    // One entity with `events` events, written through its actor in batches of heartbeats.
    auto created = app.create_new_example("long", 1, 2);
    entity_id = created.id;
    auto id = *parse_uuid(entity_id);
    for (int written = 1; written < events;) {
      const int n = std::min(10000, events - written);
      app.beat_heart(id, n);
      written += n;
    }
    const auto closing = Clock::now();
    app.close();
    close_s = std::chrono::duration<double>(Clock::now() - closing).count();
    std::printf("closed with %d live actors in %.2f s\n", static_cast<int>(live), close_s);
  }
  // Reloads: warm (the entity passivated in a running application, which is what a
  // long-running node does) and cold (a new application each time: new threads, whose fresh
  // malloc arenas page-fault their way up, see docs/BENCHMARKS.md). Best of 5 each.
  auto id = *parse_uuid(entity_id);
  auto timed_get = [&](ExampleApplication& app) {
    const auto start = Clock::now();
    auto view = app.get(id);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (view.version != events - 1) {
      std::fprintf(stderr, "unexpected version %lld\n", static_cast<long long>(view.version));
      std::exit(1);
    }
    return ms;
  };
  double reload_ms = 1e9, cold_ms = 1e9;
  {
    ApplicationConfig cfg;
    cfg.stores = redis_stores(pool);
    cfg.passivate_after = std::chrono::milliseconds(100);
    ExampleApplication app(cfg);
    for (int round = 0; round < 6; ++round) {
      const double ms = timed_get(app);
      if (round > 0) reload_ms = std::min(reload_ms, ms);  // round 0 warms the threads
      const auto deadline = Clock::now() + std::chrono::seconds(10);
      while (app.stats().hosted > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (app.stats().hosted > 0) {
        std::fprintf(stderr, "the entity was not passivated within 10 s\n");
        return 1;
      }
    }
    std::printf(
        "entity with %d events reloaded through its actor after passivation in %.2f ms "
        "(best of 5)\n",
        events, reload_ms);
  }
  {
    ApplicationConfig cfg;
    cfg.stores = redis_stores(pool);
    for (int round = 0; round < 5; ++round) {
      ExampleApplication fresh(cfg);
      cold_ms = std::min(cold_ms, timed_get(fresh));
    }
    std::printf("entity with %d events loaded by a new application in %.2f ms (best of 5)\n",
                events, cold_ms);
  }
  const double bare_bytes = bare_actor_bytes(std::min(actors, 100000));
  std::printf("a bare CAF event-based actor with one handler: %.0f bytes of heap\n", bare_bytes);
  const std::string raw = run_redis_benchmark(server.port());
  std::printf("redis-benchmark raw XADD to 10,000 streams on the same server: %s req/s\n",
              raw.c_str());
  std::printf("BENCH actors.live_actors %d actors\n", static_cast<int>(live));
  std::printf("BENCH actors.rss_live_actors %.1f MiB\n", with_actors);
  std::printf(
      "BENCH actors.bytes_per_actor %.0f bytes\n",
      (with_actors - base_rss) * 1048576.0 / static_cast<double>(std::max<std::int64_t>(live, 1)));
  std::printf("BENCH actors.heap_bytes_per_actor %.0f bytes\n", heap_per_actor);
  std::printf("BENCH actors.close_live_actors_s %.2f s\n", close_s);
  std::printf("BENCH actors.caf_bare_actor_bytes %.0f bytes\n", bare_bytes);
  std::printf("BENCH actors.reload_10k_events_ms %.2f ms\n", reload_ms);
  std::printf("BENCH actors.reload_10k_events_cold_ms %.2f ms\n", cold_ms);
  std::printf("BENCH redis.raw_xadd_per_s %s requests/s\n", raw.c_str());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
